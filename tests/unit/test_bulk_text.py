"""The fused bulk-load encoders: a snapshot block's records straight to COPY text or LOAD DATA
text, equal to what the canonical path (``decode_chunk``, then ``copy_row`` or
``load_data_row``) gives, error for error, for every column family.

The PostgreSQL encoder is held byte for byte to ``copy_row``. The LOAD DATA text is also read
back here by a parser of LOAD DATA's escaping written from the MariaDB manual, and each field
compared with the MySQL literal of the canonical value, computed independently."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.workload.torture_columns import TORTURE_COLUMNS, TortureColumn, ValueKind
from bench.workload.torture_rows import TORTURE_ROWS
from bench.workload.torture_rows import ZeroDate as TortureZeroDate
from cdc.avro.binary import write_long
from cdc.binlog.decoders import MYSQL_LATIN1_DECODING
from cdc.changes import Column, Row, TableSchema
from cdc.errors import CdcError, TypeMappingError
from cdc.snapshot.chunk_file import (
    SYNC_SIZE,
    BlockDecodeError,
    decode_chunk,
    encode_chunk,
    iter_blocks,
)
from cdc.snapshot.errors import SnapshotIntegrityError
from cdc.values import TIME_LIMIT, ZERO_DATE, ZERO_DATETIME, ZeroDate, ZeroDateTime
from replayer.bulk_text import FusedEncoder, encode_blocks, pair_tables, read_long
from replayer.bulk_text_fields import REAL_DATE
from replayer.bulk_text_mysql import (
    check_load_info,
    load_data_row,
    mysql_load_encoder,
    quote_string,
)
from replayer.bulk_text_postgres import field_code, postgres_copy_encoder
from replayer.copy_text_compiled import CopyEncoder
from replayer.postgres_types import copy_row

NAME = "shop.t.0001.avro"
UTF8 = "utf8mb4"
EXACT = Context(prec=100)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MEMBERS = ("a", "bc", "ü", "💳", "t\tab", "back\\slash", "0x")
Format = Callable[[Row], bytes]


# --- canonical values of every family -----------------------------------------------------------


def integers(bits: int, *, unsigned: bool) -> st.SearchStrategy[int]:
    low, high = (0, (1 << bits) - 1) if unsigned else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    # every varint length: the zig-zag numbers change length at 2**(7k - 1)
    edges = [edge for k in range(1, 11) for edge in (1 << (7 * k - 1), -(1 << (7 * k - 1)))]
    edges += [low, high, 0, -1, 1, 63, 64, -64, -65]
    return st.one_of(st.integers(low, high),
                     st.sampled_from([e + d for e in edges for d in (-1, 0, 1)
                                      if low <= e + d <= high]))


def decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    limit = 10**precision - 1
    edges = [limit, -limit, 0, 1, -1, 10**scale, -(10**scale), 2**63, -(2**63), 2**64]
    unscaled = st.one_of(st.integers(-limit, limit),
                         st.sampled_from([edge for edge in edges if abs(edge) <= limit]))
    return unscaled.map(lambda u: Decimal(u).scaleb(-scale, EXACT))


def truncate(micro: int, scale: int) -> int:
    step: int = 10 ** (6 - scale)
    return micro - micro % step


@st.composite
def zero_date_parts(draw: st.DrawFn) -> tuple[int, int, int]:
    parts = draw(st.one_of(st.tuples(st.integers(0, 9999), st.integers(0, 12),
                                     st.integers(0, 31)),
                           st.sampled_from([(0, 0, 0), (2020, 0, 15), (2023, 2, 29),
                                            (2024, 4, 31), (0, 1, 1), (1900, 2, 29)])))
    try:
        date(*parts)
    except ValueError:
        return parts
    return 0, 0, 0


def dates() -> st.SearchStrategy[date | ZeroDate]:
    return st.one_of(st.dates(), zero_date_parts().map(lambda p: ZeroDate(*p)),
                     st.sampled_from([date(2024, 2, 29), date(2000, 2, 29), date(1, 1, 1),
                                      date(9999, 12, 31)]))


@st.composite
def datetimes(draw: st.DrawFn, scale: int) -> datetime | ZeroDateTime:
    micro = truncate(draw(st.one_of(st.integers(0, 999_999), st.sampled_from([0, 1, 999_999]))),
                     scale)
    if draw(st.integers(0, 4)) == 0:
        y, m, d = draw(zero_date_parts())
        return ZeroDateTime(y, m, d, draw(st.integers(0, 23)), draw(st.integers(0, 59)),
                            draw(st.integers(0, 59)), micro)
    return draw(st.datetimes()).replace(microsecond=micro)


def timestamps(scale: int) -> st.SearchStrategy[datetime | ZeroDateTime]:
    micros = st.one_of(st.integers(1, 2**55), st.integers(1, 200),
                       st.sampled_from([1_000_000, 2_147_483_647_999_999, 2**48, 2**48 - 1]))
    instants = micros.map(lambda us: EPOCH + timedelta(microseconds=max(truncate(us, scale),
                                                                        10 ** (6 - scale))))
    return st.one_of(instants, st.just(ZERO_DATETIME))


def times(scale: int) -> st.SearchStrategy[timedelta]:
    limit = TIME_LIMIT // timedelta(microseconds=1)
    micros = st.one_of(st.integers(-limit, limit), st.sampled_from([limit, -limit, 0, 1, -1]),
                       st.integers(-70, 70))
    return micros.map(lambda us: timedelta(microseconds=(1 if us >= 0 else -1)
                                           * truncate(abs(us), scale)))


TEXT = st.one_of(st.text(), st.sampled_from([
    "", "\\N", "\\", "NULL", "N", "a\tb\nc\rd\\e", "NUL\x00inside", "emoji 💳🦄", "é" * 300,
    "x" * 64, "x" * 8191, "\x1a", "'quote\"", "\\\\N\t"]))
LATIN1_TEXT = st.one_of(st.text(alphabet=MYSQL_LATIN1_DECODING),
                        st.sampled_from(["Café crème ½ © ÿ ß €", "\x81\x8d\x8f\x90\x9d", "\\N"]))
BMP_TEXT = st.text(alphabet=st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]))
JSON_TEXT = st.one_of(TEXT, st.sampled_from([
    '{"a": [1, 2.5, null], "b": "ü"}', '"\\u0000"', '"\\\\u0000"', '{"k": "a\\tb"}', "[]"]))
BLOBS = st.one_of(st.binary(), st.sampled_from([
    b"", b"\x00", b"\\N", b"\\", b"\t\n\r\x00\\", bytes(range(256)), b"\x00" * 300]))

FAMILIES: dict[str, tuple[Column, st.SearchStrategy[Any]]] = {
    **{f"{name}{' unsigned' if unsigned else ''}": (
        Column("c", name, unsigned=unsigned), integers(bits, unsigned=unsigned))
       for name, bits in (("tinyint", 8), ("smallint", 16), ("mediumint", 24), ("int", 32),
                          ("bigint", 64)) for unsigned in (False, True)},
    "year": (Column("c", "year"), st.one_of(st.just(0), st.integers(1901, 2155))),
    **{f"decimal({p},{s})": (Column("c", "decimal", precision=p, scale=s), decimals(p, s))
       for p, s in ((19, 4), (65, 30), (65, 0), (4, 4), (1, 0), (10, 2), (38, 10))},
    "float": (Column("c", "float"), st.floats(width=32).map(float)),
    "double": (Column("c", "double"), st.floats()),
    **{f"bit({w})": (Column("c", "bit", precision=w), st.integers(0, (1 << w) - 1))
       for w in (1, 10, 64)},
    "date": (Column("c", "date"), dates()),
    **{f"datetime({s})": (Column("c", "datetime", scale=s), datetimes(s)) for s in range(7)},
    **{f"timestamp({s})": (Column("c", "timestamp", scale=s), timestamps(s)) for s in range(7)},
    **{f"time({s})": (Column("c", "time", scale=s), times(s)) for s in (0, 3, 6)},
    "char": (Column("c", "char", precision=255, charset=UTF8), TEXT),
    "varchar": (Column("c", "varchar", precision=64, charset=UTF8), TEXT),
    "tinytext": (Column("c", "tinytext", charset=UTF8), TEXT),
    "text": (Column("c", "text", charset=UTF8), TEXT),
    "mediumtext": (Column("c", "mediumtext", charset=UTF8), TEXT),
    "longtext": (Column("c", "longtext", charset=UTF8), TEXT),
    "varchar latin1": (Column("c", "varchar", precision=255, charset="latin1"),
                       st.one_of(LATIN1_TEXT, TEXT)),
    "varchar utf8mb3": (Column("c", "varchar", precision=255, charset="utf8mb3"),
                        st.one_of(BMP_TEXT, TEXT)),
    "varchar ascii": (Column("c", "varchar", precision=255, charset="ascii"),
                      st.one_of(st.text(alphabet=st.characters(max_codepoint=127)), TEXT)),
    "text ucs2": (Column("c", "text", charset="ucs2"), st.one_of(BMP_TEXT, TEXT)),
    "text utf16": (Column("c", "text", charset="utf16"), TEXT),
    "text utf16le": (Column("c", "text", charset="utf16le"), TEXT),
    "text utf32": (Column("c", "text", charset="utf32"), TEXT),
    "json": (Column("c", "json", charset=UTF8), JSON_TEXT),
    "enum": (Column("c", "enum", members=MEMBERS, charset=UTF8),
             st.sampled_from(("", *MEMBERS))),
    "enum with a member 0": (Column("c", "enum", members=("0", "1"), charset=UTF8),
                             st.sampled_from(("", "0", "1"))),
    "enum latin1": (Column("c", "enum", members=("Café", "ÿ"), charset="latin1"),
                    st.sampled_from(("", "Café", "ÿ"))),
    "set": (Column("c", "set", members=MEMBERS, charset=UTF8), st.frozensets(
        st.sampled_from(MEMBERS))),
    "set latin1": (Column("c", "set", members=("Café", "ÿ", "x"), charset="latin1"),
                   st.frozensets(st.sampled_from(("Café", "ÿ", "x")))),
    "binary(16)": (Column("c", "binary", precision=16),
                   st.binary(max_size=16).map(lambda b: b.ljust(16, b"\x00"))),
    "varbinary": (Column("c", "varbinary", precision=255), BLOBS),
    "tinyblob": (Column("c", "tinyblob"), BLOBS),
    "blob": (Column("c", "blob"), BLOBS),
    "mediumblob": (Column("c", "mediumblob"), BLOBS),
    "longblob": (Column("c", "longblob"), BLOBS),
    "geometry": (Column("c", "geometry"), BLOBS),
}


def table(*columns: Column) -> TableSchema:
    return TableSchema("shop", "t", 3, columns, ())


def file_of(schema: TableSchema, rows: Iterable[Row], *, block_rows: int = 7,
            codec: str = "zstandard") -> list[bytes]:
    return list(encode_chunk(schema, rows, block_rows=block_rows, codec=codec))


def reference(schema: TableSchema, chunks: list[bytes], format_row: Format) -> bytes | CdcError:
    """What a restore reading ``decode_chunk`` gets: the lines, or the first error."""
    lines = []
    try:
        for row in decode_chunk(schema, chunks, NAME):
            lines.append(format_row(row))
    except CdcError as exc:
        return exc
    return b"".join(lines)


def fused(schema: TableSchema, chunks: list[bytes], encoder: Callable[[int, bytes], bytes]
          ) -> bytes | CdcError:
    try:
        return b"".join(encode_blocks(iter_blocks(schema, chunks, NAME), encoder))
    except CdcError as exc:
        return exc


def assert_same(expected: bytes | CdcError, found: bytes | CdcError) -> None:
    if isinstance(expected, CdcError):
        assert type(found) is type(expected), found
        assert str(found) == str(expected)
    else:
        assert found == expected


def postgres_format(schema: TableSchema) -> Format:
    return lambda row: copy_row(schema, row).encode("utf-8")


def mysql_format(schema: TableSchema) -> Format:
    return lambda row: load_data_row(schema, row)


def assert_fast_path_used(encoder: Any, schema: TableSchema, chunks: list[bytes]) -> None:
    """Every block the canonical path accepts is the fast path's too (unusual JSON aside);
    for PostgreSQL, that of the Python fused encoder behind the compiled one
    (test_copy_text_compiled has the compiled path's own)."""
    if isinstance(encoder, CopyEncoder):
        encoder = encoder.fallback
    assert isinstance(encoder, FusedEncoder)
    for count, data in iter_blocks(schema, chunks, NAME):
        if b"\\u0000" in data:
            continue  # JSON holding \u0000 (or \\u0000) goes the canonical way
        try:
            expected = encoder.canonical(count, data)
        except (TypeMappingError, BlockDecodeError):
            continue
        assert encoder.fast(count, data) == expected


# --- LOAD DATA text read back, from the MariaDB manual ------------------------------------------

_UNESCAPE = {b"0": b"\x00", b"b": b"\b", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"Z": b"\x1a"}


def load_data_fields(text: bytes) -> list[list[bytes | None]]:
    """LOAD DATA's reading of lines ending in newlines, fields ending in tabs, ESCAPED BY '\\':
    a field that is exactly ``\\N`` is NULL; ``\\`` followed by 0 b n r t Z is that character,
    followed by anything else is that thing itself."""
    assert text.endswith(b"\n") or not text
    rows = []
    for line in text.split(b"\n")[:-1]:
        fields: list[bytes | None] = []
        for raw in line.split(b"\t"):
            if raw == b"\\N":
                fields.append(None)
                continue
            out = bytearray()
            index = 0
            while index < len(raw):
                byte = raw[index:index + 1]
                if byte == b"\\":
                    following = raw[index + 1:index + 2]
                    assert following, "an escape character at the end of a field"
                    out += _UNESCAPE.get(following, following)
                    index += 2
                else:
                    out += byte
                    index += 1
            fields.append(bytes(out))
        rows.append(fields)
    return rows


_TIME = re.compile(r"(-)?(\d+):(\d\d):(\d\d)(?:\.(\d{6}))?")
_CHARSET_CODECS = {"utf8mb4": "utf-8", "utf8mb3": "utf-8", "ascii": "ascii",
                   "ucs2": "utf-16-be", "utf16": "utf-16-be", "utf16le": "utf-16-le",
                   "utf32": "utf-32-be"}


def decode_text(column: Column, raw: bytes) -> str:
    charset = column.charset or UTF8
    if charset == "latin1":
        return "".join(MYSQL_LATIN1_DECODING[byte] for byte in raw)
    return raw.decode(_CHARSET_CODECS[charset])


def assert_mysql_field(column: Column, raw: bytes | None, value: object) -> None:
    """The field LOAD DATA reads is the source's value, in MySQL's own literal forms."""
    if value is None:
        assert raw is None
        return
    assert raw is not None
    family = column.type
    if family in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                  "geometry"):
        assert raw == value
        return
    if family == "bit":
        assert len(raw) == ((column.precision or 64) + 7) // 8
        assert int.from_bytes(raw, "big") == value
        return
    if family in ("enum", "set", "char", "varchar", "tinytext", "text", "mediumtext",
                  "longtext", "json"):
        text = decode_text(column, raw)
        if family == "set":
            assert (frozenset(text.split(",")) if text else frozenset()) == value
        else:
            assert text == value
        return
    text = raw.decode("ascii")
    if family == "year":
        assert text == ("0000" if value == 0 else str(value))
    elif family in ("tinyint", "smallint", "mediumint", "int", "bigint"):
        assert text == str(value)
    elif family == "decimal":
        assert isinstance(value, Decimal)
        assert "E" not in text.upper()
        assert Decimal(text) == value
        assert len(text.partition(".")[2]) == (column.scale or 0)
    elif family in ("float", "double"):
        assert float(text) == value
        assert repr(float(text)) == text
    elif family == "date":
        assert isinstance(value, date | ZeroDate)
        assert text == (value.text if isinstance(value, ZeroDate) else value.isoformat())
    elif family == "datetime":
        assert isinstance(value, datetime | ZeroDateTime)
        assert text == (value.text if isinstance(value, ZeroDateTime)
                        else value.isoformat(" "))
    elif family == "timestamp":
        if value == ZERO_DATETIME:
            assert text == "0000-00-00 00:00:00"
        else:
            assert datetime.fromisoformat(text).replace(tzinfo=UTC) == value
    elif family == "time":
        match = _TIME.fullmatch(text)
        assert match is not None, text
        sign, hours, minutes, seconds, fraction = match.groups()
        parsed = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds),
                           microseconds=int(fraction or 0))
        assert (-parsed if sign else parsed) == value
    else:
        raise AssertionError(f"no oracle for {family}")


