"""Snapshot data files: Avro container files that round-trip every canonical value exactly, that
the standard reader (fastavro) reads, and whose every kind of damage is refused by name."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from cdc.avro.binary import Reader, write_long
from cdc.changes import Column, Row, TableSchema
from cdc.errors import TypeMappingError
from cdc.snapshot.chunk_file import CODECS, MAGIC, SYNC_SIZE, decode_chunk, encode_chunk
from cdc.snapshot.errors import SnapshotError, SnapshotIntegrityError
from cdc.values import ZERO_DATE, ZERO_DATETIME, ZeroDate, ZeroDateTime

NAME = "shop.everything.0003.avro"
UTF8 = "utf8mb4"

EVERYTHING = TableSchema(
    database="shop",
    table="everything",
    version=4,
    columns=(
        Column("id", "bigint", unsigned=True, nullable=False),
        Column("tiny", "tinyint"),
        Column("small_u", "smallint", unsigned=True),
        Column("medium", "mediumint"),
        Column("plain", "int"),
        Column("big", "bigint"),
        Column("year", "year"),
        Column("amount", "decimal", precision=65, scale=30),
        Column("ratio", "float"),
        Column("measure", "double"),
        Column("flag", "bit", precision=1),
        Column("mask", "bit", precision=64),
        Column("born", "date"),
        Column("wall clock", "datetime", scale=6),
        Column("paid_at", "timestamp", scale=6),
        Column("elapsed", "time", scale=6),
        Column("code", "char", precision=3, charset=UTF8),
        Column("label", "varchar", precision=64, charset=UTF8),
        Column("body", "text", charset=UTF8),
        Column("long_body", "longtext", charset=UTF8),
        Column("digest", "binary", precision=4),
        Column("blob", "blob"),
        Column("shape", "geometry"),
        Column("status", "enum", members=("new", "paid"), charset=UTF8),
        Column("tags", "set", members=("a", "b", "c"), charset=UTF8),
        Column("doc", "json"),
    ),
    primary_key=("id",),
)


def _row(index: int) -> Row:
    """A row with edge values that vary with ``index``; odd rows hold NULL where allowed."""
    row: Row = {
        "id": [2**64 - 1, 0, 1, 2**63][index] if index < 4 else 1000 + index,
        "tiny": [-128, 127, 0][index % 3],
        "small_u": [0, 65535][index % 2],
        "medium": [-8388608, 8388607][index % 2],
        "plain": [-2147483648, 2147483647][index % 2],
        "big": [-(2**63), 2**63 - 1, -1][index % 3],
        "year": [0, 1901, 2155][index % 3],
        "amount": [Decimal("-" + "9" * 35 + "." + "9" * 30),
                   Decimal("0E-30"),
                   Decimal("12.340000000000000000000000000000")][index % 3],
        "ratio": [0.5, -1.25, 3.4028234663852886e38][index % 3],
        "measure": [1 / 3, 5e-324, -0.0][index % 3],
        "flag": index % 2,
        "mask": [2**64 - 1, 0, 1 << 63][index % 3],
        "born": [date(2026, 2, 28), ZERO_DATE, ZeroDate(2020, 0, 15)][index % 3],
        "wall clock": [datetime(2026, 3, 8, 2, 30, 0, 1), ZERO_DATETIME,
                       ZeroDateTime(2026, 0, 1, 23, 59, 59, 999999),
                       datetime(9999, 12, 31, 23, 59, 59)][index % 4],
        "paid_at": [datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=UTC), ZERO_DATETIME,
                    datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)][index % 3],
        "elapsed": [-timedelta(hours=838, minutes=59, seconds=59, microseconds=999999),
                    -timedelta(hours=12, minutes=10, seconds=48, microseconds=835870),
                    timedelta(0), timedelta(hours=1, microseconds=1)][index % 4],
        "code": ["EUR", "€£¥", ""][index % 3],
        "label": [f"ref-{index}", "emoji 💳🦄", "NUL\x00inside"][index % 3],
        "body": "lorem ipsum " * (index % 5) + "👍",
        "long_body": "x" * (index * 300),
        "digest": [b"\x00\x00\x00\x00", b"\xff\x00\x01\x02"][index % 2],
        "blob": bytes(range(256)) * (index % 3),
        "shape": b"\x00\x00\x00\x00\x01\x01\x00\x00\x00" + bytes(16),
        "status": ["new", "paid", ""][index % 3],
        "tags": [frozenset(), frozenset({"c", "a"}), frozenset({"a", "b", "c"})][index % 3],
        "doc": ['{"a": [1, 2.5, null], "b": "ü"}', "[]", '"text"'][index % 3],
    }
    if index % 2:
        for column in EVERYTHING.columns:
            if column.nullable:
                row[column.name] = None
    return row


ROWS = [_row(index) for index in range(11)]


def _exact(row: Row) -> dict[str, Any]:
    """The row with each value and its Python type, Decimal exponent and time zone kept."""
    exact: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, frozenset):
            exact[name] = ("frozenset", sorted(value))
        elif isinstance(value, Decimal):
            exact[name] = ("Decimal", value.as_tuple())
        else:
            exact[name] = (type(value).__name__, repr(value))
    return exact


def _file(schema: TableSchema = EVERYTHING, rows: list[Row] = ROWS, **options: Any) -> bytes:
    return b"".join(encode_chunk(schema, rows, **options))


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i:i + size] for i in range(0, len(data), size))


def _decode(data: bytes, schema: TableSchema = EVERYTHING, piece: int = 7) -> list[Row]:
    return list(decode_chunk(schema, _pieces(data, piece), NAME))


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("piece", [1, 7, 64 * 1024])
@pytest.mark.parametrize("codec", CODECS)
def test_every_column_type_round_trips_exactly_across_blocks(codec: str, piece: int) -> None:
    chunks = list(encode_chunk(EVERYTHING, iter(ROWS), codec=codec, block_rows=3))

    assert len(chunks) == 1 + 4  # the header, then one piece per block of at most 3 rows
    assert chunks[0].startswith(MAGIC)
    decoded = list(decode_chunk(EVERYTHING, _pieces(b"".join(chunks), piece), NAME))
    assert [_exact(row) for row in decoded] == [_exact(row) for row in ROWS]
    assert [list(row) for row in decoded] == [list(row) for row in ROWS]  # column order


def test_rows_are_encoded_lazily_one_block_at_a_time() -> None:
    consumed = 0

    def rows() -> Iterator[Row]:
        nonlocal consumed
        for row in ROWS:
            consumed += 1
            yield row

    chunks = encode_chunk(EVERYTHING, rows(), block_rows=4)
    next(chunks)  # the header
    assert consumed == 0
    next(chunks)
    assert consumed == 4


def test_a_block_ends_early_once_its_rows_reach_block_bytes() -> None:
    rows = [_row(0) | {"id": index, "long_body": "x" * 1000} for index in range(10)]

    chunks = list(encode_chunk(EVERYTHING, rows, codec="null", block_rows=100, block_bytes=2500))

    assert len(chunks) == 1 + 4  # 3 rows of ~1 KB reach 2,500 bytes: blocks of 3, 3, 3, 1
    assert _decode(b"".join(chunks)) == rows


def test_each_file_has_its_own_sync_marker_and_blocks_end_with_it() -> None:
    first, second = (list(encode_chunk(EVERYTHING, ROWS, block_rows=5)) for _ in range(2))

    sync = first[0][-SYNC_SIZE:]
    assert sync != second[0][-SYNC_SIZE:]
    assert all(block.endswith(sync) for block in first[1:])


def test_compression_shrinks_repetitive_rows() -> None:
    rows = [_row(0) | {"id": index} for index in range(200)]

    sizes = {codec: len(_file(rows=rows, codec=codec)) for codec in CODECS}

    assert sizes["zstandard"] * 5 < sizes["null"]
    assert sizes["deflate"] * 5 < sizes["null"]


def test_an_empty_table_is_a_header_without_blocks() -> None:
    chunks = list(encode_chunk(EVERYTHING, []))

    assert len(chunks) == 1
    assert _decode(chunks[0]) == []
    assert list(fastavro.reader(io.BytesIO(chunks[0]))) == []


# --- the standard reader ------------------------------------------------------------------------

SIMPLE = TableSchema(
    database="shop",
    table="simple",
    version=1,
    columns=(
        Column("id", "bigint", nullable=False),
        Column("small", "smallint", unsigned=True),
        Column("name", "varchar", precision=64, charset=UTF8),
        Column("blob", "varbinary", precision=64),
    ),
    primary_key=("id",),
)
SIMPLE_ROWS: list[Row] = [
    {"id": index - 2**40, "small": None if index % 3 == 0 else index,
     "name": f"name {index} ✓" if index % 4 else None, "blob": bytes([index % 7]) * index}
    for index in range(500)
]


@pytest.mark.parametrize("codec", CODECS)
def test_fastavro_reads_our_files(codec: str) -> None:
    data = _file(SIMPLE, SIMPLE_ROWS, codec=codec, block_rows=64)

    reader = fastavro.reader(io.BytesIO(data))

    assert reader.codec == codec
    assert reader.metadata["cdc.table"] == "shop.simple"
    assert reader.metadata["cdc.schema_version"] == "1"
    assert list(reader) == SIMPLE_ROWS


def test_fastavro_reads_every_column_type_in_the_same_number() -> None:
    records: list[Any] = list(fastavro.reader(io.BytesIO(_file(block_rows=2))))

    assert len(records) == len(ROWS)
    assert [record["id"] for record in records] == [row["id"] for row in ROWS]  # as Decimal
    assert [record["label"] for record in records] == [row["label"] for row in ROWS]
    assert [record["blob"] for record in records] == [row["blob"] for row in ROWS]


# --- what the writer refuses --------------------------------------------------------------------


def test_an_unknown_codec_is_refused_when_writing() -> None:
    with pytest.raises(SnapshotError, match="'snappy'") as caught:
        next(encode_chunk(EVERYTHING, ROWS, codec="snappy"))
    assert "zstandard" in caught.value.hint


def test_a_value_that_does_not_fit_its_column_names_the_row_and_column() -> None:
    rows = [*ROWS[:3], ROWS[0] | {"tiny": 128}]

    with pytest.raises(TypeMappingError, match=r"shop\.everything v4, row 4 .*'tiny'"):
        list(encode_chunk(EVERYTHING, rows, block_rows=2))
    renamed = {("tiny_" if name == "tiny" else name): value for name, value in ROWS[0].items()}
    with pytest.raises(TypeMappingError, match=r"row 2 of the file: no column 'tiny'"):
        list(encode_chunk(EVERYTHING, [ROWS[0], renamed]))


# --- damage -------------------------------------------------------------------------------------


def _file_and_blocks(**options: Any) -> tuple[bytes, int, list[tuple[int, int, int]]]:
    """A file, its header's length, and each block's (start, payload start, payload end)."""
    chunks = list(encode_chunk(EVERYTHING, ROWS, **options))
    blocks, position = [], len(chunks[0])
    for chunk in chunks[1:]:
        reader = Reader(chunk)
        reader.read_long()
        size = reader.read_long()
        assert len(chunk) == reader.position + size + SYNC_SIZE
        blocks.append((position, position + reader.position, position + reader.position + size))
        position += len(chunk)
    return b"".join(chunks), len(chunks[0]), blocks


def _refused(data: bytes, match: str, schema: TableSchema = EVERYTHING) -> None:
    for piece in (1, 64 * 1024):
        with pytest.raises(SnapshotIntegrityError, match=match) as caught:
            _decode(data, schema, piece)
        assert caught.value.message.startswith(f"{NAME}: ")
        assert caught.value.hint


def test_every_flipped_byte_of_a_zstandard_block_is_caught() -> None:
    data, _, blocks = _file_and_blocks(block_rows=4)
    _, start, end = blocks[1]

    for offset in range(start, end):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        with pytest.raises(SnapshotIntegrityError, match=f"^{NAME}: block 2 "):
            _decode(bytes(damaged), piece=64 * 1024)


@pytest.mark.parametrize("codec", ["deflate", "null"])
def test_a_damaged_block_of_the_other_codecs_is_caught_when_it_breaks_the_records(
        codec: str) -> None:
    data, _, blocks = _file_and_blocks(codec=codec, block_rows=4)
    _, start, _ = blocks[0]
    damaged = bytearray(data)
    damaged[start] ^= 0x55  # zlib: an invalid block type; null: the first NULL branch 0 -> 85

    _refused(bytes(damaged), "block 1 ")


@pytest.mark.parametrize("codec", ["zstandard", "deflate"])
@pytest.mark.parametrize("change", ["cut", "extra"])
def test_a_block_that_is_not_one_whole_compressed_stream_is_caught(codec: str,
                                                                   change: str) -> None:
    data, header, blocks = _file_and_blocks(codec=codec, block_rows=20)
    _, start, end = blocks[0]
    payload = data[start:end - 4] if change == "cut" else data[start:end] + b"\x00" * 4
    block = bytearray()
    write_long(block, len(ROWS))
    write_long(block, len(payload))
    sync = data[header - SYNC_SIZE:header]

    _refused(data[:header] + bytes(block) + payload + sync, "block 1 .*(whole|decompress)")


def test_a_truncated_file_is_caught_wherever_it_is_cut() -> None:
    data, header, blocks = _file_and_blocks(block_rows=4)

    _refused(data[:2], "the header ends early")
    _refused(data[:header // 2], "the header ends early")
    _refused(data[:header - 1], "the header ends early")
    _refused(data[:(blocks[1][1] + blocks[1][2]) // 2], "block 2 .*ends early")
    _refused(data[:-1], "block 3 .*ends early")
    # A cut exactly between blocks leaves a valid, shorter file: the manifest's size and
    # SHA-256 catch that one.
    assert len(_decode(data[:blocks[2][0]])) == 8


def test_a_wrong_sync_marker_is_caught() -> None:
    data, _, blocks = _file_and_blocks(block_rows=4)
    damaged = bytearray(data)
    damaged[blocks[1][2] + 3] ^= 0x01

    _refused(bytes(damaged), "block 2 .*wrong sync marker")


def test_another_tables_file_is_refused() -> None:
    other = replace(EVERYTHING, table="other", version=9)
    data = _file(other)

    _refused(data, r"schema is that of shop\.other v9, not of shop\.everything v4")


def test_another_version_of_the_same_table_is_refused() -> None:
    data = _file(SIMPLE, SIMPLE_ROWS)
    same_name_other_shape = replace(SIMPLE, columns=SIMPLE.columns[:3])

    _refused(data, r"schema is not that of shop\.simple v1", same_name_other_shape)


@pytest.mark.parametrize("garbage", [b"\x00", b"\x02", b"junk after the end", bytes(40)])
def test_bytes_after_the_last_block_are_refused(garbage: bytes) -> None:
    _refused(_file(block_rows=4) + garbage, "block 4 ")


def test_garbage_after_an_empty_tables_header_is_refused() -> None:
    _refused(_file(rows=[]) + b"\x02\x02x", "block 1 ")


def test_an_unknown_codec_is_refused_when_reading() -> None:
    data = _file(codec="null").replace(b"\x14avro.codec\x08null", b"\x14avro.codec\x0csnappy", 1)

    _refused(data, "unknown codec 'snappy'")


def test_a_file_that_is_not_avro_is_refused() -> None:
    _refused(b"PK\x03\x04" + _file()[4:], "not an Avro container file")


@pytest.mark.parametrize(("count", "match"), [(3, "bytes after its 3 records"),
                                              (5, "record 5 of 5: the data ends"),
                                              (0, "claims 0 records"),
                                              (-1, "claims -1 records")])
def test_a_record_count_that_does_not_fit_its_block_is_refused(count: int, match: str) -> None:
    data, _, blocks = _file_and_blocks(codec="null", block_rows=4)
    start = blocks[0][0]
    assert data[start] == 8  # the first block's count, 4, as a one-byte zig-zag varint
    damaged = bytearray(data)
    damaged[start] = count * 2 if count >= 0 else -count * 2 - 1

    _refused(bytes(damaged), f"block 1 .*{match}")
