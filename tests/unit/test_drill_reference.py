"""The drill's reference: a snapshot's rows with the changelog's net effect laid over them."""

from __future__ import annotations

from collections.abc import Iterator

from cdc.avro.row_schema import row_codec
from cdc.changes import ChangeRecord, Column, Operation, Row, SourcePosition, TableSchema
from replayer.drill_reference import laid_over, net_changes
from replayer.verify_chunks import KeyedRow

SHAPE = TableSchema("db", "t", 0, (Column("id", "int"), Column("v", "varchar", precision=20)),
                    ("id",))
TEXT_KEY = TableSchema("db", "k", 0, (Column("code", "varchar", precision=8),
                                      Column("v", "varchar", precision=20)), ("code",))
RESHAPED = TableSchema("db", "t", 2, (Column("id", "int"),), ("id",))


def _record(operation: Operation, before: Row | None, after: Row | None, *,
            table: str = "t", version: int = 1) -> ChangeRecord:
    return ChangeRecord(operation, "db", table, version, before, after, None,
                        SourcePosition("0-1-1", "0-1-1", 1, "b.000001", 4), 1_000_000, 0, True)


def _lookup(database: str, table: str, version: int) -> TableSchema:
    if table == "k":
        return TEXT_KEY
    return RESHAPED if version == 2 else SHAPE


def _base(schema: TableSchema, rows: list[Row]) -> Iterator[KeyedRow]:
    encode = row_codec(schema).encode
    for row in rows:
        yield (row[schema.primary_key[0]],), encode(row)


def test_net_changes_keep_each_keys_last_image() -> None:
    records = [
        _record(Operation.INSERT, None, {"id": 5, "v": "new"}),
        _record(Operation.UPDATE, {"id": 1, "v": "a"}, {"id": 1, "v": "a2"}),
        _record(Operation.UPDATE, {"id": 1, "v": "a2"}, {"id": 1, "v": "a3"}),
        _record(Operation.DELETE, {"id": 2, "v": "b"}, None),
        _record(Operation.UPDATE, {"id": 3, "v": "c"}, {"id": 7, "v": "c"}),
        _record(Operation.HEARTBEAT, None, None, table=""),
        _record(Operation.INSERT, None, {"id": 2, "v": "b again"}),
    ]
    net = net_changes(records, {("db", "t"): SHAPE}, _lookup)
    assert net.by_table[("db", "t")] == {
        (5,): {"id": 5, "v": "new"}, (1,): {"id": 1, "v": "a3"},
        (2,): {"id": 2, "v": "b again"}, (3,): None, (7,): {"id": 7, "v": "c"}}
    assert net.row_changes == 6
    assert not net.reshaped


def test_a_table_whose_shape_changed_is_named_not_worked_out() -> None:
    records = [_record(Operation.INSERT, None, {"id": 1, "v": "x"}),
               _record(Operation.INSERT, None, {"id": 2}, version=2)]
    net = net_changes(records, {("db", "t"): SHAPE}, _lookup)
    assert net.reshaped == {("db", "t")}
    ddl = _record(Operation.DDL, None, None)
    assert net_changes([ddl], {("db", "t"): SHAPE}, _lookup).reshaped == {("db", "t")}
    new_table = _record(Operation.INSERT, None, {"code": "x", "v": "y"}, table="k")
    assert net_changes([new_table], {("db", "t"): SHAPE}, _lookup).reshaped == {("db", "k")}


def test_changes_arelaid_over_an_integer_keyed_table_in_key_order() -> None:
    base = [{"id": i, "v": f"v{i}"} for i in (1, 2, 3, 4, 9)]
    changes: dict[tuple[object, ...], Row | None] = {
        (0,): {"id": 0, "v": "before all"}, (2,): None, (3,): {"id": 3, "v": "changed"},
        (5,): {"id": 5, "v": "between"}, (9,): None, (12,): {"id": 12, "v": "after all"},
        (13,): None}
    merged = list(laid_over(SHAPE, lambda: _base(SHAPE, base), changes, False))
    expected = [{"id": 0, "v": "before all"}, {"id": 1, "v": "v1"}, {"id": 3, "v": "changed"},
                {"id": 4, "v": "v4"}, {"id": 5, "v": "between"}, {"id": 12, "v": "after all"}]
    assert merged == list(_base(SHAPE, expected))


def test_changes_arelaid_over_a_table_of_another_key_as_a_set() -> None:
    base = [{"code": c, "v": c.upper()} for c in ("a", "b", "c")]
    changes: dict[tuple[object, ...], Row | None] = {
        ("b",): None, ("c",): {"code": "c", "v": "C2"}, ("z",): {"code": "z", "v": "Z"}}
    merged = dict(laid_over(TEXT_KEY, lambda: _base(TEXT_KEY, base), changes, False))
    expected = dict(_base(TEXT_KEY, [{"code": "a", "v": "A"}, {"code": "c", "v": "C2"},
                                     {"code": "z", "v": "Z"}]))
    assert merged == expected