def assert_load_data_reads_back(schema: TableSchema, text: bytes, rows: list[Row]) -> None:
    read = load_data_fields(text)
    assert len(read) == len(rows)
    for fields, row in zip(read, rows, strict=True):
        assert len(fields) == len(schema.columns)
        for column, raw in zip(schema.columns, fields, strict=True):
            assert_mysql_field(column, raw, row[column.name])


# --- every family -------------------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_family_is_copy_row_and_load_data_row_exactly(family: str,
                                                           data: st.DataObject) -> None:
    column, values = FAMILIES[family]
    nullable = data.draw(st.booleans())
    column = Column(column.name, column.type, column.unsigned, column.precision, column.scale,
                    column.charset, column.members, nullable)
    schema = table(Column("id", "int", nullable=False), column)
    batch = data.draw(st.lists(st.one_of(st.none(), values) if nullable else values,
                               min_size=1, max_size=30))
    rows = [{"id": index, "c": value} for index, value in enumerate(batch)]
    chunks = file_of(schema, rows, block_rows=data.draw(st.integers(1, 12)))

    pg = postgres_copy_encoder(schema)
    assert_same(reference(schema, chunks, postgres_format(schema)), fused(schema, chunks, pg))
    assert_fast_path_used(pg, schema, chunks)

    load = mysql_load_encoder(schema)
    expected = reference(schema, chunks, mysql_format(schema))
    assert_same(expected, fused(schema, chunks, load.encode))
    assert_fast_path_used(load.encode, schema, chunks)
    if isinstance(expected, bytes):
        assert_load_data_reads_back(schema, expected, rows)
        warnings = sum(load.encode_counted(count, records)[1]
                       for count, records in iter_blocks(schema, chunks, NAME))
        assert warnings == (sum(row["c"] == "" for row in rows) if column.type == "enum"
                            else 0)


