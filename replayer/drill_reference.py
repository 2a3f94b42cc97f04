"""What a restore to a point must hold, worked out without the target: the snapshot's rows
with the net effect of the changelog from its anchor to the point laid over them, key by key.
A drill compares the restored target with this, so a restore that loads or replays wrongly
(or a damaged snapshot) shows, rather than a target compared with itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial

from cdc.avro.row_schema import row_codec
from cdc.changes import ChangeRecord, Operation, Row, TableSchema
from cdc.snapshot.tasks import integer_key
from replayer.apply_mysql import POSITION_DATABASE
from replayer.verify_chunks import KeyedRow, SourceTable, stream_chunks
from replayer.verify_compare import Key, normal_json
from replayer.verify_snapshot import StoredSnapshot, keyed_rows

SchemaLookup = Callable[[str, str, int], TableSchema]


@dataclass
class NetChanges:
    """Per table, each changed key's last image (None: deleted); tables whose shape changed
    after the snapshot cannot be worked out this way and are named instead."""

    by_table: dict[tuple[str, str], dict[Key, Row | None]] = field(default_factory=dict)
    reshaped: set[tuple[str, str]] = field(default_factory=set)
    row_changes: int = 0


def net_changes(records: Iterable[ChangeRecord], snapshot_shapes: dict[tuple[str, str],
                TableSchema], lookup: SchemaLookup) -> NetChanges:
    net = NetChanges()
    for record in records:
        name = (record.database, record.table)
        if record.operation is Operation.DDL:
            if record.table:
                net.reshaped.add(name)
            continue
        if record.operation.is_marker or name in net.reshaped:
            continue
        shape = snapshot_shapes.get(name)
        if shape is None or not shape.same_shape(
                lookup(record.database, record.table, record.schema_version)):
            net.reshaped.add(name)
            continue
        net.row_changes += 1
        changes = net.by_table.setdefault(name, {})
        keys = shape.primary_key or tuple(c.name for c in shape.columns)
        if record.before is not None:
            changes[tuple(record.before[k] for k in keys)] = None
        if record.after is not None:
            changes[tuple(record.after[k] for k in keys)] = record.after
    return net


def reference_tables(snapshot: StoredSnapshot, net: NetChanges,
                     shapes: dict[tuple[str, str], TableSchema], chunk_rows: int, *,
                     normalize_json: bool) -> Iterator[SourceTable]:
    """Every table of ``shapes`` (the snapshot's, as chosen; not the reshaped ones) as it must
    be at the point."""
    for entry in snapshot.manifest.tables:
        name = (entry.database, entry.table)
        if entry.database == POSITION_DATABASE or name in net.reshaped \
                or name not in shapes:
            continue
        schema = shapes[name]
        base = partial(keyed_rows, snapshot, entry, schema, normalize_json)
        changes = net.by_table.get(name, {})
        rows = partial(laid_over, schema, base, changes, normalize_json)
        yield SourceTable(schema, entry.rows, stream_chunks(schema, rows, chunk_rows))


def laid_over(schema: TableSchema, base: Callable[[], Iterator[KeyedRow]],
               changes: dict[Key, Row | None], normalize_json: bool) -> Iterator[KeyedRow]:
    encode = row_codec(schema).encode
    json_columns = [c.name for c in schema.columns if c.type == "json"] if normalize_json else []

    def encoded(row: Row) -> bytes:
        if json_columns:
            row = {**row, **{name: normal_json(row[name]) for name in json_columns}}
        return encode(row)

    if integer_key(schema) is None:  # compared as a set: any order will do
        for key, record in base():
            if key not in changes:
                yield key, record
        for key, row in changes.items():
            if row is not None:
                yield key, encoded(row)
        return
    pending = sorted(changes.items(), key=lambda item: _integer(item[0]))
    index = 0
    for key, record in base():
        while index < len(pending) and _integer(pending[index][0]) < _integer(key):
            changed_key, row = pending[index]
            index += 1
            if row is not None:
                yield changed_key, encoded(row)
        if index < len(pending) and pending[index][0] == key:
            row = pending[index][1]
            index += 1
            if row is not None:
                yield key, encoded(row)
            continue
        yield key, record
    for changed_key, row in pending[index:]:
        if row is not None:
            yield changed_key, encoded(row)


def _integer(key: Key) -> int:
    value = key[0]
    if not isinstance(value, int):
        raise TypeError(f"an integer key was expected, not {value!r}")
    return value
