"""Property tests: generated values of every column type survive encode_record/decode_record
exactly (same Python type, same bits, same Decimal exponent, same zone), under UTC and under a
zone with daylight saving time, since fastavro reads naive datetimes as host-local time.
"""

from __future__ import annotations

import io
import math
import os
import struct
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from cdc.avro import envelope as envelope_module
from cdc.avro.codec import decode_record, encode_key, encode_record
from cdc.avro.envelope import (
    ENVELOPE_V2_HEADER,
    PARSED_ENVELOPE_V2,
    encode_envelope,
    encode_envelope_in_python,
)
from cdc.avro.row_schema import avro_field_names, avro_key_schema, avro_row_schema, row_codec
from cdc.changes import ChangeRecord, Column, Operation, Row, SourcePosition, TableSchema
from cdc.values import TIME_LIMIT, ZERO_DATE, ZERO_DATETIME, ZeroDate, ZeroDateTime

ZONES = ("UTC", "America/New_York")


@pytest.fixture(scope="module", params=ZONES, autouse=True)
def host_time_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    zone: str = request.param
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    winter = datetime(2026, 1, 15, 12).astimezone().utcoffset()
    assert winter == (timedelta(0) if zone == "UTC" else timedelta(hours=-5)), (
        f"the host does not know the time zone {zone}")
    yield zone
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


# --- values per column type ---------------------------------------------------------------------

INTEGER_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "bigint": 64}


def integers(bits: int, *, unsigned: bool) -> st.SearchStrategy[int]:
    low, high = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    edges = st.sampled_from([low, high, 0, 1, -1 if not unsigned else high - 1, low + 1])
    return st.one_of(edges, st.integers(low, high))


def decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    largest = 10**precision - 1
    unscaled = st.one_of(st.sampled_from([largest, -largest, 0, 1, -1]),
                         st.integers(-largest, largest))
    # Built from its digits: Decimal arithmetic would round to the context's 28 digits.
    return unscaled.map(lambda n: Decimal((int(n < 0), tuple(int(d) for d in str(abs(n))),
                                           -scale)))


def dates() -> st.SearchStrategy[date | ZeroDate]:
    zero = st.builds(ZeroDate, st.integers(0, 9999), st.just(0), st.integers(0, 31))
    return st.one_of(st.just(ZERO_DATE), zero, st.dates(date(1, 1, 1), date(9999, 12, 31)))


def datetimes_wall_clock() -> st.SearchStrategy[datetime | ZeroDateTime]:
    zero = st.builds(ZeroDateTime, st.integers(0, 9999), st.integers(0, 12), st.just(0),
                     st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
                     st.integers(0, 999_999))
    # Includes the wall-clock times that do not exist or repeat in New York (DST changes).
    dst = st.sampled_from([datetime(2026, 3, 8, 2, 30), datetime(2026, 11, 1, 1, 30, 0, 1)])
    return st.one_of(st.just(ZERO_DATETIME), zero, dst, st.datetimes())


def instants() -> st.SearchStrategy[datetime | ZeroDateTime]:
    aware = st.datetimes(datetime(1970, 1, 1, 0, 0, 1), datetime(2106, 2, 7, 6, 28, 15))
    return st.one_of(st.just(ZERO_DATETIME), aware.map(lambda d: d.replace(tzinfo=UTC)))


def times() -> st.SearchStrategy[timedelta]:
    limit = TIME_LIMIT // timedelta(microseconds=1)
    edges = st.sampled_from([
        TIME_LIMIT, -TIME_LIMIT, timedelta(hours=838, minutes=59, seconds=59),
        -timedelta(hours=838, minutes=59, seconds=59),
        -timedelta(hours=12, minutes=10, seconds=48, microseconds=835870),
        -timedelta(microseconds=1), timedelta(0)])
    return st.one_of(edges, st.integers(-limit, limit).map(lambda us: timedelta(microseconds=us)))