def test_null_in_a_not_null_column_is_refused_like_the_reference() -> None:
    schema = table(Column("c", "varchar", charset=UTF8, nullable=False))
    chunks = file_of(schema, [{"c": "x"}, {"c": None}])
    for encoder, format_row in ((postgres_copy_encoder(schema), postgres_format(schema)),
                                (mysql_load_encoder(schema).encode, mysql_format(schema))):
        found = fused(schema, chunks, encoder)
        assert isinstance(found, TypeMappingError)
        assert "NULL in a NOT NULL column" in found.message
        assert_same(reference(schema, chunks, format_row), found)


def test_a_block_of_no_records_is_no_lines_on_every_path() -> None:
    schema = table(Column("c", "varchar", charset=UTF8))
    for encoder in (postgres_copy_encoder(schema), mysql_load_encoder(schema).encode):
        assert encoder(0, b"") == b""
    fused_alone = FusedEncoder(schema, [field_code(column) for column in schema.columns],
                               postgres_format(schema))
    assert fused_alone.fast(0, b"") == (b"", 0)
    assert fused_alone.canonical(0, b"") == (b"", 0)


# --- whole rows ---------------------------------------------------------------------------------

EVERY = table(*(Column(f"c{index} {name}", column.type, column.unsigned, column.precision,
                       column.scale, column.charset, column.members)
                for index, (name, (column, _)) in enumerate(sorted(FAMILIES.items()))))


