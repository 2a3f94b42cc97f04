"""One table's two copies compared chunk by chunk, whatever the copies are. Pure.

A copy is read through ``TableCopy`` (MySQL/MariaDB in ``verify_mysql``, PostgreSQL in
``verify_postgres``); a target hands out the copy of each source table (``Target``), or says
why it has none. The source side of a table is a ``SourceTable``: its shape and a plan of
chunks, each able to give its rows' encodings twice (once for the digest, once more to name
keys when the digests differ). A live server's chunks are key ranges planned like a
snapshot's files (``range_chunks``); a stored snapshot's rows arrive as one stream in key
order and are cut into chunks as they pass (``stream_chunks``, used by ``verify_snapshot``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from cdc.changes import TableSchema
from cdc.snapshot.tasks import integer_key, plan_tasks
from replayer.verify_compare import (
    Key,
    KeyRange,
    TableVerdict,
    add_chunk,
    add_row_differences,
    digest,
)

KeyedRow = tuple[Key, bytes]
"""A row's primary key (its canonical values) and its canonical encoding."""
Progress = Callable[[str, int, int], None]


class TableCopy(Protocol):
    """One copy of one table, read inside its side's consistent read."""

    def key_bounds(self) -> tuple[int, int] | None:
        """The smallest and largest integer key; None for an empty table or another key."""

    def encoded(self, key_range: KeyRange) -> Iterable[bytes]:
        """The encodings of the rows in the range (None: all), in primary-key order."""

    def by_key(self, key_range: KeyRange) -> Mapping[Key, bytes]:
        """The rows in the range by primary key (by all columns without one)."""


class Target(Protocol):
    def copy_of(self, schema: TableSchema) -> TableCopy | str:
        """The target's copy of the source table ``schema``, or why it has none that can be
        compared (missing, another shape)."""


@dataclass(frozen=True)
class Chunk:
    key_range: KeyRange
    encoded: Callable[[], Iterable[bytes]]
    by_key: Callable[[], Mapping[Key, bytes]]


ChunkPlan = Callable[[TableCopy], Iterator[Chunk]]
"""A source table's chunks, given the target's copy (whose key range they must cover too)."""


@dataclass(frozen=True)
class SourceTable:
    schema: TableSchema
    estimated_rows: int
    chunks: ChunkPlan


def verify_tables(tables: Iterable[SourceTable], target: Target,
                  progress: Progress | None = None) -> list[TableVerdict]:
    """Every source table against the target's copy of it."""
    verdicts = []
    for table in tables:
        verdict = TableVerdict(table.schema.qualified_name)
        verdicts.append(verdict)
        copy = target.copy_of(table.schema)
        if isinstance(copy, str):
            verdict.problems.append(copy)
            continue
        ordered = integer_key(table.schema) is not None
        for chunk in table.chunks(copy):
            ours = digest(chunk.encoded(), chunk.key_range, ordered=ordered)
            theirs = digest(copy.encoded(chunk.key_range), chunk.key_range, ordered=ordered)
            if add_chunk(verdict, ours, theirs):
                add_row_differences(verdict, chunk.by_key(), copy.by_key(chunk.key_range))
            if progress is not None:
                progress(verdict.table, verdict.source_rows, table.estimated_rows)
    return verdicts


def range_chunks(schema: TableSchema, source: TableCopy, estimated_rows: int,
                 chunk_rows: int) -> ChunkPlan:
    """Chunks of about ``chunk_rows`` rows over both copies' integer key range (one chunk,
    the whole table, for another key), each read from ``source`` when asked."""
    def plan(target: TableCopy) -> Iterator[Chunk]:
        bounds = _union(source.key_bounds(), target.key_bounds()) \
            if integer_key(schema) else None
        for task in plan_tasks(0, schema, bounds, estimated_rows=estimated_rows,
                               file_rows=chunk_rows, workers=1):
            yield _read_from(source, task.key_range)

    return plan


def stream_chunks(schema: TableSchema, rows: Callable[[], Iterator[KeyedRow]],
                  chunk_rows: int) -> ChunkPlan:
    """Chunks of a table whose rows ``rows()`` streams in primary-key order: for an integer
    key, every ``chunk_rows`` rows (held until compared), the first reaching down to the
    target's smallest key, the last up to its largest; for another key, the whole table,
    streamed again to name keys."""
    def plan(target: TableCopy) -> Iterator[Chunk]:
        if integer_key(schema) is None:
            yield Chunk(None, lambda: (record for _, record in rows()), lambda: dict(rows()))
            return
        yield from _cut(rows(), target.key_bounds(), chunk_rows)

    return plan


def _cut(rows: Iterator[KeyedRow], bounds: tuple[int, int] | None,
         chunk_rows: int) -> Iterator[Chunk]:
    target_low, target_high = bounds if bounds is not None else (None, None)
    next_low: int | None = None  # one past the previous chunk's last key
    batch: list[KeyedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == chunk_rows:
            low = next_low if next_low is not None else _lowest(batch, target_low)
            high = _integer(batch[-1])
            yield _held((low, high), batch)
            next_low, batch = high + 1, []
    if batch:
        low = next_low if next_low is not None else _lowest(batch, target_low)
        high = _integer(batch[-1])
        yield _held((low, high if target_high is None else max(high, target_high)), batch)
    elif bounds is not None and (next_low is None or bounds[1] >= next_low):
        # no source rows (left): the target's rows past the source's last key
        yield _held((bounds[0] if next_low is None else next_low, bounds[1]), [])
    elif next_low is None:
        yield _held(None, [])  # both copies empty


def _held(key_range: KeyRange, batch: list[KeyedRow]) -> Chunk:
    return Chunk(key_range, lambda: (record for _, record in batch), lambda: dict(batch))


def _read_from(source: TableCopy, key_range: KeyRange) -> Chunk:
    return Chunk(key_range, lambda: source.encoded(key_range), lambda: source.by_key(key_range))


def _integer(row: KeyedRow) -> int:
    value = row[0][0]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"the integer key {value!r} is not an integer")
    return value


def _lowest(batch: list[KeyedRow], target_low: int | None) -> int:
    first = _integer(batch[0])
    return first if target_low is None else min(first, target_low)


def _union(first: KeyRange, second: KeyRange) -> KeyRange:
    if first is None or second is None:
        return first or second
    return min(first[0], second[0]), max(first[1], second[1])
