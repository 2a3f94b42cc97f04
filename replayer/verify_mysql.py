"""``replayer verify`` between two MySQL/MariaDB servers: both read in primary-key chunks,
each inside a consistent read, through the snapshot's reader and canonical encoder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import MySQLdb

from cdc.changes import TableSchema
from cdc.dsn import Dsn
from cdc.snapshot.raw_values import EncodeBatch, batch_encoder
from cdc.snapshot.session import connect
from cdc.snapshot.source_tables import (
    TableSelection,
    estimated_rows,
    list_tables,
    read_table_schema,
)
from cdc.snapshot.table_rows import key_bounds, read_raw_rows
from cdc.snapshot.tasks import integer_key, plan_tasks
from replayer.verify_compare import (
    Key,
    KeyRange,
    TableVerdict,
    add_chunk,
    add_row_differences,
    digest,
)

_BATCH = 256
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class VerifyRequest:
    source: Dsn
    target: Dsn
    tables: TableSelection
    chunk_rows: int = 100_000


def verify_mysql(request: VerifyRequest, progress: Progress | None = None
                 ) -> list[TableVerdict]:
    source, target = connect(request.source), connect(request.target)
    try:
        for connection in (source, target):
            _freeze(connection)
        return [_verify_table(source, target, (database, table), request, progress)
                for database, table in list_tables(source.cursor(), request.tables)]
    finally:
        for connection in (source, target):
            with suppress(MySQLdb.Error):
                connection.close()


def _freeze(connection: Any) -> None:
    """One consistent read for the whole comparison, in UTC."""
    cursor = connection.cursor()
    cursor.execute("SET SESSION time_zone = '+00:00'")
    cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")


def _verify_table(source: Any, target: Any, name: tuple[str, str], request: VerifyRequest,
                  progress: Progress | None) -> TableVerdict:
    database, table = name
    verdict = TableVerdict(f"{database}.{table}")
    schema = read_table_schema(source.cursor(), database, table)
    if not _exists(target, database, table):
        verdict.problems.append("the table is missing in the target")
        return verdict
    theirs = read_table_schema(target.cursor(), database, table)
    if not schema.same_shape(theirs):
        verdict.problems.append(_shape_difference(schema, theirs))
        return verdict
    key = integer_key(schema)
    bounds = _union(key_bounds(source, schema, key), key_bounds(target, theirs, key)) \
        if key else None
    estimate = estimated_rows(source.cursor(), database, table)
    encode = batch_encoder(schema)
    for task in plan_tasks(0, schema, bounds, estimated_rows=estimate,
                           file_rows=request.chunk_rows, workers=1):
        ours = digest(_encoded(source, schema, task.key_range, encode), task.key_range)
        other = digest(_encoded(target, schema, task.key_range, encode), task.key_range)
        if add_chunk(verdict, ours, other):
            add_row_differences(verdict, _by_key(source, schema, task.key_range, encode),
                                _by_key(target, schema, task.key_range, encode))
        if progress is not None:
            progress(verdict.table, verdict.source_rows, estimate)
    return verdict


def _exists(connection: Any, database: str, table: str) -> bool:
    cursor = connection.cursor()
    cursor.execute("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                   "AND TABLE_NAME = %s", (database, table))
    return cursor.fetchone() is not None


def _shape_difference(ours: TableSchema, theirs: TableSchema) -> str:
    mine = {c.name: c for c in ours.columns}
    other = {c.name: c for c in theirs.columns}
    parts = [f"column {name} only in the source" for name in mine.keys() - other.keys()]
    parts += [f"column {name} only in the target" for name in other.keys() - mine.keys()]
    parts += [f"column {name}: {mine[name]} in the source, {other[name]} in the target"
              for name in mine.keys() & other.keys() if mine[name] != other[name]]
    if ours.primary_key != theirs.primary_key:
        parts.append(f"primary key {ours.primary_key} in the source, {theirs.primary_key} in "
                     "the target")
    return "the table's shape differs: " + ("; ".join(sorted(parts)) or "column order")


def _union(first: KeyRange, second: KeyRange) -> KeyRange:
    if first is None or second is None:
        return first or second
    return min(first[0], second[0]), max(first[1], second[1])


def _encoded(connection: Any, schema: TableSchema, key_range: KeyRange,
             encode: EncodeBatch) -> Iterator[bytes]:
    batch: list[tuple[object, ...]] = []
    for row in read_raw_rows(connection, schema, key_range):
        batch.append(row)
        if len(batch) == _BATCH:
            yield from encode(batch)
            batch = []
    if batch:
        yield from encode(batch)


def _by_key(connection: Any, schema: TableSchema, key_range: KeyRange,
            encode: EncodeBatch) -> dict[Key, bytes]:
    names = [c.name for c in schema.columns]
    key_at = [names.index(k) for k in schema.primary_key] or list(range(len(names)))
    rows = list(read_raw_rows(connection, schema, key_range))
    return {tuple(row[i] for i in key_at): record
            for row, record in zip(rows, encode(rows), strict=True)}