@st.composite
def every_family_rows(draw: st.DrawFn) -> list[Row]:
    rows = []
    for _ in range(draw(st.integers(1, 10))):
        rows.append({column.name: draw(st.one_of(st.none(), FAMILIES[name][1]))
                     for column, name in zip(EVERY.columns, sorted(FAMILIES), strict=True)})
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=every_family_rows(), block_rows=st.integers(1, 6))
def test_rows_of_every_family_at_once(rows: list[Row], block_rows: int) -> None:
    chunks = file_of(EVERY, rows, block_rows=block_rows)
    assert_same(reference(EVERY, chunks, postgres_format(EVERY)),
                fused(EVERY, chunks, postgres_copy_encoder(EVERY)))
    expected = reference(EVERY, chunks, mysql_format(EVERY))
    assert_same(expected, fused(EVERY, chunks, mysql_load_encoder(EVERY).encode))
    if isinstance(expected, bytes):
        assert_load_data_reads_back(EVERY, expected, rows)


# --- the workload's type-torture rows -----------------------------------------------------------


def torture_column(column: TortureColumn) -> Column:
    """The column as ``read_table_schema`` describes it on MariaDB (JSON is LONGTEXT there)."""
    sql = column.sql_type
    family = sql.split("(")[0].split(" ")[0].lower()
    charset = re.search(r"CHARACTER SET (\w+)", sql)
    text_charset = charset.group(1) if charset else None
    if column.kind is ValueKind.JSON:
        family, text_charset = "longtext", UTF8
    if column.kind in (ValueKind.ENUM, ValueKind.SET):
        text_charset = UTF8
    precision = column.precision or column.bits or (
        column.max_length if family in ("char", "varchar", "binary", "varbinary") else None)
    scale = column.scale if family == "decimal" else (
        column.fraction_digits if family in ("datetime", "timestamp", "time") else None)
    return Column(column.name, family, "UNSIGNED" in sql, precision, scale, text_charset,
                  column.members)


