"""The compiled COPY-text encoder (``replayer._copytext``) against the Python paths: for every
block, either the canonical path's bytes exactly, or a give-up (a str saying why) after which
the composed encoder gives the reference's bytes or error. Blocks as the snapshot writer makes
them of every family are all taken (JSON holding ``\\u0000`` aside); unusual and damaged ones
are given up on. These tests fail when the compiled module is not built."""

from __future__ import annotations

import importlib
import random
import struct
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.bulk_text_throughput import PAYMENTS, payments_rows
from cdc.changes import Column, Row, TableSchema
from cdc.errors import TypeMappingError
from cdc.snapshot.chunk_file import BlockDecodeError, iter_blocks
from cdc.snapshot.errors import SnapshotIntegrityError
from replayer import copy_text_compiled
from replayer.bulk_text_postgres import postgres_copy_encoder, postgres_fused_encoder
from replayer.copy_text_compiled import CopyEncoder, compile_program
from tests.unit.test_bulk_text import (
    EVERY,
    EXACT,
    FAMILIES,
    MEMBERS,
    NAME,
    ODD_RECORDS,
    SMALL,
    SMALL_ROWS,
    TEXT,
    TORTURE,
    TORTURE_CANONICAL,
    UTF8,
    assert_same,
    avro_bytes,
    datetimes,
    decimals,
    every_family_rows,
    file_of,
    fused,
    integers,
    null_file,
    one_record_file,
    postgres_format,
    reference,
    table,
    timestamps,
    varint,
)

VALUE = b"\x02"  # the value branch of a ["null", T] field
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compiled_encoder(schema: TableSchema) -> CopyEncoder:
    encoder = CopyEncoder(schema, postgres_fused_encoder(schema))
    assert encoder.program is not None, "the compiled path is not built, or turned off"
    return encoder


def canonical(schema: TableSchema, count: int, data: bytes) -> bytes | None:
    """The canonical path's text of a block, or None where it raises."""
    try:
        return postgres_fused_encoder(schema).canonical(count, data)[0]
    except (TypeMappingError, BlockDecodeError):
        return None


def check_block(encoder: CopyEncoder, count: int, data: bytes, *, taken: bool) -> bytes | str:
    """The compiled path's answer for a block: the reference's bytes, or a give-up; with
    ``taken``, a block the reference accepts must not be given up (unless it holds the
    bytes of a JSON ``\\u0000``, which the Python path sorts out)."""
    found = encoder.compiled(count, data)
    expected = canonical(encoder.schema, count, data)
    if isinstance(found, bytes):
        assert expected is not None, "the compiled path wrote a block the reference refuses"
        assert found == expected
    else:
        assert isinstance(found, str)
        assert not (taken and expected is not None and b"\\u0000" not in data), found
    return found


def check_file(schema: TableSchema, chunks: list[bytes], *, taken: bool = True) -> None:
    encoder = compiled_encoder(schema)
    try:
        for count, data in iter_blocks(schema, chunks, NAME):
            check_block(encoder, count, data, taken=taken)
    except SnapshotIntegrityError:  # a file broken around its blocks: no encoder sees them
        assert not taken
    assert_same(reference(schema, chunks, postgres_format(schema)), fused(schema, chunks, encoder))


# --- the module is there, and used --------------------------------------------------------------


def test_the_compiled_module_is_built_and_used() -> None:
    importlib.import_module("replayer._copytext")
    assert copy_text_compiled.enabled()
    encoder = postgres_copy_encoder(PAYMENTS)
    assert isinstance(encoder, CopyEncoder)
    assert encoder.program is not None
    chunks = file_of(PAYMENTS, list(payments_rows(50)), block_rows=20)
    before = encoder.compiled_blocks, encoder.given_up_blocks
    text = fused(PAYMENTS, chunks, encoder)
    assert text == reference(PAYMENTS, chunks, postgres_format(PAYMENTS))
    assert (encoder.compiled_blocks - before[0], encoder.given_up_blocks - before[1]) == (3, 0)


def test_pure_python_is_chosen_on_purpose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDC_PURE_PYTHON", "1")
    assert compile_program(PAYMENTS) is None
    encoder = CopyEncoder(PAYMENTS, postgres_fused_encoder(PAYMENTS))
    chunks = file_of(PAYMENTS, list(payments_rows(5)))
    assert fused(PAYMENTS, chunks, encoder) == reference(PAYMENTS, chunks,
                                                         postgres_format(PAYMENTS))
    assert encoder.compiled_blocks == 0


