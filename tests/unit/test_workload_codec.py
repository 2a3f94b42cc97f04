"""Torture values to SQL parameters and back, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bench.workload.torture_codec import (
    allow_zero_dates,
    format_time_literal,
    from_readback,
    to_sql_param,
)
from bench.workload.torture_columns import COLUMNS_BY_NAME, TORTURE_COLUMNS
from bench.workload.torture_rows import TORTURE_ROWS, ZERO_DATE

COLUMN = COLUMNS_BY_NAME


@pytest.mark.parametrize(("value", "literal"), [
    (-timedelta(hours=12, minutes=10, seconds=48, microseconds=835870), "-12:10:48.835870"),
    (-timedelta(hours=838, minutes=59, seconds=59), "-838:59:59"),
    (timedelta(hours=838, minutes=59, seconds=59), "838:59:59"),
    (-timedelta(microseconds=1), "-00:00:00.000001"),
    (-timedelta(seconds=1), "-00:00:01"),
    (timedelta(0), "00:00:00"),
    (timedelta(days=2, hours=1, microseconds=500), "49:00:00.000500"),
])
def test_time_literals_keep_sign_and_fraction(value: timedelta, literal: str) -> None:
    assert format_time_literal(value) == literal


@pytest.mark.parametrize(("mode", "relaxed"), [
    ("STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
     "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"),
    ("ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
     "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION",
     "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"),
    ("STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,TRADITIONAL",
     "STRICT_TRANS_TABLES,STRICT_ALL_TABLES"),
    ("", ""),
])
def test_only_the_zero_date_checks_are_lifted(mode: str, relaxed: str) -> None:
    assert allow_zero_dates(mode) == relaxed


def test_zero_dates_become_the_zero_literal_of_their_type() -> None:
    assert to_sql_param(COLUMN["date_value"], ZERO_DATE) == "0000-00-00"
    assert to_sql_param(COLUMN["datetime_6"], ZERO_DATE) == "0000-00-00 00:00:00"
    assert to_sql_param(COLUMN["timestamp_value"], ZERO_DATE) == "0000-00-00 00:00:00"
    with pytest.raises(ValueError, match="zero date"):
        to_sql_param(COLUMN["varchar_utf8mb4"], ZERO_DATE)


def test_timestamps_are_written_as_utc_wall_clock() -> None:
    new_york_summer = timezone(timedelta(hours=-4))
    instant = datetime(2026, 11, 1, 1, 30, 0, 5, tzinfo=new_york_summer)
    assert to_sql_param(COLUMN["timestamp_6"], instant) == "2026-11-01 05:30:00.000005"


def test_a_naive_timestamp_or_an_aware_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_sql_param(COLUMN["timestamp_6"], datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="no time zone"):
        to_sql_param(COLUMN["datetime_6"], datetime(2026, 1, 1, tzinfo=UTC))


def test_values_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        to_sql_param(COLUMN["big_unsigned"], "18446744073709551615")
    with pytest.raises(ValueError, match="does not fit"):
        to_sql_param(COLUMN["decimal_19_4"], 1.5)
    with pytest.raises(ValueError, match="does not fit"):
        to_sql_param(COLUMN["bit_1"], True)


def test_set_and_json_are_written_as_text() -> None:
    assert to_sql_param(COLUMN["set_value"], frozenset({"wire", "card"})) == "card,wire"
    assert to_sql_param(COLUMN["set_value"], frozenset()) == ""
    assert to_sql_param(COLUMN["json_value"], {"k": "ü💳"}) == '{"k": "ü💳"}'


def test_every_torture_value_can_be_written() -> None:
    for row in TORTURE_ROWS:
        for column in TORTURE_COLUMNS:
            value = row.values[column.name]
            param = to_sql_param(column, value)
            assert (param is None) == (value is None)


def test_readback_maps_the_servers_zero_date_text_to_the_sentinel() -> None:
    assert from_readback(COLUMN["date_value"], "0000-00-00") is ZERO_DATE
    assert from_readback(COLUMN["datetime_6"], "0000-00-00 00:00:00.000000") is ZERO_DATE
    assert from_readback(COLUMN["timestamp_value"], "0000-00-00 00:00:00") is ZERO_DATE


def test_readback_of_other_values() -> None:
    assert from_readback(COLUMN["bit_64"], b"\xff" * 8) == 2**64 - 1
    assert from_readback(COLUMN["bit_1"], b"\x01") == 1
    assert from_readback(COLUMN["timestamp_6"], datetime(2038, 1, 19, 3, 14, 7)) == (
        datetime(2038, 1, 19, 3, 14, 7, tzinfo=UTC))
    assert from_readback(COLUMN["set_value"], "card,sepa") == frozenset({"card", "sepa"})
    assert from_readback(COLUMN["set_value"], "") == frozenset()
    assert from_readback(COLUMN["json_value"], '{"a": [1, null]}') == {"a": [1, None]}
    assert from_readback(COLUMN["decimal_19_4"], Decimal("1.0000")) == Decimal("1.0000")
    assert from_readback(COLUMN["date_value"], date(2024, 2, 29)) == date(2024, 2, 29)
    assert from_readback(COLUMN["varchar_utf8mb4"], None) is None


def test_readback_refuses_what_the_column_cannot_hold() -> None:
    with pytest.raises(ValueError, match="date_value"):
        from_readback(COLUMN["date_value"], "2024-13-45")
    with pytest.raises(ValueError, match="big_unsigned"):
        from_readback(COLUMN["big_unsigned"], Decimal(5))
    with pytest.raises(ValueError, match="varbinary_value"):
        from_readback(COLUMN["varbinary_value"], "text, not bytes")
