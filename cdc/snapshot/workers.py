"""Reading a snapshot's tasks in several processes, each with its own consistent read.

The parent opens every connection and agrees their snapshot point
(``open_consistent_reads``), then forks one worker per connection, so that each worker reads
inside a snapshot at the same binlog point as every other. Workers take tasks from a queue,
write one data file per task to the store, and send back its entry, progress, or the error
that stopped them; the first error stops the whole snapshot.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

from cdc.changes import TableSchema
from cdc.errors import CdcError
from cdc.snapshot.chunk_file import encode_batches
from cdc.snapshot.encryption import EncryptionKey, encrypt_chunks
from cdc.snapshot.errors import SnapshotError
from cdc.snapshot.manifest import FileEntry
from cdc.snapshot.raw_values import batch_encoder
from cdc.snapshot.store import SnapshotStore
from cdc.snapshot.table_rows import canonical_values, read_raw_rows
from cdc.snapshot.tasks import ReadTask
from cdc.snapshot.text_values import converter_for
from cdc.values import to_json_value

_PROGRESS_EVERY = 5000
_POLL_S = 0.5


@dataclass(frozen=True)
class FileJob:
    """What every worker needs besides its connection and its tasks."""

    store: Callable[[], SnapshotStore]
    snapshot_id: str
    compression: str
    key: EncryptionKey | None


Progress = Callable[[int, int], None]
"""(table index, rows read in it since the last call)."""


def run_tasks(connections: list[Any], tasks: list[ReadTask], job: FileJob,
              progress: Progress) -> dict[tuple[int, int], FileEntry]:
    """Every task's file entry, by (table index, part)."""
    context = multiprocessing.get_context("fork")
    todo: Any = context.Queue()
    results: Any = context.Queue()
    for task in tasks:
        todo.put(task)
    for _ in connections:
        todo.put(None)
    workers = [context.Process(target=_work, args=(connection, job, todo, results),
                               name=f"snapshot-reader-{n}", daemon=True)
               for n, connection in enumerate(connections)]
    for worker in workers:
        worker.start()
    entries: dict[tuple[int, int], FileEntry] = {}
    try:
        while len(entries) < len(tasks):
            try:
                kind, *payload = results.get(timeout=_POLL_S)
            except queue.Empty:
                _check_alive(workers)
                continue
            if kind == "progress":
                progress(*payload)
            elif kind == "file":
                table_index, part, entry = payload
                entries[(table_index, part)] = entry
            else:
                raise payload[0]
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(timeout=30)
    return entries


def _check_alive(workers: list[Any]) -> None:
    for worker in workers:
        if not worker.is_alive() and worker.exitcode not in (0, None):
            raise SnapshotError(f"a snapshot reader process ended with status {worker.exitcode}",
                                "the machine may be out of memory; see the system log")


def _work(connection: Any, job: FileJob, todo: Any, results: Any) -> None:
    try:
        store = job.store()
        while (task := todo.get()) is not None:
            entry = write_task(connection, store, job, task, _reporter(results, task))
            results.put(("file", task.table_index, task.part, entry))
    except CdcError as exc:
        results.put(("error", exc))
    except Exception as exc:  # sent back whole, so the parent reports what happened
        results.put(("error", SnapshotError(f"a snapshot reader failed: {exc!r}",
                                            "see the log above; the snapshot was abandoned")))


def _reporter(results: Any, task: ReadTask) -> Callable[[int], None]:
    def report(rows: int) -> None:
        results.put(("progress", task.table_index, rows))
    return report


def write_task(connection: Any, store: SnapshotStore, job: FileJob, task: ReadTask,
               progress: Callable[[int], None]) -> FileEntry:
    """Reads the task's rows and stores them as one data file; the rows go from the driver's
    tuples straight to their Avro bytes (``raw_values``), never through canonical rows."""
    counter = _KeyRange(task.schema, progress)
    rows = counter.wrap(read_raw_rows(connection, task.schema, task.key_range))
    data: Iterable[bytes] = encode_batches(task.schema, rows, batch_encoder(task.schema),
                                           codec=job.compression)
    if job.key is not None:
        data = encrypt_chunks(data, job.key)
    stored = store.write_file(job.snapshot_id, task.file_name, data)
    return FileEntry(name=task.file_name, rows=counter.rows, bytes=stored.size,
                     sha256=stored.sha256, first_key=counter.first, last_key=counter.last)


RawRow = tuple[object, ...]


class _KeyRange:
    """Counts the rows (the driver's tuples) that pass through and keeps the first and last
    primary key, as the JSON of their canonical values."""

    def __init__(self, schema: TableSchema, progress: Callable[[int], None]) -> None:
        self._schema = schema
        self._names = schema.primary_key
        self._positions = tuple(_position(schema, name) for name in schema.primary_key)
        self._converters = tuple(converter_for(schema.column(name)) for name in self._names)
        self._progress = progress
        self.rows = 0
        self.first: JsonValue = None
        self.last: JsonValue = None

    def wrap(self, rows: Iterable[RawRow]) -> Iterator[RawRow]:
        row: RawRow | None = None
        reported = 0
        for row in rows:
            if self.rows == 0:
                self.first = self._key_of(row)
            self.rows += 1
            if self.rows - reported >= _PROGRESS_EVERY:
                self._progress(self.rows - reported)
                reported = self.rows
            yield row
        if row is not None:
            self.last = self._key_of(row)
        self._progress(self.rows - reported)

    def _key_of(self, row: RawRow) -> JsonValue:
        if not self._names:
            return None
        key = canonical_values(self._schema, self._names, self._converters,
                               [row[position] for position in self._positions])
        return [to_json_value(key[name]) for name in self._names]


def _position(schema: TableSchema, name: str) -> int:
    return [column.name for column in schema.columns].index(name)