TEXT = st.one_of(st.sampled_from(["", "\x00", "💳👨‍👩‍👧", "a\\b'c\"\n", " trailing "]), st.text())
BYTES = st.one_of(st.sampled_from([b"", b"\x00", b"\x00\xff\x00"]), st.binary(max_size=300))
MEMBERS = ("card", "sepa", "ünïcödé ✓", "wire")


def column_kinds() -> dict[str, tuple[Column, st.SearchStrategy[Any]]]:
    kinds: dict[str, tuple[Column, st.SearchStrategy[Any]]] = {}
    for family, bits in INTEGER_BITS.items():
        for unsigned in (False, True):
            name = family + ("_unsigned" if unsigned else "")
            kinds[name] = (Column(name, family, unsigned=unsigned),
                           integers(bits, unsigned=unsigned))
    kinds.update({
        "decimal_65_30": (Column("d", "decimal", precision=65, scale=30), decimals(65, 30)),
        "decimal_19_4": (Column("d", "decimal", precision=19, scale=4), decimals(19, 4)),
        "decimal_10_0": (Column("d", "decimal", precision=10, scale=0), decimals(10, 0)),
        "float": (Column("f", "float"), st.floats(width=32, allow_nan=False,
                                                  allow_infinity=False)),
        "double": (Column("f", "double"), st.floats(allow_nan=False, allow_infinity=False)),
        "bit_1": (Column("b", "bit", precision=1), st.integers(0, 1)),
        "bit_64": (Column("b", "bit", precision=64), integers(64, unsigned=True)),
        "date": (Column("d", "date"), dates()),
        "datetime": (Column("d", "datetime", scale=6), datetimes_wall_clock()),
        "timestamp": (Column("t", "timestamp", scale=6), instants()),
        "time": (Column("t", "time", scale=6), times()),
        "year": (Column("y", "year"), st.one_of(st.just(0), st.integers(1901, 2155))),
        "varchar": (Column("s", "varchar", precision=255, charset="utf8mb4"), TEXT),
        "longtext": (Column("s", "longtext", charset="utf8mb4"), TEXT),
        "json": (Column("j", "json", charset="utf8mb4"), TEXT),
        "binary": (Column("b", "varbinary", precision=255), BYTES),
        "blob": (Column("b", "longblob"), BYTES),
        "enum": (Column("e", "enum", members=MEMBERS, charset="utf8mb4"),
                 st.sampled_from(("", *MEMBERS))),
        "set": (Column("s", "set", members=MEMBERS, charset="utf8mb4"),
                st.frozensets(st.sampled_from(MEMBERS))),
    })
    return kinds


KINDS = column_kinds()
COLUMN_NAMES = st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True),
                         st.sampled_from(["order id", "ünï", "1st", "a-b", "`x`", "列"]))


@st.composite
def tables_and_rows(draw: st.DrawFn) -> tuple[TableSchema, Row, Row]:
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=10))
    names = draw(st.lists(COLUMN_NAMES, min_size=len(kinds), max_size=len(kinds), unique=True))
    columns = []
    strategies = {}
    for kind, name in zip(kinds, names, strict=True):
        column, values = KINDS[kind]
        nullable = draw(st.booleans())
        columns.append(Column(name, column.type, column.unsigned, column.precision,
                              column.scale, column.charset, column.members, nullable))
        strategies[name] = st.one_of(st.none(), values) if nullable else values
    not_null = [c.name for c in columns if not c.nullable]
    key = tuple(draw(st.permutations(not_null))[:draw(st.integers(0, len(not_null)))])
    schema = TableSchema("db", "t", draw(st.integers(1, 3)), tuple(columns), key)
    before = {name: draw(strategy) for name, strategy in strategies.items()}
    after = {name: draw(strategy) for name, strategy in strategies.items()}
    return schema, before, after