TORTURE = TableSchema("bench", "type_torture", 1, (
    Column("id", "int", unsigned=True, nullable=False),
    *(torture_column(column) for column in TORTURE_COLUMNS)), ("id",))


def torture_value(column: TortureColumn, value: object) -> object:
    if isinstance(value, TortureZeroDate):
        return ZERO_DATE if column.kind is ValueKind.DATE else ZERO_DATETIME
    if column.kind is ValueKind.JSON and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


TORTURE_CANONICAL = [
    {"id": row.row_id, **{column.name: torture_value(column, row.values[column.name])
                          for column in TORTURE_COLUMNS}}
    for row in TORTURE_ROWS]


@pytest.mark.parametrize("codec", ["zstandard", "null"])
@pytest.mark.parametrize("block_rows", [1, 3, 100])
def test_the_type_torture_rows(codec: str, block_rows: int) -> None:
    chunks = file_of(TORTURE, TORTURE_CANONICAL, block_rows=block_rows, codec=codec)

    load = mysql_load_encoder(TORTURE)
    text = fused(TORTURE, chunks, load.encode)
    assert text == reference(TORTURE, chunks, mysql_format(TORTURE))
    assert isinstance(text, bytes)
    assert_load_data_reads_back(TORTURE, text, TORTURE_CANONICAL)
    assert_fast_path_used(load.encode, TORTURE, chunks)

    pg = postgres_copy_encoder(TORTURE)
    refused = fused(TORTURE, chunks, pg)  # the zero dates' row
    assert isinstance(refused, TypeMappingError)
    assert refused.message.startswith("column 'date_value' (date): the zero date 0000-00-00")
    assert_same(reference(TORTURE, chunks, postgres_format(TORTURE)), refused)
    assert_fast_path_used(pg, TORTURE, chunks)

    held = [row for row in TORTURE_CANONICAL if row["id"] != 5]
    chunks = file_of(TORTURE, held, block_rows=block_rows, codec=codec)
    assert fused(TORTURE, chunks, pg) == reference(TORTURE, chunks, postgres_format(TORTURE))


# --- errors -------------------------------------------------------------------------------------

SMALL = table(Column("id", "int", nullable=False), Column("d", "date"),
              Column("s", "varchar", charset=UTF8), Column("b", "blob"),
              Column("t", "timestamp", scale=6), Column("m", "decimal", precision=10, scale=2))
SMALL_ROWS = [{"id": i, "d": date(2024, 1, 1) + timedelta(days=i), "s": f"text {i}\t",
               "b": bytes([i % 256]) * 3, "t": EPOCH + timedelta(seconds=2**31 - i),
               "m": Decimal(i).scaleb(-2)} for i in range(1, 12)]


