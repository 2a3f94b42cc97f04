"""The type-torture data: complete, valid for its columns, and holding every listed trap."""

from __future__ import annotations

import re
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bench.workload.torture_columns import (
    COLUMNS_BY_NAME,
    TORTURE_COLUMNS,
    TortureColumn,
    ValueKind,
    torture_table_ddl,
)
from bench.workload.torture_rows import (
    TORTURE_ROWS,
    TORTURE_ROWS_BY_ID,
    ZERO_DATE,
    TortureValue,
    ZeroDate,
)


def ddl_columns() -> list[str]:
    return re.findall(r"^\s+`(\w+)` ", torture_table_ddl(), flags=re.MULTILINE)


def values_of(name: str) -> list[TortureValue]:
    return [row.values[name] for row in TORTURE_ROWS if row.values[name] is not None]


def test_every_ddl_column_has_a_non_null_value_in_some_row() -> None:
    columns = [name for name in ddl_columns() if name != "id"]
    assert len(columns) == len(TORTURE_COLUMNS) >= 40
    empty = [name for name in columns if not values_of(name)]
    assert empty == []


def test_every_column_but_the_key_is_nullable() -> None:
    ddl = torture_table_ddl()
    for column in TORTURE_COLUMNS:
        assert f"`{column.name}` {column.sql_type} NULL DEFAULT NULL" in ddl
    assert "`id` INT UNSIGNED NOT NULL" in ddl


def test_rows_name_every_column_and_nothing_else() -> None:
    for row in TORTURE_ROWS:
        assert list(row.values) == [column.name for column in TORTURE_COLUMNS]


def test_row_ids_are_unique() -> None:
    assert len(TORTURE_ROWS_BY_ID) == len(TORTURE_ROWS)


def test_every_pair_of_rows_differs() -> None:
    # A rewrite copies one row onto another; identical rows would change nothing, and the
    # workload treats an update that changes no row as a divergence.
    for i, row in enumerate(TORTURE_ROWS):
        for other in TORTURE_ROWS[i + 1:]:
            assert row.values != other.values, (row.name, other.name)


def test_one_row_is_null_in_every_column() -> None:
    assert any(all(v is None for v in row.values.values()) for row in TORTURE_ROWS)


@pytest.mark.parametrize("column", [c for c in TORTURE_COLUMNS if c.kind is ValueKind.INTEGER],
                         ids=lambda c: c.name)
def test_every_integer_type_has_its_minimum_and_maximum(column: TortureColumn) -> None:
    assert column.minimum in values_of(column.name)
    assert column.maximum in values_of(column.name)


def test_integer_extremes_are_the_real_ones() -> None:
    assert COLUMNS_BY_NAME["big_unsigned"].maximum == 18446744073709551615
    assert COLUMNS_BY_NAME["big_signed"].minimum == -9223372036854775808
    assert COLUMNS_BY_NAME["int_unsigned"].maximum == 4294967295
    assert COLUMNS_BY_NAME["medium_signed"].minimum == -8388608


@pytest.mark.parametrize("column", TORTURE_COLUMNS, ids=lambda c: c.name)
def test_every_value_fits_its_column(column: TortureColumn) -> None:
    for value in values_of(column.name):
        assert_fits(column, value)


def assert_fits(column: TortureColumn, value: TortureValue) -> None:
    if isinstance(value, ZeroDate):
        assert column.kind in {ValueKind.DATE, ValueKind.DATETIME, ValueKind.TIMESTAMP}
    elif column.kind in {ValueKind.INTEGER, ValueKind.DECIMAL, ValueKind.FLOAT,
                         ValueKind.DOUBLE, ValueKind.BIT}:
        assert_number_fits(column, value)
    elif column.kind in {ValueKind.DATE, ValueKind.DATETIME, ValueKind.TIMESTAMP,
                         ValueKind.TIME, ValueKind.YEAR}:
        assert_temporal_fits(column, value)
    else:
        assert_string_fits(column, value)


def assert_number_fits(column: TortureColumn, value: TortureValue) -> None:
    if column.kind is ValueKind.INTEGER:
        assert type(value) is int
        assert column.minimum is not None
        assert column.maximum is not None
        assert column.minimum <= value <= column.maximum
    elif column.kind is ValueKind.DECIMAL:
        assert isinstance(value, Decimal)
        digits = value.as_tuple()
        # Full scale: the value carries exactly the column's number of decimal places.
        assert digits.exponent == -(column.scale or 0)
        assert len(digits.digits) <= (column.precision or 0)
    elif column.kind is ValueKind.FLOAT:
        assert isinstance(value, float)
        assert struct.unpack("<f", struct.pack("<f", value))[0] == value, "not exact binary32"
    elif column.kind is ValueKind.DOUBLE:
        assert isinstance(value, float)
    else:
        assert type(value) is int
        assert 0 <= value < 2 ** (column.bits or 0)