def assert_identical(expected: object, actual: object, where: str) -> None:
    """Equal, and the same Python type, bits, Decimal exponent and zone."""
    assert type(actual) is type(expected), f"{where}: {actual!r} is not a {type(expected)}"
    if isinstance(expected, float):
        assert isinstance(actual, float)
        assert struct.pack("<d", actual) == struct.pack("<d", expected), f"{where}: {actual!r}"
        assert math.isfinite(actual)
    elif isinstance(expected, Decimal):
        assert isinstance(actual, Decimal)
        assert actual.as_tuple() == expected.as_tuple(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, datetime):
        assert isinstance(actual, datetime)
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
        assert actual.utcoffset() == expected.utcoffset(), f"{where}: zone of {actual!r}"
        assert (actual.year, actual.hour, actual.microsecond) == (
            expected.year, expected.hour, expected.microsecond), where
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def assert_rows_identical(expected: Row | None, actual: Row | None) -> None:
    assert (expected is None) == (actual is None)
    if expected is None or actual is None:
        return
    assert list(actual) == list(expected)
    for name, value in expected.items():
        assert_identical(value, actual[name], name)


POSITION = SourcePosition("0-1-7", "0-1-7", 1, "mariadb-bin.000001", 4)


@settings(max_examples=300, deadline=None)
@given(tables_and_rows(), st.sampled_from([Operation.INSERT, Operation.UPDATE,
                                           Operation.DELETE]))
def test_rows_round_trip_exactly(case: tuple[TableSchema, Row, Row], operation: Operation
                                 ) -> None:
    schema, before, after = case
    record = ChangeRecord(
        operation=operation, database=schema.database, table=schema.table,
        schema_version=schema.version,
        before=None if operation is Operation.INSERT else before,
        after=None if operation is Operation.DELETE else after,
        statement=None, position=POSITION, commit_time_us=1_700_000_000_000_000,
        transaction_index=3, transaction_last=False,
    )
    decoded = decode_record(encode_record(record, schema), lambda *_: schema)
    assert_rows_identical(record.before, decoded.before)
    assert_rows_identical(record.after, decoded.after)
    assert decoded == record
    key = encode_key(record, schema)
    assert (key is None) == (not schema.primary_key)
    assert key == encode_key(record, schema)


@settings(max_examples=100, deadline=None)
@given(tables_and_rows())
def test_equal_keys_for_equal_key_values(case: tuple[TableSchema, Row, Row]) -> None:
    schema, before, after = case
    same_key = {**after, **{name: before[name] for name in schema.primary_key}}

    def record(image: Row) -> ChangeRecord:
        return ChangeRecord(Operation.INSERT, "db", "t", schema.version, None, image, None,
                            POSITION, 0, 0, True)

    assert encode_key(record(before), schema) == encode_key(record(same_key), schema)