def test_a_zero_date_in_postgresql_names_the_column() -> None:
    rows = [*SMALL_ROWS[:4], {**SMALL_ROWS[4], "d": ZeroDate(2020, 0, 15)}]
    chunks = file_of(SMALL, rows, block_rows=3)
    found = fused(SMALL, chunks, postgres_copy_encoder(SMALL))

    assert isinstance(found, TypeMappingError)
    assert found.message == ("column 'd' (date): the zero date 2020-00-15, which PostgreSQL "
                             "date cannot hold")
    assert_same(reference(SMALL, chunks, postgres_format(SMALL)), found)


def null_file(schema: TableSchema, rows: list[Row], records: Callable[[bytes], bytes],
              count: Callable[[int], int] = lambda n: n) -> list[bytes]:
    """A one-block file without compression whose records are changed by ``records``."""
    header, block = file_of(schema, rows, block_rows=len(rows), codec="null")
    _, position = read_long(block, 0)
    size, position = read_long(block, position)
    data = block[position:-SYNC_SIZE]
    assert len(data) == size
    changed = records(data)
    out = bytearray()
    write_long(out, count(len(rows)))
    write_long(out, len(changed))
    return [header, bytes(out) + changed + block[-SYNC_SIZE:]]


@pytest.mark.parametrize(("records", "count", "match"), [
    (lambda d: d[:-3], lambda n: n, "record 3 of 3: the data ends"),
    (lambda d: d, lambda n: n + 1, "record 4 of 4: the data ends"),
    (lambda d: d + b"\x00\x00", lambda n: n, "has 2 bytes after its 3 records"),
    (lambda d: d, lambda n: n - 1, "bytes after its 2 records"),
    (lambda d: b"\x04" + d[1:], lambda n: n, "record 1 of 3: union branch 2"),
])
def test_a_damaged_block_names_the_file_and_block_as_decode_chunk_does(
        records: Callable[[bytes], bytes], count: Callable[[int], int], match: str) -> None:
    chunks = null_file(SMALL, SMALL_ROWS[:3], records, count)
    for encoder, format_row in ((postgres_copy_encoder(SMALL), postgres_format(SMALL)),
                                (mysql_load_encoder(SMALL).encode, mysql_format(SMALL))):
        found = fused(SMALL, chunks, encoder)
        assert isinstance(found, SnapshotIntegrityError)
        assert re.match(rf"{re.escape(NAME)}: block 1 \(at byte \d+\).*{match}", found.message)
        assert_same(reference(SMALL, chunks, format_row), found)


@settings(max_examples=300, deadline=None)
@given(rows=st.integers(1, 11), edits=st.lists(st.tuples(st.integers(0, 10**6),
                                                         st.integers(0, 255)), max_size=3),
       cut=st.one_of(st.none(), st.integers(0, 400)), extra=st.binary(max_size=3))
def test_any_damage_to_the_records_is_found_as_the_reference_finds_it(
        rows: int, edits: list[tuple[int, int]], cut: int | None, extra: bytes) -> None:
    def damage(data: bytes) -> bytes:
        changed = bytearray(data)
        for offset, byte in edits:
            changed[offset % len(changed)] = byte
        if cut is not None:
            changed = changed[:cut]
        return bytes(changed) + extra

    chunks = null_file(SMALL, SMALL_ROWS[:rows], damage)
    for encoder, format_row in ((postgres_copy_encoder(SMALL), postgres_format(SMALL)),
                                (mysql_load_encoder(SMALL).encode, mysql_format(SMALL))):
        assert_same(reference(SMALL, chunks, format_row), fused(SMALL, chunks, encoder))


SMALL_TORTURE = [row for row in TORTURE_CANONICAL if row["id"] != 9]  # not the large values


@settings(max_examples=300, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1,
                      max_size=3),
       cut=st.one_of(st.none(), st.integers(0, 10**6)), extra=st.binary(max_size=2))
def test_any_damage_to_torture_rows_is_found_as_the_reference_finds_it(
        edits: list[tuple[int, int]], cut: int | None, extra: bytes) -> None:
    def damage(data: bytes) -> bytes:
        changed = bytearray(data)
        for offset, byte in edits:
            changed[offset % len(changed)] = byte
        if cut is not None:
            changed = changed[:cut % (len(changed) + 1)]
        return bytes(changed) + extra

    chunks = null_file(TORTURE, SMALL_TORTURE, damage)
    expected = reference(TORTURE, chunks, mysql_format(TORTURE))
    assert_same(expected, fused(TORTURE, chunks, mysql_load_encoder(TORTURE).encode))
    chunks = null_file(TORTURE, [row for row in SMALL_TORTURE if row["id"] != 5], damage)
    expected = reference(TORTURE, chunks, postgres_format(TORTURE))  # no zero dates
    assert_same(expected, fused(TORTURE, chunks, postgres_copy_encoder(TORTURE)))


def varint(value: int) -> bytes:
    out = bytearray()
    write_long(out, value)
    return bytes(out)