# --- the benchmark's payments rows --------------------------------------------------------------


def test_payments_rows() -> None:
    chunks = file_of(PAYMENTS, list(payments_rows(3000)), block_rows=250)
    encoder = compiled_encoder(PAYMENTS)
    fast = postgres_fused_encoder(PAYMENTS).fast
    for count, data in iter_blocks(PAYMENTS, chunks, NAME):
        found = check_block(encoder, count, data, taken=True)
        assert found == fast(count, data)[0]
    check_file(PAYMENTS, chunks)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AWKWARD_TEXT = st.one_of(TEXT, st.sampled_from(["", "a\tb", "x\ny", "c\rr", "back\\slash",
                                                "ü€💳", "ref-1"]))
JSON_DOCS = st.one_of(st.none(), st.sampled_from([
    '{"channel": "web", "n": 1}', '{"a": "b\\\\c"}', '{"t": "a\tb\nc"}', '"ü"', "[]",
    '{"k": "\\u0000"}', '{"k": "\\\\u0000"}']), AWKWARD_TEXT)
REAL_DATETIMES = st.one_of(st.datetimes(), st.datetimes().map(lambda d: d.replace(microsecond=0)))
INSTANTS = st.one_of(
    st.integers(1, 2**55).map(lambda us: EPOCH + timedelta(microseconds=us)),
    st.sampled_from([EPOCH + timedelta(microseconds=1), EPOCH + timedelta(seconds=1),
                     datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]))


@st.composite
def payments_row(draw: st.DrawFn) -> Row:
    """Mostly values the reference takes, some it refuses (zero dates, NUL in text)."""
    unsigned = integers(64, unsigned=True)
    return {
        "id": draw(unsigned), "reference": draw(AWKWARD_TEXT),
        "from_account_id": draw(unsigned), "to_account_id": draw(unsigned),
        "amount": draw(st.one_of(decimals(19, 4), st.sampled_from(
            [Decimal("0.0001"), Decimal("-0.0500"), Decimal("100.0000"), Decimal("0.0000")]))),
        "currency": draw(st.sampled_from(["EUR", "USD", "", "€\t"])),
        "status": draw(st.sampled_from(["pending", "settled", "failed", "refunded", ""])),
        "failure_reason": draw(st.one_of(st.none(), AWKWARD_TEXT)),
        "metadata": draw(JSON_DOCS),
        "created_at": draw(st.one_of(REAL_DATETIMES, REAL_DATETIMES, datetimes(6))),
        "settled_at": draw(st.one_of(st.none(), REAL_DATETIMES)),
        "updated_at": draw(st.one_of(INSTANTS, INSTANTS, timestamps(6))),
    }


@settings(SLOW, max_examples=150)
@given(rows=st.lists(payments_row(), min_size=1, max_size=40), block_rows=st.integers(1, 15))
def test_payments_rows_with_awkward_values(rows: list[Row], block_rows: int) -> None:
    check_file(PAYMENTS, file_of(PAYMENTS, rows, block_rows=block_rows))


# --- every family -------------------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(SLOW, max_examples=25)
@given(data=st.data())
def test_every_family(family: str, data: st.DataObject) -> None:
    column, values = FAMILIES[family]
    nullable = data.draw(st.booleans())
    column = Column(column.name, column.type, column.unsigned, column.precision, column.scale,
                    column.charset, column.members, nullable)
    schema = table(Column("id", "int", nullable=False), column)
    batch = data.draw(st.lists(st.one_of(st.none(), values) if nullable else values,
                               min_size=1, max_size=60))
    rows = [{"id": index, "c": value} for index, value in enumerate(batch)]
    check_file(schema, file_of(schema, rows, block_rows=data.draw(st.integers(1, 20))))


@settings(SLOW, max_examples=40)
@given(rows=every_family_rows(), block_rows=st.integers(1, 6))
def test_rows_of_every_family_at_once(rows: list[Row], block_rows: int) -> None:
    check_file(EVERY, file_of(EVERY, rows, block_rows=block_rows))


def _many(family: str, rng: random.Random) -> object:
    if family == "double":  # any bits: NaN and infinities too
        return float(struct.unpack("<d", rng.randbytes(8))[0])
    if family == "float":
        return float(struct.unpack("<f", struct.pack("<f", rng.uniform(-1e30, 1e30)))[0])
    if family == "decimal(65,30)":
        return EXACT.scaleb(Decimal(rng.randrange(1 - 10**65, 10**65)), -30)
    if family == "text":
        return "".join(rng.choice("ab\t\n\r\\ü€💳") for _ in range(rng.randrange(40)))
    return frozenset(rng.sample(MEMBERS, rng.randrange(len(MEMBERS) + 1)))