def fastavro_form(column: Column, value: object) -> object:
    """What fastavro must be given to write ``value`` as the row schema describes it."""
    if isinstance(value, ZeroDate | ZeroDateTime):
        return 0 if column.type == "timestamp" else value.text
    if isinstance(value, int) and column.type == "bigint" and column.unsigned:
        return Decimal(value)
    if isinstance(value, int) and column.type == "bit":
        return value.to_bytes(((column.precision or 1) + 7) // 8, "big")
    if isinstance(value, datetime) and column.type == "datetime":
        return value.isoformat(" ")
    if isinstance(value, date) and column.type == "date":
        return value.isoformat()
    if isinstance(value, timedelta):
        return value // timedelta(microseconds=1)
    if isinstance(value, frozenset):
        return [member for member in column.members if member in value]
    return value


@settings(max_examples=200, deadline=None)
@given(tables_and_rows())
def test_bytes_are_standard_avro_that_fastavro_writes_and_reads_alike(
        case: tuple[TableSchema, Row, Row]) -> None:
    schema, before, _ = case
    ours = row_codec(schema).encode(before)
    parsed = parse_schema(avro_row_schema(schema))
    names = avro_field_names(schema.columns)
    record = {name: fastavro_form(column, before[column.name])
              for column, name in zip(schema.columns, names, strict=True)}
    theirs = io.BytesIO()
    schemaless_writer(theirs, parsed, record)
    assert ours == theirs.getvalue()
    read_back = schemaless_reader(io.BytesIO(ours), parsed, None)
    again = io.BytesIO()
    schemaless_writer(again, parsed, read_back)
    assert again.getvalue() == ours
    if schema.primary_key:
        key_columns = tuple(schema.column(name) for name in schema.primary_key)
        key_record: dict[str, object] = {"database": "db", "table": "t"}
        for column, name in zip(key_columns, avro_field_names(key_columns), strict=True):
            key_record[f"key_{name}"] = fastavro_form(column, before[column.name])
        key = io.BytesIO()
        schemaless_writer(key, parse_schema(avro_key_schema(schema)), key_record)
        assert row_codec(schema).encode_key(before) == key.getvalue()


@settings(max_examples=100, deadline=None)
@given(text=st.text(), statement=st.one_of(st.none(), st.text()),
       unsigned=st.integers(0, 2**63 - 1), signed=st.integers(-(2**63), 2**63 - 1),
       last=st.booleans(), image=st.binary())
def test_envelope_bytes_are_what_fastavro_writes(*, text: str, statement: str | None,
                                                 unsigned: int, signed: int, last: bool,
                                                 image: bytes) -> None:
    record = ChangeRecord(Operation.DDL, text, text[::-1], signed, None, None, statement,
                          SourcePosition(text, text + "x", unsigned, text, unsigned),
                          signed, unsigned, last)
    schema = TableSchema(text, text[::-1], signed, (Column("b", "blob"),), ())
    with_image = ChangeRecord(Operation.INSERT, text, text[::-1], signed, None, {"b": image},
                              statement, record.position, signed, unsigned, last)
    for candidate in (record, with_image):
        ours = encode_record(candidate, schema if candidate.after else None)
        expected = io.BytesIO()
        expected.write(ENVELOPE_V2_HEADER)
        schemaless_writer(expected, PARSED_ENVELOPE_V2, {
            "operation": candidate.operation.name, "database": candidate.database,
            "table": candidate.table, "schema_version": candidate.schema_version,
            "before": None,
            "after": row_codec(schema).encode(candidate.after) if candidate.after else None,
            "statement": statement, "gtid": text, "gtid_position": text + "x",
            "server_id": unsigned, "binlog_file": text, "binlog_position": unsigned,
            "commit_time_us": signed, "transaction_index": unsigned, "transaction_last": last,
        })
        assert ours == expected.getvalue()


def test_the_zone_fixture_really_changes_what_fastavro_does(host_time_zone: str) -> None:
    # Proof that this module runs under two zones: fastavro turns a naive datetime into
    # host-local time, the trap the codec's representations avoid.
    schema = parse_schema({"type": "long", "logicalType": "timestamp-micros"})
    naive, one_day_in_utc = io.BytesIO(), io.BytesIO()
    schemaless_writer(naive, schema, datetime(1970, 1, 2))
    schemaless_writer(one_day_in_utc, schema, 86_400 * 10**6)
    assert (naive.getvalue() == one_day_in_utc.getvalue()) == (host_time_zone == "UTC")


@settings(max_examples=300, deadline=None)
@given(text=st.text(), statement=st.one_of(st.none(), st.text()),
       unsigned=st.integers(0, 2**63 - 1), signed=st.integers(-(2**63), 2**63 - 1),
       last=st.booleans(), images=st.tuples(st.one_of(st.none(), st.binary()),
                                           st.one_of(st.none(), st.binary())),
       operation=st.sampled_from(list(Operation)))
def test_the_compiled_envelope_is_the_python_one(*, text: str, statement: str | None,
                                                unsigned: int, signed: int, last: bool,
                                                images: tuple[bytes | None, bytes | None],
                                                operation: Operation) -> None:
    assert envelope_module.compiled(), "the compiled module is not built"
    record = ChangeRecord(operation, text, text[::-1], signed, None, None, statement,
                          SourcePosition(text, text + "x", unsigned, text, unsigned),
                          signed, unsigned, last)
    assert encode_envelope(record, *images) == encode_envelope_in_python(record, *images)
