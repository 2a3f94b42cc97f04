"""Canonical values: zero-date objects, canonical_row's checks, and the JSON form."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cdc.changes import Column
from cdc.errors import TypeMappingError
from cdc.values import (
    ZERO_DATE,
    ZERO_DATETIME,
    ZeroDate,
    ZeroDateTime,
    canonical_row,
    date_or_zero,
    datetime_or_zero,
    mysql_json_text,
    time_text,
    to_json_value,
)


def test_zero_dates_keep_their_parts_and_text() -> None:
    assert ZERO_DATE.text == "0000-00-00"
    assert ZeroDate(2020, 0, 15).text == "2020-00-15"
    assert ZERO_DATETIME.text == "0000-00-00 00:00:00"
    assert ZeroDateTime(2020, 1, 0, 10, 0, 0, 123456).text == "2020-01-00 10:00:00.123456"


def test_a_real_date_is_never_a_zero_date() -> None:
    with pytest.raises(ValueError, match="real date"):
        ZeroDate(2020, 1, 15)
    with pytest.raises(ValueError, match="real date"):
        ZeroDateTime(2020, 1, 15)
    with pytest.raises(ValueError, match="not a MySQL date"):
        ZeroDate(2020, 13, 0)
    assert date_or_zero(2020, 1, 15) == date(2020, 1, 15)
    assert date_or_zero(2020, 2, 30) == ZeroDate(2020, 2, 30)
    assert datetime_or_zero(0, 0, 0) == ZERO_DATETIME


def test_time_text() -> None:
    assert time_text(-timedelta(hours=12, minutes=10, seconds=48, microseconds=835870)) == (
        "-12:10:48.835870")
    assert time_text(timedelta(hours=838, minutes=59, seconds=59)) == "838:59:59"
    assert time_text(-timedelta(microseconds=1)) == "-00:00:00.000001"
    assert time_text(timedelta(0)) == "00:00:00"


COLUMNS = (
    Column("id", "bigint", unsigned=True, nullable=False),
    Column("amount", "decimal", precision=19, scale=4),
    Column("flags", "bit", precision=9),
    Column("methods", "set", members=("card", "sepa"), charset="utf8mb4"),
    Column("created", "timestamp", scale=6),
    Column("doc", "json", charset="utf8mb4"),
    Column("note", "varchar", precision=20, charset="utf8mb4"),
)


def _row(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "id": 18446744073709551615,
        "amount": Decimal("-1.5000"),
        "flags": "100000001",
        "methods": {"card"},
        "created": datetime(2026, 1, 1, tzinfo=UTC),
        "doc": '{"a": 1}',
        "note": "",
    }
    values.update(overrides)
    return values


def test_canonical_row_converts_library_values() -> None:
    row = canonical_row(COLUMNS, _row(), {})
    assert row == {
        "id": 18446744073709551615,
        "amount": Decimal("-1.5000"),
        "flags": 257,
        "methods": frozenset({"card"}),
        "created": datetime(2026, 1, 1, tzinfo=UTC),
        "doc": '{"a": 1}',
        "note": "",
    }
    assert list(row) == [column.name for column in COLUMNS]
    assert isinstance(row["methods"], frozenset)


def test_null_and_the_empty_set_are_different() -> None:
    row = canonical_row(COLUMNS, _row(methods=None, note=None),
                        {"methods": "empty set", "note": "null"})
    assert row["methods"] == frozenset()
    assert row["note"] is None


def test_decimal_gets_exactly_its_scale() -> None:
    assert canonical_row(COLUMNS, _row(amount=Decimal("2.5")), {})["amount"].as_tuple() == (
        Decimal("2.5000").as_tuple())
    assert str(canonical_row(COLUMNS, _row(amount=Decimal("-0.0000")), {})["amount"]) == "0.0000"
    with pytest.raises(TypeMappingError, match="does not fit scale 4"):
        canonical_row(COLUMNS, _row(amount=Decimal("0.00001")), {})
    wide = (Column("d", "decimal", precision=65, scale=30),)
    largest = Decimal("99999999999999999999999999999999999.99999999999999999999999999999")
    assert str(canonical_row(wide, {"d": largest}, {})["d"]) == str(largest) + "0"


@pytest.mark.parametrize(("overrides", "sources", "message"), [
    ({"note": b"bytes"}, {}, "'note' .*expected text"),
    ({"created": datetime(2026, 1, 1)}, {}, "'created' .*aware UTC"),
    ({"created": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))}, {}, "UTC"),
    ({"flags": 1 << 9}, {}, "does not fit BIT"),
    ({"id": True}, {}, "expected an int"),
    ({"id": None}, {"id": "null"}, "NOT NULL"),
    ({"note": None}, {"note": "cols bitmap"}, "binlog_row_image=FULL"),
    ({"note": None}, {"note": "out of date range"}, "library_fixes"),
])
def test_values_that_cannot_be_carried_exactly_are_refused(
        overrides: dict[str, object], sources: dict[str, str], message: str) -> None:
    with pytest.raises(TypeMappingError, match=message) as caught:
        canonical_row(COLUMNS, _row(**overrides), sources)
    assert "hint" in str(caught.value) or caught.value.hint


def test_a_row_that_does_not_match_the_table_map_is_refused() -> None:
    values = _row()
    del values["note"]
    with pytest.raises(TypeMappingError, match="6 values"):
        canonical_row(COLUMNS, values, {})
    values["other"] = 1
    with pytest.raises(TypeMappingError, match="'note' is missing"):
        canonical_row(COLUMNS, values, {})


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(TypeMappingError, match="unsupported type 'vector'"):
        canonical_row((Column("v", "vector"),), {"v": b""}, {})


def test_mysql_binary_json_becomes_canonical_text() -> None:
    document = {b"a": [1, 2.5, True, None, b"z\xc3\xab"], b"big": 18446744073709551615,
                b"d": Decimal("1.50"), b"when": datetime(2020, 1, 2, 3, 4, 5)}
    text = mysql_json_text(document)
    assert text == ('{"a": [1, 2.5, true, null, "zë"], "big": 18446744073709551615, '
                    '"d": 1.50, "when": "2020-01-02 03:04:05.000000"}')
    assert json.loads(text)["a"][4] == "zë"
    column = (Column("doc", "json", charset="utf8mb4"),)
    assert canonical_row(column, {"doc": document}, {})["doc"] == text


def test_json_form_of_every_canonical_type() -> None:
    values: list[tuple[object, object]] = [
        (None, None),
        (-7, -7),
        (Decimal("-0.0001"), "-0.0001"),
        (1.5, 1.5),
        ("Zoë 💳", "Zoë 💳"),
        (b"\x00\xff", {"base64": "AP8="}),
        (date(2020, 1, 15), "2020-01-15"),
        (datetime(2020, 1, 15, 10, 0, 0, 5), "2020-01-15T10:00:00.000005"),
        (datetime(2020, 1, 15, 10, 0, tzinfo=UTC), "2020-01-15T10:00:00+00:00"),
        (-timedelta(hours=12, minutes=10, seconds=48, microseconds=835870), "-12:10:48.835870"),
        (frozenset({"sepa", "card"}), ["card", "sepa"]),
        (frozenset(), []),
        (2**53, 2**53),
        (18446744073709551615, "18446744073709551615"),
        (-(2**63), "-9223372036854775808"),
        (ZeroDate(2020, 0, 15), "2020-00-15"),
        (ZERO_DATETIME, "0000-00-00 00:00:00"),
    ]
    for value, expected in values:
        assert to_json_value(value) == expected
        json.dumps(to_json_value(value))
    with pytest.raises(TypeError):
        to_json_value(object())