def assert_temporal_fits(column: TortureColumn, value: TortureValue) -> None:
    if column.kind is ValueKind.DATETIME:
        assert isinstance(value, datetime)
        assert value.tzinfo is None
        assert value.year >= 1000
    elif column.kind is ValueKind.TIMESTAMP:
        assert isinstance(value, datetime)
        assert value.tzinfo is UTC
        low = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
        high = datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=UTC)
        assert low <= value <= high
        assert column.fraction_digits or value.microsecond == 0
    elif column.kind is ValueKind.TIME:
        assert isinstance(value, timedelta)
        assert abs(value) <= timedelta(hours=838, minutes=59, seconds=59)
        assert column.fraction_digits or value.microseconds == 0
    elif column.kind is ValueKind.DATE:
        assert isinstance(value, date)
        assert not isinstance(value, datetime)
    else:
        assert isinstance(value, int)
        assert value == 0 or 1901 <= value <= 2155


def assert_string_fits(column: TortureColumn, value: TortureValue) -> None:
    if column.kind is ValueKind.TEXT:
        assert isinstance(value, str)
        size = len(value.encode()) if column.length_in_bytes else len(value)
        assert size <= (column.max_length or 0)
        if column.fixed_length:
            assert not value.endswith(" "), "CHAR drops trailing spaces on read"
        if "latin1" in column.sql_type:
            value.encode("latin-1")
    elif column.kind is ValueKind.BYTES:
        assert isinstance(value, bytes)
        if column.fixed_length:
            assert len(value) == column.max_length, "BINARY(n) reads back padded to n"
        assert len(value) <= (column.max_length or 0)
    elif column.kind is ValueKind.ENUM:
        assert value in column.members
    elif column.kind is ValueKind.SET:
        assert isinstance(value, frozenset)
        assert value <= set(column.members)
    else:
        assert column.kind is ValueKind.JSON
        assert isinstance(value, dict | list | str)


def test_the_traps_from_the_design_are_all_present() -> None:
    assert 18446744073709551615 in values_of("big_unsigned")
    assert -timedelta(hours=12, minutes=10, seconds=48, microseconds=835870) in values_of(
        "time_6")
    assert -timedelta(hours=838, minutes=59, seconds=59) in values_of("time_value")
    assert datetime(2026, 11, 1, 1, 30) in values_of("datetime_value")
    assert datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC) in values_of("timestamp_value")
    assert datetime(2038, 1, 19, 3, 14, 7, tzinfo=UTC) in values_of("timestamp_value")
    assert 2**64 - 1 in values_of("bit_64")
    assert Decimal("99999999999999999999999999999999999.999999999999999999999999999999") in (
        values_of("decimal_65_30"))


@pytest.mark.parametrize("name", ["date_value", "datetime_value", "datetime_6",
                                  "timestamp_value", "timestamp_6"])
def test_zero_dates_are_a_sentinel_not_null(name: str) -> None:
    assert ZERO_DATE in values_of(name)
    assert ZERO_DATE is not None


def test_strings_hold_emoji_latin1_and_characters_that_break_quoting() -> None:
    text = " ".join(str(v) for c in TORTURE_COLUMNS if c.kind is ValueKind.TEXT
                    for v in values_of(c.name))
    assert any(ord(ch) > 0xFFFF for ch in text), "no 4-byte UTF-8 character"
    assert "\u200d" in text, "no zero-width joiner sequence"
    for needle in ("\\", "'", '"', "\n", "\r\n", "\t"):
        assert needle in text
    latin1 = " ".join(str(v) for v in values_of("varchar_latin1"))
    assert any(0x80 <= ord(ch) <= 0xFF for ch in latin1)


@pytest.mark.parametrize("name", ["binary_16", "varbinary_value", "tinyblob_value",
                                  "blob_value", "mediumblob_value", "longblob_value"])
def test_binary_values_hold_nul_bytes_inside(name: str) -> None:
    assert any(isinstance(v, bytes) and b"\x00" in v.strip(b"\x00") for v in values_of(name))


def test_empty_string_is_distinct_from_null() -> None:
    for column in TORTURE_COLUMNS:
        if column.kind is ValueKind.TEXT:
            assert "" in values_of(column.name), column.name
        if column.kind is ValueKind.BYTES and not column.fixed_length:
            assert b"" in values_of(column.name), column.name
    assert frozenset() in values_of("set_value")


def test_set_and_json_values_are_rich() -> None:
    assert any(isinstance(v, frozenset) and len(v) >= 3 for v in values_of("set_value"))
    documents = [v for v in values_of("json_value") if isinstance(v, dict)]
    nested = [d for d in documents if any(isinstance(v, dict) for v in d.values())]
    assert nested
    assert any(any(ord(ch) > 0xFFFF for ch in repr(d)) for d in nested)


def test_large_values_pass_the_next_length_prefix() -> None:
    assert max(len(v) for v in values_of("mediumblob_value") if isinstance(v, bytes)) > 2**16
    assert max(len(str(v).encode()) for v in values_of("mediumtext_value")) > 2**16
    assert max(len(str(v).encode()) for v in values_of("varchar_utf8mb4")) > 2**8