def avro_bytes(data: bytes) -> bytes:
    return varint(len(data)) + data


def one_record_file(schema: TableSchema, records: bytes, count: int = 1) -> list[bytes]:
    (header,) = file_of(schema, [], codec="null")
    return [header, varint(count) + avro_bytes(records) + header[-SYNC_SIZE:]]


_V = b"\x02"  # the value branch of a field
ODD_RECORDS: list[tuple[Column, bytes]] = [
    (Column("c", "bigint", unsigned=True), _V + avro_bytes(b"\xff")),
    (Column("c", "bigint", unsigned=True), _V + avro_bytes((2**64).to_bytes(9, "big"))),
    (Column("c", "bigint", unsigned=True), _V + avro_bytes(b"")),
    (Column("c", "bigint", unsigned=True), _V + avro_bytes(b"\x00\x00\x07")),
    (Column("c", "tinyint", unsigned=True), _V + varint(-1)),
    (Column("c", "tinyint"), _V + varint(200)),
    (Column("c", "int"), _V + b"\x80\x00"),  # 0, not minimal
    (Column("c", "int"), _V + b"\xff" * 11),
    (Column("c", "year"), _V + b"\x80\x00"),  # 0000, not minimal
    (Column("c", "year"), _V + varint(1900)),
    (Column("c", "decimal", precision=4, scale=2), _V + avro_bytes((10000).to_bytes(3, "big"))),
    (Column("c", "decimal", precision=4, scale=2), _V + avro_bytes(b"\xff\xff\xff\xff")),
    (Column("c", "decimal", precision=4, scale=2), _V + avro_bytes(b"")),
    (Column("c", "bit", precision=10), _V + avro_bytes(b"\x04\x00")),
    (Column("c", "bit", precision=10), _V + avro_bytes(b"\x00\x00\x03\xff")),
    (Column("c", "float"), _V + struct.pack("<f", float("nan"))),
    (Column("c", "float"), _V + struct.pack("<f", float("-inf"))),
    (Column("c", "double"), _V + struct.pack("<d", float("nan"))),
    (Column("c", "double"), _V + b"\x00\x00"),
    *((Column("c", "date"), _V + avro_bytes(text)) for text in (
        b"2024-13-01", b"20240101", b"2024-01-01 ", b"\\N", b"2024-1-01", b"0000-00-00",
        b"2024-02-30", b"\xff\xfe", b"")),
    *((Column("c", "datetime", scale=s), _V + avro_bytes(text)) for s in (0, 3) for text in (
        b"2024-01-01T00:00:00", b"2024-01-01 00:00:00.000000", b"2024-01-01 00:00:00+01:00",
        b"2024-01-01 00:00:00.5", b"2024-01-01 00:00:00.500000", b"2024-01-01 00:00:00.123456",
        b"2024-00-01 24:00:00", b"2024-00-01 23:59:59.999000", b"2024-01-01")),
    (Column("c", "timestamp", scale=6), _V + varint(-5)),
    (Column("c", "timestamp", scale=6), _V + b"\x80\x00"),
    (Column("c", "timestamp", scale=6), _V + varint(2**62)),
    (Column("c", "timestamp", scale=0), _V + varint(1_700_000_000_000_001)),
    (Column("c", "timestamp", scale=6), _V + varint(2**47)),  # a seven-byte varint
    (Column("c", "time", scale=0), _V + varint(839 * 3_600_000_000)),
    (Column("c", "time", scale=0), _V + varint(-1_500_000)),
    (Column("c", "varchar", charset=UTF8), _V + avro_bytes(b"\xc3")),
    (Column("c", "varchar", charset=UTF8), _V + b"\x81\x00x"),  # length 1, not minimal
    (Column("c", "varchar", charset=UTF8), _V + b"\x03x"),  # a negative length
    (Column("c", "varchar", charset="latin1"), _V + avro_bytes(b"\xed\xa0\x80")),
    (Column("c", "enum", members=("a",), charset=UTF8), _V + avro_bytes(b"b")),
    (Column("c", "set", members=("a", "b"), charset=UTF8),
     _V + varint(2) + avro_bytes(b"a") + avro_bytes(b"a") + b"\x00"),
    (Column("c", "set", members=("a", "b"), charset=UTF8),
     _V + varint(-1) + varint(2) + avro_bytes(b"b") + b"\x00"),  # a block with its size
    (Column("c", "set", members=("a", "b"), charset=UTF8),
     _V + varint(1) + avro_bytes(b"c") + b"\x00"),
    (Column("c", "varchar", charset=UTF8), b"\x80\x00"),  # NULL, branch not minimal
    (Column("c", "varchar", charset=UTF8), b"\x04"),
    (Column("c", "varchar", charset=UTF8), b"\x01"),
]


