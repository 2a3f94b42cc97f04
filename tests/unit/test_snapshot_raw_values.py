"""The snapshot's fused encoding: rows straight from the driver's values give exactly the bytes
``RowCodec`` writes for their canonical values, for every column family, and refuse exactly
what that refuses.

Each family draws a canonical value and the raw value the server and mysqlclient send for it
(written here independently of the code under test: the server's text, ``int``/``float`` for
numbers, microseconds for TIMESTAMP as its SELECT expression returns them)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdc.avro.binary import write_long
from cdc.avro.row_schema import row_codec
from cdc.changes import Column, Row, TableSchema
from cdc.errors import TypeMappingError
from cdc.snapshot.chunk_file import decode_chunk, encode_batches, encode_chunk
from cdc.snapshot.raw_values import batch_encoder, canonical_encoder, long_bytes
from cdc.snapshot.text_values import (
    MAX_TIMESTAMP_US,
    converter_for,
    select_expression,
    timestamp_from_micros,
)
from cdc.snapshot.workers import _KeyRange
from cdc.values import ZERO_DATETIME, ZeroDate, ZeroDateTime

UTF8 = "utf8mb4"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXACT = Context(prec=100)
MEMBERS = ("a", "bc", "ü", "💳")  # in declaration order
Case = tuple[Any, Any]
"""(canonical value, raw value as the driver returns it)."""


# --- the server's text, written independently ---------------------------------------------------


def decimal_case(precision: int, scale: int, unscaled: int) -> Case:
    canonical = Decimal(unscaled).scaleb(-scale, EXACT)
    digits = str(abs(unscaled)).rjust(scale + 1, "0")
    text = digits if not scale else f"{digits[:-scale]}.{digits[-scale:]}"
    return canonical, (("-" if unscaled < 0 else "") + text).encode()


def date_text(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


def datetime_text(parts: tuple[int, ...], scale: int) -> bytes:
    year, month, day, hour, minute, second, micro = parts
    text = f"{date_text(year, month, day)} {hour:02d}:{minute:02d}:{second:02d}"
    if scale:
        text += "." + f"{micro:06d}"[:scale]
    return text.encode()


def truncate(micro: int, scale: int) -> int:
    step: int = 10 ** (6 - scale)
    return micro - micro % step


def time_text(value: timedelta, scale: int) -> bytes:
    sign = "-" if value < timedelta(0) else ""
    magnitude = abs(value)
    seconds = magnitude.days * 86_400 + magnitude.seconds
    text = f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if scale:
        text += "." + f"{magnitude.microseconds:06d}"[:scale]
    return text.encode()


# --- strategies: (canonical, raw) per family ----------------------------------------------------


def same(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Case]:
    return values.map(lambda value: (value, value))


def integers(bits: int, *, unsigned: bool) -> st.SearchStrategy[Case]:
    low, high = (0, (1 << bits) - 1) if unsigned else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return same(st.one_of(st.integers(low, high), st.sampled_from([low, high, 0, 63, 64, -64])
                          .filter(lambda v: low <= v <= high)))


def decimals(precision: int, scale: int) -> st.SearchStrategy[Case]:
    limit = 10**precision - 1
    unscaled = st.one_of(st.integers(-limit, limit), st.sampled_from([limit, -limit, 0, 1, -1]))
    return unscaled.map(lambda u: decimal_case(precision, scale, u))


@st.composite
def real_or_zero_date(draw: st.DrawFn) -> tuple[int, int, int]:
    if draw(st.booleans()):
        day = draw(st.dates(min_value=date(1, 1, 1)))
        return day.year, day.month, day.day
    return draw(st.tuples(st.integers(0, 9999), st.integers(0, 12), st.integers(0, 31)))


def date_case(parts: tuple[int, int, int]) -> Case:
    try:
        canonical: date | ZeroDate = date(*parts)
    except ValueError:
        canonical = ZeroDate(*parts)
    return canonical, date_text(*parts).encode()


@st.composite
def datetimes(draw: st.DrawFn, scale: int) -> Case:
    year, month, day = draw(real_or_zero_date())
    hour, minute, second = draw(st.tuples(st.integers(0, 23), st.integers(0, 59),
                                          st.integers(0, 59)))
    micro = truncate(draw(st.one_of(st.integers(0, 999_999), st.sampled_from([0, 1, 999_999]))),
                     scale)
    parts = (year, month, day, hour, minute, second, micro)
    try:
        canonical: datetime | ZeroDateTime = datetime(*parts)
    except ValueError:
        canonical = ZeroDateTime(*parts)
    return canonical, datetime_text(parts, scale)


def timestamps(scale: int) -> st.SearchStrategy[Case]:
    first, last = 1_000_000, 2_147_483_647_999_999  # 1970-01-01 00:00:01 to 2038-01-19 03:14:07
    micros = st.one_of(st.integers(first, last), st.sampled_from([first, last, 0, 2**41, 2**55]))

    def case(value: int) -> Case:
        value = truncate(value, scale)
        return (ZERO_DATETIME if value == 0 else EPOCH + timedelta(microseconds=value)), value

    return micros.map(case)


def times(scale: int) -> st.SearchStrategy[Case]:
    limit = (838 * 3600 + 59 * 60 + 59) * 10**6 + 999_999
    micros = st.one_of(st.integers(-limit, limit), st.sampled_from([limit, -limit, 0]))
    return micros.map(lambda us: timedelta(microseconds=(1 if us >= 0 else -1)
                                           * truncate(abs(us), scale))).map(
        lambda value: (value, time_text(value, scale)))


def floats32() -> st.SearchStrategy[Case]:
    return same(st.floats(width=32, allow_nan=False, allow_infinity=False).map(float))


def bits(width: int) -> st.SearchStrategy[Case]:
    size = (width + 7) // 8
    return st.integers(0, (1 << width) - 1).map(lambda v: (v, v.to_bytes(size, "big")))


def sets() -> st.SearchStrategy[Case]:
    return st.frozensets(st.sampled_from(MEMBERS)).map(
        lambda value: (value, ",".join(m for m in MEMBERS if m in value)))


TEXT = st.one_of(st.text(), st.sampled_from(["", "emoji 💳🦄", "NUL\x00inside", "é" * 5000]))
BLOBS = st.one_of(st.binary(), st.sampled_from([b"", b"\x00", b"\x00" * 300, bytes(range(256))]))

FAMILIES: dict[str, tuple[Column, st.SearchStrategy[Case]]] = {
    "tinyint": (Column("c", "tinyint"), integers(8, unsigned=False)),
    "tinyint unsigned": (Column("c", "tinyint", unsigned=True), integers(8, unsigned=True)),
    "smallint": (Column("c", "smallint"), integers(16, unsigned=False)),
    "smallint unsigned": (Column("c", "smallint", unsigned=True), integers(16, unsigned=True)),
    "mediumint": (Column("c", "mediumint"), integers(24, unsigned=False)),
    "mediumint unsigned": (Column("c", "mediumint", unsigned=True), integers(24, unsigned=True)),
    "int": (Column("c", "int"), integers(32, unsigned=False)),
    "int unsigned": (Column("c", "int", unsigned=True), integers(32, unsigned=True)),
    "bigint": (Column("c", "bigint"), integers(64, unsigned=False)),
    "bigint unsigned": (Column("c", "bigint", unsigned=True), integers(64, unsigned=True)),
    "year": (Column("c", "year"), same(st.one_of(st.just(0), st.integers(1901, 2155)))),
    "decimal(19,4)": (Column("c", "decimal", precision=19, scale=4), decimals(19, 4)),
    "decimal(65,30)": (Column("c", "decimal", precision=65, scale=30), decimals(65, 30)),
    "decimal(65,0)": (Column("c", "decimal", precision=65, scale=0), decimals(65, 0)),
    "decimal(4,4)": (Column("c", "decimal", precision=4, scale=4), decimals(4, 4)),
    "decimal(1,0)": (Column("c", "decimal", precision=1, scale=0), decimals(1, 0)),
    "float": (Column("c", "float"), floats32()),
    "double": (Column("c", "double"), same(st.floats(allow_nan=False, allow_infinity=False))),
    "bit(1)": (Column("c", "bit", precision=1), bits(1)),
    "bit(10)": (Column("c", "bit", precision=10), bits(10)),
    "bit(64)": (Column("c", "bit", precision=64), bits(64)),
    "date": (Column("c", "date"), real_or_zero_date().map(date_case)),
    **{f"datetime({s})": (Column("c", "datetime", scale=s), datetimes(s)) for s in range(7)},
    **{f"timestamp({s})": (Column("c", "timestamp", scale=s), timestamps(s)) for s in range(7)},
    **{f"time({s})": (Column("c", "time", scale=s), times(s)) for s in (0, 3, 6)},
    "char": (Column("c", "char", precision=255, charset=UTF8), same(TEXT)),
    "varchar": (Column("c", "varchar", precision=64, charset=UTF8), same(TEXT)),
    "text": (Column("c", "text", charset=UTF8), same(TEXT)),
    "longtext": (Column("c", "longtext", charset=UTF8), same(TEXT)),
    "json": (Column("c", "json", charset=UTF8), same(st.sampled_from(
        ['{"a": [1, 2.5, null], "b": "ü"}', "[]", '"💳"', "1e400"]) | TEXT)),
    "enum": (Column("c", "enum", members=MEMBERS, charset=UTF8),
             same(st.sampled_from(("", *MEMBERS)))),
    "set": (Column("c", "set", members=MEMBERS, charset=UTF8), sets()),
    "binary(16)": (Column("c", "binary", precision=16),
                   same(st.binary(max_size=16).map(lambda b: b.ljust(16, b"\x00")))),
    "varbinary": (Column("c", "varbinary", precision=255), same(BLOBS)),
    "blob": (Column("c", "blob"), same(BLOBS)),
    "longblob": (Column("c", "longblob"), same(BLOBS)),
    "geometry": (Column("c", "geometry"), same(BLOBS)),
}


def table(*columns: Column) -> TableSchema:
    return TableSchema("shop", "raw", 7, columns, ())


def canonical_bytes(column: Column, canonical: object) -> bytes:
    """What ``RowCodec.encode_into`` writes for a one-column row."""
    out = bytearray()
    row_codec(table(column)).encode_into(out, {column.name: canonical})
    return bytes(out)


def fused(column: Column, raws: Sequence[object]) -> list[bytes]:
    return batch_encoder(table(column))([(raw,) for raw in raws])


def assert_canonical(column: Column, canonical: object, raw: object) -> None:
    """The canonical path reads the raw value as the expected canonical value, exactly."""
    value = converter_for(column)(raw)
    assert type(value) is type(canonical), (raw, value)
    assert value == canonical, (raw, value)
    if isinstance(canonical, Decimal):
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == canonical.as_tuple().exponent


# --- every family -------------------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fused_bytes_equal_the_codecs_bytes_of_the_canonical_row(family: str,
                                                                 data: st.DataObject) -> None:
    column, cases = FAMILIES[family]
    batch = data.draw(st.lists(st.one_of(st.none(), cases), max_size=40))
    expected = [canonical_bytes(column, None if case is None else case[0]) for case in batch]
    raws = [None if case is None else case[1] for case in batch]

    assert fused(column, raws) == expected  # the batch at once
    assert [fused(column, [raw])[0] for raw in raws] == expected  # each alone
    for case in batch:
        if case is not None:
            assert_canonical(column, *case)


@pytest.mark.parametrize(("column", "canonical", "raw"), [
    (Column("m", "decimal", precision=65, scale=30),
     Decimal("99999999999999999999999999999999999.999999999999999999999999999999"),
     b"99999999999999999999999999999999999.999999999999999999999999999999"),
    (Column("m", "decimal", precision=65, scale=30),
     Decimal("-99999999999999999999999999999999999.999999999999999999999999999999"),
     b"-99999999999999999999999999999999999.999999999999999999999999999999"),
    (Column("m", "decimal", precision=65, scale=30), Decimal("0E-30"),
     b"0.000000000000000000000000000000"),
    (Column("m", "decimal", precision=65, scale=30), Decimal("-1E-30"),
     b"-0.000000000000000000000000000001"),
    (Column("m", "decimal", precision=19, scale=4), Decimal("-12.3400"), b"-12.3400"),
    (Column("m", "decimal", precision=19, scale=4), Decimal("-0.0001"), b"-0.0001"),
    (Column("m", "decimal", precision=4, scale=4), Decimal("-0.5000"), b"-0.5000"),
    (Column("m", "decimal", precision=5, scale=2), Decimal("-128.00"), b"-128.00"),
    (Column("m", "decimal", precision=5, scale=0), Decimal("-128"), b"-128"),
    (Column("i", "bigint", unsigned=True), 2**64 - 1, 2**64 - 1),
    (Column("i", "bigint", unsigned=True), 2**63, 2**63),
    (Column("i", "bigint"), -(2**63), -(2**63)),
    (Column("d", "date"), ZeroDate(0, 0, 0), b"0000-00-00"),
    (Column("d", "date"), ZeroDate(2020, 0, 15), b"2020-00-15"),
    (Column("d", "date"), ZeroDate(2023, 2, 29), b"2023-02-29"),
    (Column("d", "date"), date(9999, 12, 31), b"9999-12-31"),
    (Column("t", "datetime", scale=0), ZERO_DATETIME, b"0000-00-00 00:00:00"),
    (Column("t", "datetime", scale=6), ZERO_DATETIME, b"0000-00-00 00:00:00.000000"),
    (Column("t", "datetime", scale=3), ZeroDateTime(2024, 0, 15, 10, 0, 0, 500000),
     b"2024-00-15 10:00:00.500"),
    (Column("t", "datetime", scale=3), datetime(2024, 1, 1), b"2024-01-01 00:00:00.000"),
    (Column("t", "datetime", scale=3), datetime(2024, 1, 1, 0, 0, 0, 1000),
     b"2024-01-01 00:00:00.001"),
    (Column("t", "datetime", scale=6), datetime(2026, 3, 8, 2, 30, 0, 1),
     b"2026-03-08 02:30:00.000001"),
    (Column("t", "datetime", scale=0), datetime(9999, 12, 31, 23, 59, 59),
     b"9999-12-31 23:59:59"),
    *[(Column("t", "timestamp", scale=s), ZERO_DATETIME, 0) for s in range(7)],
    *[(Column("t", "timestamp", scale=s),
       datetime(2038, 1, 19, 3, 14, 7, truncate(999_999, s), tzinfo=UTC),
       2_147_483_647_000_000 + truncate(999_999, s)) for s in range(7)],
    (Column("t", "timestamp", scale=0), datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), 1_000_000),
    (Column("t", "time", scale=6), -timedelta(hours=838, minutes=59, seconds=59),
     b"-838:59:59.000000"),
    (Column("t", "time", scale=3), -timedelta(seconds=1, microseconds=500000), b"-00:00:01.500"),
    (Column("s", "varchar", precision=64, charset=UTF8), "emoji 💳🦄", "emoji 💳🦄"),
    (Column("s", "varchar", precision=64, charset=UTF8), "", ""),
    (Column("s", "longtext", charset=UTF8), "💳" * 2000, "💳" * 2000),
    (Column("b", "binary", precision=4), b"ab\x00\x00", b"ab\x00\x00"),
    (Column("b", "blob"), b"\x00" * 5000, b"\x00" * 5000),
    (Column("s", "set", members=("a", "b", "c")), frozenset(), ""),
    (Column("s", "set", members=("a", "b", "c")), frozenset({"a", "c"}), "a,c"),
    (Column("e", "enum", members=("new", "paid")), "", ""),
    (Column("f", "bit", precision=1), 1, b"\x01"),
    (Column("f", "bit", precision=10), 1023, b"\x03\xff"),
    (Column("f", "bit", precision=64), 2**64 - 1, b"\xff" * 8),
    (Column("y", "year"), 0, 0),
    (Column("r", "float"), struct.unpack("<f", struct.pack("<f", 0.1))[0],
     0.10000000149011612),
])
def test_the_edges_of_every_family(column: Column, canonical: object, raw: object) -> None:
    expected = canonical_bytes(column, canonical)
    assert fused(column, [raw]) == [expected]
    assert fused(column, [None, raw, None, raw]) == [b"\x00", expected, b"\x00", expected]
    assert_canonical(column, canonical, raw)


def test_the_zero_timestamp_is_the_epoch_and_is_read_back_as_microseconds() -> None:
    column = Column("t", "timestamp", scale=6)
    assert select_expression(column, "`t`") == "CAST(UNIX_TIMESTAMP(`t`) * 1000000 AS SIGNED)"
    assert timestamp_from_micros(0) is ZERO_DATETIME
    assert timestamp_from_micros(1) == datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert timestamp_from_micros(MAX_TIMESTAMP_US) == datetime.max.replace(tzinfo=UTC)
    assert fused(column, [0]) == [b"\x02\x00"]


# --- every shape the canonical path reads, and every refusal ------------------------------------

_REFUSED = (ValueError, TypeError, AttributeError, OverflowError, struct.error)


def agree(column: Column, raw: object, good: object) -> None:
    """The fused bytes of ``raw`` are the canonical path's, alone and among usual values, or
    both refuse it (the batch naming the column)."""
    try:
        expected: bytes | None = canonical_encoder(column)(raw)
    except _REFUSED:
        expected = None
    for batch, at in (([raw], 0), ([good, None, raw, good], 2)):
        if expected is None:
            with pytest.raises(ValueError, match=f"column '{column.name}'"):
                fused(column, batch)
        else:
            assert fused(column, batch)[at] == expected, raw


ODD_SHAPES: dict[str, tuple[Column, object, st.SearchStrategy[Any]]] = {
    "decimal": (Column("m", "decimal", precision=7, scale=3), b"-1.250", st.one_of(
        st.from_regex(rb"[-+ ]?[0-9_]{0,9}(\.[0-9]{0,5})?[eE ]?[0-9]?", fullmatch=True),
        st.sampled_from([b".500", b"-.500", b"+1.000", b"0001.000", b"1.5", b"1.2345",
                         b"12345.000", b"99999.999", b"-9999.999", b"1e3", b"NaN", b"-",
                         b"", b"1.000\n", b"1.000\n-2.500", b"1_0.000", b" 1.000", "1.000", 1,
                         None]))),
    "decimal(3,0)": (Column("m", "decimal", precision=3, scale=0), b"-12", st.one_of(
        st.from_regex(rb"[-+]?[0-9]{0,5}(\.[0-9]?)?", fullmatch=True),
        st.sampled_from([b"-", b"999", b"-999", b"1000", b"-0", b"007"]))),
    "datetime(6)": (Column("t", "datetime", scale=6), b"2024-01-01 00:00:00.000000", st.one_of(
        st.from_regex(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,7})?)?",
                      fullmatch=True),
        st.sampled_from([b"2024-13-01 00:00:00.000000", b"2024-01-01 24:00:00.000000",
                         b"2024-02-30 00:00:00.000000", b"2024-01-01 00:00:00.5",
                         b"2024-01-01T00:00:00.000000", b"2024-01-01 00:00:00.000000\n",
                         "2024-01-01 00:00:00.000000", b"0000-00-00",
                         b"2024-01-01 00:00:00.000000\n2024-01-01 00:00:00.000000"]))),
    "datetime(0)": (Column("t", "datetime", scale=0), b"2024-01-01 00:00:00", st.from_regex(
        rb"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?",
        fullmatch=True)),
    "date": (Column("d", "date"), b"2024-01-01", st.one_of(
        st.from_regex(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}( 00:00:00)?", fullmatch=True),
        st.sampled_from([b"2024-1-01", b"2024-01-32", b"99999-01-01", b"2024-01-01\n",
                         b"2024-01-01\n2024-01-01"]))),
    "timestamp": (Column("t", "timestamp", scale=6), 1_700_000_000_000_000, st.one_of(
        st.integers(-(2**64), 2**64),
        st.sampled_from([-1, MAX_TIMESTAMP_US, MAX_TIMESTAMP_US + 1, 2**41 - 1, 2**55,
                         b"2024-01-01 00:00:00.000000", b"0000-00-00 00:00:00.000000",
                         "2024-01-01 00:00:00", 1.5, True]))),
    "bigint unsigned": (Column("i", "bigint", unsigned=True), 7, st.one_of(
        st.integers(-(2**70), 2**70), st.sampled_from([2**64, -1, b"7", "7", 7.0, True]))),
    "int": (Column("i", "int"), 7, st.one_of(
        st.integers(-(2**40), 2**40), st.sampled_from([2**31, -(2**31) - 1, b"7", 7.0]))),
    "double": (Column("d", "double"), 0.5, st.sampled_from([1, "0.5", b"0.5", float("nan")])),
    "text": (Column("s", "varchar", precision=64, charset=UTF8), "x", st.one_of(
        st.binary(max_size=8), st.sampled_from([1, "\ud800", b"x"]))),
    "enum": (Column("e", "enum", members=("new", "paid"), charset=UTF8), "new",
             st.one_of(st.text(max_size=5), st.sampled_from([b"new", "New", "new ", 1]))),
    "binary": (Column("b", "blob"), b"x", st.one_of(st.text(max_size=5), st.just(1))),
    "datetime(0) lines": (Column("t", "datetime", scale=0), b"2024-01-01 00:00:00",
                           st.just(b"2024-01-01 00:00:00\n2024-01-01 00:00:00")),
    "set": (Column("s", "set", members=("a", "b")), "a", st.one_of(
        st.sampled_from(["a,b", "b,a", "a,a", "c", "a,", ",", b"a"]), st.text(max_size=4))),
}


@pytest.mark.parametrize("kind", sorted(ODD_SHAPES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_unusual_values_take_the_canonical_path_or_are_refused_like_it(
        kind: str, data: st.DataObject) -> None:
    column, good, raws = ODD_SHAPES[kind]
    raw = data.draw(raws)
    if raw is None:
        return
    agree(column, raw, good)


@pytest.mark.parametrize(("column", "raw", "problem"), [
    (Column("m", "decimal", precision=5, scale=2), b"12345.67", "does not fit DECIMAL"),
    (Column("m", "decimal", precision=5, scale=2), b"1.234", "does not fit DECIMAL"),
    (Column("m", "decimal", precision=5, scale=2), b"abc", "not a decimal"),
    (Column("t", "datetime", scale=6), b"2024-13-01 00:00:00.000000", "not a MySQL date"),
    (Column("t", "timestamp", scale=6), -5, "not a TIMESTAMP"),
    (Column("i", "bigint", unsigned=True), 2**64, "not a unsigned 64-bit integer"),
    (Column("i", "tinyint"), 128, "not a signed 8-bit integer"),
    (Column("e", "enum", members=("new", "paid")), "lost", "not a member of the ENUM"),
    (Column("s", "varchar", charset=UTF8), b"bytes", "not text"),
])
def test_a_value_that_does_not_fit_is_refused_naming_table_row_and_column(
        column: Column, raw: object, problem: str) -> None:
    schema = TableSchema("shop", "payments", 3, (Column("id", "int", nullable=False), column),
                         ("id",))
    rows: list[tuple[int, object]] = [(index, None) for index in range(1, 600)]
    rows[400] = (401, raw)

    with pytest.raises(TypeMappingError,
                       match=rf"shop\.payments v3, row 401 of the file: "
                             rf"column '{column.name}': .*{problem}"):
        list(encode_batches(schema, rows, batch_encoder(schema), block_rows=100))


# --- whole rows and files -----------------------------------------------------------------------

TORTURE = table(*(Column(f"c{index}", column.type, column.unsigned, column.precision,
                         column.scale, column.charset, column.members)
                  for index, (column, _) in enumerate(FAMILIES[name] for name in sorted(FAMILIES))))


@st.composite
def torture_rows(draw: st.DrawFn) -> list[tuple[Row, tuple[object, ...]]]:
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        cases = [draw(st.one_of(st.none(), FAMILIES[name][1])) for name in sorted(FAMILIES)]
        rows.append(({column.name: None if case is None else case[0]
                      for column, case in zip(TORTURE.columns, cases, strict=True)},
                     tuple(None if case is None else case[1] for case in cases)))
    return rows


@settings(max_examples=30, deadline=None)
@given(torture_rows())
def test_whole_rows_of_every_family_encode_and_decode_exactly(
        rows: list[tuple[Row, tuple[object, ...]]]) -> None:
    codec = row_codec(TORTURE)
    canonical = [row for row, _ in rows]
    raw = [values for _, values in rows]

    assert batch_encoder(TORTURE)(raw) == [codec.encode(row) for row in canonical]
    chunks = list(encode_batches(TORTURE, raw, batch_encoder(TORTURE), block_rows=5,
                                 batch_rows=3))
    assert list(decode_chunk(TORTURE, chunks, "raw.avro")) == canonical
    blocks = list(encode_chunk(TORTURE, canonical, block_rows=5))
    assert len(chunks) == len(blocks)  # the same blocks, whatever the batch size


def test_rows_of_the_wrong_width_are_refused() -> None:
    schema = table(Column("a", "int"), Column("b", "int"))
    with pytest.raises(ValueError, match="the row has 1 values, the schema 2 columns"):
        batch_encoder(schema)([(1,)])
    with pytest.raises(ValueError, match="different numbers of values"):
        batch_encoder(schema)([(1, 2), (1,)])
    assert batch_encoder(schema)([]) == []


# --- varints and keys ---------------------------------------------------------------------------


@given(st.one_of(st.integers(-(2**63), 2**63 - 1),
                 st.sampled_from([0, -1, 63, 64, -65, 8191, 8192, 2**41, 2**55, 2**56])))
def test_long_bytes_are_write_longs(value: int) -> None:
    out = bytearray()
    write_long(out, value)
    assert long_bytes(value) == bytes(out)


def test_long_bytes_refuse_what_is_not_a_long() -> None:
    with pytest.raises(ValueError, match="does not fit an Avro long"):
        long_bytes(2**63)


def test_the_first_and_last_keys_are_the_canonical_values_of_the_raw_rows() -> None:
    schema = TableSchema("shop", "t", 1, (
        Column("paid_at", "timestamp", scale=6, nullable=False), Column("note", "text"),
        Column("amount", "decimal", precision=10, scale=2, nullable=False)),
        ("paid_at", "amount"))
    reported: list[int] = []
    keys = _KeyRange(schema, reported.append)
    rows = [(0, "zero", b"-0.50"), (1_700_000_000_000_001, None, b"12.00")]

    assert list(keys.wrap(rows)) == rows
    assert keys.rows == 2
    assert sum(reported) == 2
    assert keys.first == ["0000-00-00 00:00:00", "-0.50"]
    assert keys.last == ["2023-11-14T22:13:20.000001+00:00", "12.00"]