@pytest.mark.parametrize("family", ["double", "float", "decimal(65,30)", "text", "set"])
def test_large_blocks_are_encoded_without_the_gil_by_threads_at_once(family: str) -> None:
    column, _ = FAMILIES[family]
    schema = table(Column("id", "int", nullable=False), column)
    rng = random.Random(family)
    rows = [{"id": index, "c": _many(family, rng)} for index in range(3000)]
    blocks = list(iter_blocks(schema, file_of(schema, rows, block_rows=3000), NAME))
    (count, data), = blocks
    assert len(data) >= 16384  # the GIL is released from there
    encoder = compiled_encoder(schema)
    expected = check_block(encoder, count, data, taken=True)
    results: list[bytes | str] = []

    def work() -> None:
        results.extend(encoder.compiled(count, data) for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 60


# --- the workload's type-torture rows -----------------------------------------------------------


@pytest.mark.parametrize("block_rows", [1, 3, 100])
def test_the_type_torture_rows(block_rows: int) -> None:
    chunks = file_of(TORTURE, TORTURE_CANONICAL, block_rows=block_rows)
    encoder = compiled_encoder(TORTURE)
    reasons = [check_block(encoder, count, data, taken=True)
               for count, data in iter_blocks(TORTURE, chunks, NAME)]
    assert any(isinstance(reason, str) for reason in reasons)  # the zero dates' row
    refused = fused(TORTURE, chunks, encoder)
    assert isinstance(refused, TypeMappingError)
    assert refused.message.startswith("column 'date_value' (date): the zero date 0000-00-00")
    assert_same(reference(TORTURE, chunks, postgres_format(TORTURE)), refused)

    held = [row for row in TORTURE_CANONICAL if row["id"] != 5]
    check_file(TORTURE, file_of(TORTURE, held, block_rows=block_rows))


# --- what it gives up on ------------------------------------------------------------------------


def _members(*members: bytes) -> bytes:
    return b"".join(avro_bytes(member) for member in members)


GIVEN_UP: list[tuple[Column, bytes, str]] = [
    (Column("c", "tinyint"), VALUE + varint(200), "out of its column's range"),
    (Column("c", "int", unsigned=True), VALUE + varint(-1), "out of its column's range"),
    (Column("c", "bigint"), VALUE + b"\xff" * 9 + b"\x02", "beyond 64 bits"),
    (Column("c", "bigint"), VALUE + b"\xff" * 10 + b"\x01", "beyond 64 bits"),
    (Column("c", "bigint"), VALUE, "the data ends inside a number"),
    (Column("c", "int"), VALUE + b"\x80\x00", "not minimal"),
    (Column("c", "int"), VALUE + b"\x81\x80\x00", "not minimal"),
    (Column("c", "year"), VALUE + varint(1900), "out of its column's range"),
    (Column("c", "bigint", unsigned=True), VALUE + avro_bytes((2**64).to_bytes(9, "big")),
     "BIGINT UNSIGNED"),
    (Column("c", "bigint", unsigned=True), VALUE + avro_bytes(b"\xff"), "BIGINT UNSIGNED"),
    (Column("c", "bigint", unsigned=True), VALUE + avro_bytes(b""), "BIGINT UNSIGNED"),
    (Column("c", "decimal", precision=4, scale=2), VALUE + avro_bytes((10000).to_bytes(3, "big")),
     "beyond its precision"),
    (Column("c", "decimal", precision=4, scale=2), VALUE + avro_bytes(b""), "unusual size"),
    (Column("c", "decimal", precision=65, scale=30), VALUE + avro_bytes(b"\x01" * 33),
     "unusual size"),
    (Column("c", "bit", precision=10), VALUE + avro_bytes(b"\x04\x00"), "wider than"),
    (Column("c", "bit", precision=10), VALUE + avro_bytes(b"\x00" * 9), "unusual size"),
    (Column("c", "float"), VALUE + struct.pack("<f", float("nan")), "NaN"),
    (Column("c", "double"), VALUE + b"\x00\x00", "the data ends"),
    *((Column("c", "date"), VALUE + avro_bytes(text), "zero date") for text in (
        b"0000-00-00", b"2024-00-15", b"2023-02-29", b"2024-13-01", b"0000-01-01",
        b"20240101", b"2024-01-01 ", b"2024-1-01", b"")),
    *((Column("c", "datetime", scale=s), VALUE + avro_bytes(text), "zero date") for s in (0, 3)
      for text in (b"0000-00-00 00:00:00", b"2024-01-01T00:00:00", b"2024-01-01 24:00:00",
                   b"2024-01-01 00:00:00.000000", b"2024-01-01 00:00:00.000100",
                   b"2024-01-01 00:00:00.5", b"2024-01-01")),
    (Column("c", "datetime", scale=0), VALUE + avro_bytes(b"2024-01-01 00:00:00.500000"),
     "zero date"),
    (Column("c", "timestamp", scale=6), VALUE + varint(0), "zero TIMESTAMP"),
    (Column("c", "timestamp", scale=6), VALUE + varint(-5), "before the epoch"),
    (Column("c", "timestamp", scale=0), VALUE + varint(1_700_000_000_000_001), "finer"),
    (Column("c", "timestamp", scale=6), VALUE + varint(253_402_300_800 * 10**6),
     "beyond datetime's years"),
    (Column("c", "time", scale=0), VALUE + varint(839 * 3_600_000_000), "TIME out of range"),
    (Column("c", "time", scale=0), VALUE + varint(-1_500_000), "finer"),
    (Column("c", "varchar", charset=UTF8), VALUE + avro_bytes(b"a\x00b"), "NUL"),
    (Column("c", "varchar", charset=UTF8), VALUE + avro_bytes(b"\xc3"), "not UTF-8"),
    (Column("c", "varchar", charset=UTF8), VALUE + avro_bytes(b"\xed\xa0\x80"), "not UTF-8"),
    (Column("c", "varchar", charset=UTF8), VALUE + avro_bytes(b"\xc0\xaf"), "not UTF-8"),
    (Column("c", "varchar", charset=UTF8), VALUE + avro_bytes(b"\xf4\x90\x80\x80"), "not UTF-8"),
    (Column("c", "varchar", charset=UTF8), VALUE + b"\x81\x00x", "not minimal"),
    (Column("c", "varchar", charset=UTF8), VALUE + b"\x03x", "negative length"),
    (Column("c", "varchar", charset=UTF8), VALUE + b"\x08ab", "the data ends"),
    (Column("c", "json", charset=UTF8), VALUE + avro_bytes(b'"\\u0000"'), "\\u0000"),
    (Column("c", "json", charset=UTF8), VALUE + avro_bytes(b'"\\\\u0000"'), "\\u0000"),
    (Column("c", "json", charset=UTF8), VALUE + avro_bytes(b'"\x00"'), "NUL"),
    (Column("c", "enum", members=("a",), charset=UTF8), VALUE + avro_bytes(b"b"), "ENUM"),
    (Column("c", "enum", members=("a\x00",), charset=UTF8), VALUE + avro_bytes(b"a\x00"),
     "ENUM"),
    (Column("c", "set", members=("a", "b"), charset=UTF8),
     VALUE + varint(2) + _members(b"a", b"a") + b"\x00", "twice"),
    (Column("c", "set", members=("a", "b"), charset=UTF8),
     VALUE + varint(1) + _members(b"c") + b"\x00", "does not have"),
    (Column("c", "set", members=("a", "b"), charset=UTF8),
     VALUE + varint(1) + _members(b"a") + varint(1) + _members(b"b") + b"\x00",
     "more than one block"),
    (Column("c", "set", members=("a", "b"), charset=UTF8),
     VALUE + varint(-1) + varint(2) + _members(b"b") + b"\x00", "more than one block"),
    (Column("c", "set", members=("a", "b\x00"), charset=UTF8),
     VALUE + varint(1) + _members(b"b\x00") + b"\x00", "does not have"),
    (Column("c", "varchar", charset=UTF8, nullable=False), b"\x00", "NULL in a NOT NULL"),
    (Column("c", "varchar", charset=UTF8), b"\x04", "union branch"),
    (Column("c", "varchar", charset=UTF8), b"\x80\x00", "union branch"),
    (Column("c", "varchar", charset=UTF8), b"\x00\x00", "bytes after the records"),
    (Column("c", "blob"), VALUE + b"\x81", "the data ends inside a number"),
]


@pytest.mark.parametrize(("column", "record", "why"), GIVEN_UP)
def test_unusual_values_are_given_up_and_left_to_the_reference(column: Column, record: bytes,
                                                              why: str) -> None:
    schema = table(column)
    encoder = compiled_encoder(schema)
    found = encoder.compiled(1, record)
    assert isinstance(found, str)
    assert why in found
    chunks = one_record_file(schema, record)
    before = encoder.given_up_blocks
    assert_same(reference(schema, chunks, postgres_format(schema)), fused(schema, chunks, encoder))
    assert encoder.given_up_blocks == before + 1


@pytest.mark.parametrize(("column", "record"), ODD_RECORDS)
def test_records_the_writer_never_makes(column: Column, record: bytes) -> None:
    schema = table(column)
    for chunks in (one_record_file(schema, record), one_record_file(schema, record * 2, 2)):
        check_file(schema, chunks, taken=False)


def test_blocks_without_records_or_cut_short_are_left_to_the_python_path() -> None:
    encoder = compiled_encoder(table(Column("a", "varchar", charset=UTF8), Column("b", "blob")))
    assert encoder.compiled(0, b"") == "a block without records"
    assert encoder.compiled(1, b"\x00\x00") == b"\\N\t\\N\n"
    found = encoder.compiled(2, b"\x00" * 3)  # two NULLs, then the data ends
    assert found == "record 2, column 2: the data ends before a field"


@pytest.mark.parametrize("op", [
    (0, True, 0, 0, None), (99, True, 0, 0, None),
    (copy_text_compiled.TEXT, True, 0, 0, ((b"a", b"a"),)),
    (copy_text_compiled.ENUM, True, 0, 0, None), (copy_text_compiled.ENUM, True, 0, 0, ((b"a",),)),
    (copy_text_compiled.SET, True, 0, 0, tuple((b"%d" % i, b"x") for i in range(65))),
    (copy_text_compiled.INTEGER, True, 5, 4, None), (copy_text_compiled.BIT, True, 65, 0, None),
    (copy_text_compiled.DECIMAL, True, 0, 0, None), (copy_text_compiled.TIME, True, 7, 0, None),
])
def test_an_unknown_or_broken_op_is_refused(op: tuple[Any, ...]) -> None:
    module = importlib.import_module("replayer._copytext")
    with pytest.raises(ValueError, match="column 1"):
        module.program((op,))


@pytest.mark.parametrize("column", [
    Column("c", "datetime", scale=7), Column("c", "bit", precision=65),
    Column("c", "set", members=tuple(f"m{i}" for i in range(65)), charset=UTF8),
])
def test_a_table_with_a_column_it_has_no_op_for_goes_the_python_way(column: Column) -> None:
    schema = table(Column("id", "int"), column)
    assert compile_program(schema) is None
    encoder = CopyEncoder(schema, postgres_fused_encoder(schema))
    chunks = file_of(schema, [{"id": 1, "c": None}])
    assert_same(reference(schema, chunks, postgres_format(schema)), fused(schema, chunks, encoder))
    assert encoder.compiled_blocks == encoder.given_up_blocks == 0


# --- damage -------------------------------------------------------------------------------------


def damaged(edits: list[tuple[int, int]], cut: int | None, extra: bytes
            ) -> Callable[[bytes], bytes]:
    def damage(data: bytes) -> bytes:
        changed = bytearray(data)
        for offset, byte in edits:
            changed[offset % len(changed)] = byte
        if cut is not None:
            changed = changed[:cut % (len(changed) + 1)]
        return bytes(changed) + extra

    return damage


EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=3)


@settings(SLOW, max_examples=300)
@given(edits=EDITS, cut=st.one_of(st.none(), st.integers(0, 10**6)),
       extra=st.binary(max_size=2), rows=st.integers(1, 11))
def test_damaged_records_are_never_written_differently(
        edits: list[tuple[int, int]], cut: int | None, extra: bytes, rows: int) -> None:
    damage = damaged(edits, cut, extra)
    check_file(SMALL, null_file(SMALL, SMALL_ROWS[:rows], damage), taken=False)
    payments = list(payments_rows(rows))
    check_file(PAYMENTS, null_file(PAYMENTS, payments, damage), taken=False)
    torture = [row for row in TORTURE_CANONICAL if row["id"] not in (5, 9)][:rows]
    check_file(TORTURE, null_file(TORTURE, torture, damage), taken=False)


@settings(SLOW, max_examples=300)
@given(records=st.binary(max_size=200), count=st.integers(1, 4))
def test_arbitrary_bytes_are_never_written_differently(records: bytes, count: int) -> None:
    for schema in (EVERY, PAYMENTS, SMALL):
        check_block(compiled_encoder(schema), count, records, taken=False)
