from __future__ import annotations

from decimal import Decimal

import pytest

from cdc.assembler import Assembler, Emission, EncodedRow, Output
from cdc.avro.codec import encode_key, encode_record
from cdc.avro.envelope import encode_parts
from cdc.avro.row_schema import row_codec
from cdc.binlog.events import (
    BinlogCoordinates,
    QueryStatement,
    RowImages,
    SourceEvent,
    SourceIdle,
    TransactionBegin,
    TransactionCommit,
)
from cdc.changes import ChangeRecord, Column, Operation, TableSchema
from cdc.errors import SourceStreamError
from cdc.position import GtidPosition, parse_gtid
from cdc.schema_registry import SchemaRegistry

COLUMNS = (Column("id", "int"), Column("amount", "decimal", precision=19, scale=4))


def at(position: int) -> BinlogCoordinates:
    return BinlogCoordinates("bin.000001", position)


def begin(gtid: str, standalone: bool = False) -> TransactionBegin:
    return TransactionBegin(parse_gtid(gtid), 1_700_000_000_000_000, standalone)


def rows(table: str, *images: tuple[dict[str, object] | None, dict[str, object] | None],
         operation: Operation = Operation.INSERT, position: int = 100) -> RowImages:
    return RowImages(operation, "shop", table, COLUMNS, ("id",), tuple(images), at(position))


def everything(database: str, table: str | None) -> bool:
    return True


def make(position: str = "0-1-5") -> Assembler:
    return Assembler(GtidPosition.parse(position), SchemaRegistry(), everything)


def test_a_transaction_becomes_ordered_records_with_only_the_last_marked() -> None:
    assembler = make()
    out = assembler.feed(begin("0-1-6"))
    out += assembler.feed(rows("t", (None, {"id": 1}), (None, {"id": 2}), position=200))
    assert [_record_of(e).after for e in out] == [{"id": 1}], "the newest record is held back"
    assert not assembler.at_boundary
    out += assembler.feed(rows("t", ({"id": 1}, {"id": 3}), operation=Operation.UPDATE,
                               position=300))
    out += assembler.feed(TransactionCommit(at(400)))
    records = [_record_of(e) for e in out]
    assert [r.transaction_index for r in records] == [0, 1, 2]
    assert [r.transaction_last for r in records] == [False, False, True]
    assert [r.operation for r in records] == [Operation.INSERT] * 2 + [Operation.UPDATE]
    assert {r.position.gtid for r in records} == {"0-1-6"}
    assert {r.position.gtid_position for r in records} == {"0-1-6"}
    assert records[-1].position.binlog_position == 400
    assert str(assembler.position) == "0-1-6"
    assert assembler.at_boundary
    assert [e.publish_schema for e in out] == [True, False, False]


def _record_of(emission: Output) -> ChangeRecord:
    assert isinstance(emission, Emission), "canonical images give regular emissions"
    return emission.record


def test_excluded_tables_advance_the_position_without_records() -> None:
    assembler = Assembler(GtidPosition.parse("0-1-5"), SchemaRegistry(),
                          lambda db, table: table != "secret")
    out = assembler.feed(begin("0-1-6"))
    out += assembler.feed(rows("secret", (None, {"id": 1})))
    out += assembler.feed(TransactionCommit(at(400)))
    assert out == []
    assert str(assembler.position) == "0-1-6"
    heartbeat = assembler.heartbeat(42)
    assert heartbeat.operation is Operation.HEARTBEAT
    assert heartbeat.position.gtid_position == "0-1-6"
    assert heartbeat.commit_time_us == 42


def test_ddl_is_a_record_with_the_next_schema_version() -> None:
    assembler = make()
    assembler.feed(begin("0-1-6"))
    assembler.feed(rows("t", (None, {"id": 1})))
    assembler.feed(TransactionCommit(at(400)))
    out = assembler.feed(begin("0-1-7", standalone=True))
    out += assembler.feed(QueryStatement("shop", "ALTER TABLE t ADD COLUMN note TEXT", at(500)))
    out += assembler.feed(TransactionCommit(at(500)))
    (ddl,) = [_record_of(e) for e in out]
    assert (ddl.operation, ddl.table, ddl.schema_version) == (Operation.DDL, "t", 2)
    assert ddl.statement == "ALTER TABLE t ADD COLUMN note TEXT"
    assert ddl.transaction_last


def test_non_ddl_statements_are_not_records() -> None:
    assembler = make()
    out = assembler.feed(begin("0-1-6"))
    out += assembler.feed(QueryStatement("shop", "SAVEPOINT a", at(10)))
    out += assembler.feed(TransactionCommit(at(20)))
    out += assembler.feed(SourceIdle(at(20)))
    assert out == []


def test_a_repeated_or_nested_transaction_is_a_stream_error() -> None:
    assembler = make()
    with pytest.raises(SourceStreamError, match="already captured"):
        assembler.feed(begin("0-1-5"))
    assembler.feed(begin("0-1-6"))
    with pytest.raises(SourceStreamError, match="began before"):
        assembler.feed(begin("0-1-7"))
    with pytest.raises(SourceStreamError, match="heartbeat"):
        assembler.heartbeat(1)


def test_rows_outside_a_transaction_are_a_stream_error() -> None:
    with pytest.raises(SourceStreamError, match="outside a transaction"):
        make().feed(rows("t", (None, {"id": 1})))


def _bytes_of(emission: Output) -> tuple[bytes | None, bytes]:
    """The Kafka key and value capture writes for an emission, as ``Capture._write`` does."""
    if isinstance(emission, EncodedRow):
        before, after, key = emission.encoded
        return key, encode_parts(
            emission.operation, emission.schema.database, emission.schema.table,
            emission.schema.version, before=before, after=after, statement=None,
            position=emission.position, commit_time_us=emission.commit_time_us,
            transaction_index=emission.transaction_index,
            transaction_last=emission.transaction_last)
    return (encode_key(emission.record, emission.schema),
            encode_record(emission.record, emission.schema))


def test_rows_the_fast_path_encoded_give_the_same_records_byte_for_byte() -> None:
    schema = TableSchema("shop", "t", 1, COLUMNS, ("id",))
    codec = row_codec(schema)

    def encoded(event: RowImages) -> RowImages:
        return RowImages(event.operation, event.database, event.table, event.columns,
                         event.primary_key, (), event.coordinates, tuple(
                             (None if b is None else codec.encode(b),
                              None if a is None else codec.encode(a),
                              codec.encode_key(a if a is not None else b or {}))
                             for b, a in event.images))

    def row(row_id: int, cents: int | None) -> dict[str, object]:
        return {"id": row_id, "amount": None if cents is None else Decimal(cents).scaleb(-4)}

    events: list[SourceEvent] = [
        begin("0-1-6"), rows("t", (None, row(1, 150)), (None, row(2, None)), position=200),
        rows("t", (row(1, 150), row(3, -7)), operation=Operation.UPDATE, position=300),
        TransactionCommit(at(400)), begin("0-1-7"),
        rows("t", (row(2, None), None), operation=Operation.DELETE, position=500),
        TransactionCommit(at(600))]
    lanes = []
    for fast in (False, True):
        assembler = make()
        out: list[Output] = []
        for event in events:
            out += assembler.feed(encoded(event) if fast and isinstance(event, RowImages)
                                  else event)
        assert all(isinstance(e, EncodedRow) == fast for e in out)
        lanes.append([_bytes_of(e) for e in out])
    regular, fast_lane = lanes
    assert len(regular) == 4
    assert fast_lane == regular