@pytest.mark.parametrize(("column", "record"), ODD_RECORDS)
def test_records_the_writer_never_makes_are_read_as_the_reference_reads_them(
        column: Column, record: bytes) -> None:
    schema = table(column)
    chunks = one_record_file(schema, record)
    for encoder, format_row in ((postgres_copy_encoder(schema), postgres_format(schema)),
                                (mysql_load_encoder(schema).encode, mysql_format(schema))):
        assert_same(reference(schema, chunks, format_row), fused(schema, chunks, encoder))
    two = one_record_file(schema, record * 2, count=2)
    for encoder, format_row in ((postgres_copy_encoder(schema), postgres_format(schema)),
                                (mysql_load_encoder(schema).encode, mysql_format(schema))):
        assert_same(reference(schema, two, format_row), fused(schema, two, encoder))


def test_a_value_the_target_cannot_hold_comes_before_a_later_broken_record() -> None:
    rows = [SMALL_ROWS[0], {**SMALL_ROWS[1], "t": ZERO_DATETIME}, SMALL_ROWS[2]]
    chunks = null_file(SMALL, rows, lambda d: d[:-2])
    found = fused(SMALL, chunks, postgres_copy_encoder(SMALL))
    assert isinstance(found, TypeMappingError)
    assert "column 't' (timestamp): the zero date" in found.message


def test_mysql_refuses_what_its_column_cannot_hold() -> None:
    cases = [(Column("c", "varchar", charset="latin1"), "€ is fine, 💳 is not"),
             (Column("c", "varchar", charset="utf8mb3"), "💳"),
             (Column("c", "varchar", charset="ascii"), "é"),
             (Column("c", "double"), float("inf")), (Column("c", "float"), float("nan"))]
    for column, value in cases:
        schema = table(column)
        chunks = file_of(schema, [{"c": "x" if column.charset else 1.0}, {"c": value}])
        found = fused(schema, chunks, mysql_load_encoder(schema).encode)
        assert isinstance(found, TypeMappingError), column
        assert found.message.startswith("column 'c' (")
        assert_same(reference(schema, chunks, mysql_format(schema)), found)


# --- the LOAD DATA statement and its outcome ----------------------------------------------------


def test_the_load_data_statement() -> None:
    schema = TableSchema("shop`s", "pay ments", 1, (
        Column("id", "int", nullable=False), Column("doc", "json", charset=UTF8),
        Column("name`x", "varchar", charset=UTF8)), ("id",))
    load = mysql_load_encoder(schema)

    assert load.statement("/tmp/it's a \\ file.tsv") == (
        "LOAD DATA LOCAL INFILE '/tmp/it\\'s a \\\\ file.tsv' INTO TABLE `shop``s`.`pay ments` "
        "CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
        "LINES TERMINATED BY '\\n' (`id`, @v1, `name``x`) "
        "SET `doc` = CONVERT(@v1 USING utf8mb4)")
    assert mysql_load_encoder(SMALL).statement("/f").endswith(
        "(`id`, `d`, `s`, `b`, `t`, `m`)")
    with pytest.raises(ValueError, match="NUL"):
        quote_string("a\x00b")


def test_a_load_that_skipped_or_warned_is_refused() -> None:
    check_load_info("Records: 3  Deleted: 0  Skipped: 0  Warnings: 0", 3, "shop.t")
    for info in ("Records: 3  Deleted: 0  Skipped: 1  Warnings: 1",
                 "Records: 3  Deleted: 0  Skipped: 0  Warnings: 2",
                 "Records: 2  Deleted: 0  Skipped: 0  Warnings: 0", None, ""):
        with pytest.raises(CdcError, match=r"loading shop\.t"):
            check_load_info(info, 3, "shop.t")


# --- the building blocks ------------------------------------------------------------------------


def test_real_dates_are_exactly_what_date_can_hold() -> None:
    pattern = re.compile(REAL_DATE)
    years = [*range(0, 30), *range(96, 105), *range(396, 405), *range(1896, 1905),
             *range(1996, 2105), *range(9990, 10000)]
    for year in years:
        for month in range(13):
            for day in range(32):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    date(year, month, day)
                    real = True
                except ValueError:
                    real = False
                assert bool(pattern.fullmatch(text.encode())) == real, text
    for year in range(10000):  # every leap day
        leap_day = f"{year:04d}-02-29".encode()
        assert bool(pattern.fullmatch(leap_day)) == (year > 0 and (year % 4 == 0 and (
            year % 100 != 0 or year % 400 == 0))), leap_day


@given(st.one_of(st.integers(-(2**63), 2**63 - 1),
                 st.sampled_from([0, -1, 63, 64, -65, 8191, 8192, 2**20, 2**27, 2**41, 2**55])))
def test_varints_are_read_as_written(value: int) -> None:
    out = bytearray()
    write_long(out, value)
    data = bytes(out) + b"\x00"
    assert read_long(data, 0) == (value, len(out))
    middle, last = pair_tables()
    if len(out) == 8:
        groups = struct.unpack("<HHHH", data[:8])
        number = (middle[groups[0]] or 0) | (middle[groups[1]] or 0) << 14 | (
            middle[groups[2]] or 0) << 28 | (last[groups[3]] or 0) << 42
        assert (number >> 1) ^ -(number & 1) == value
