"""Loading a base snapshot into a target, one data file per target transaction.

Each file is recorded as loaded in the same transaction as its rows, so an interrupted load
resumes with the first file not loaded. A table is created with its primary key only; its
secondary indexes are built once its rows are in, side by side over the workers' connections,
and foreign keys once every table is (each step checks what the target has already, so a
resumed load does it once). The engines differ
in how they create, write and index: see ``load_mysql`` and ``load_postgres``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Protocol

from cdc.changes import TableSchema
from cdc.process_lifetime import die_with
from cdc.snapshot.catalog import table_schema
from cdc.snapshot.encryption import EncryptionKey, decrypt_chunks
from cdc.snapshot.manifest import FileEntry, Manifest, TableEntry
from cdc.snapshot.store import SnapshotStore
from replayer.applier import POSITION_SCHEMA, TableIncluded

LoadProgress = Callable[[str, int, int], None]


class BulkTarget(Protocol):
    connection: Any

    def create_table(self, table: TableEntry, schema: TableSchema) -> None:
        """Create the table, empty, without secondary indexes or foreign keys (dropping a
        table an interrupted load left)."""

    def write_file(self, schema: TableSchema, data: Iterable[bytes], file_name: str) -> int:
        """Write the rows of a data file (its bytes, decrypted), uncommitted; how many.
        A file that does not read whole raises ``SnapshotIntegrityError`` naming it."""

    def add_primary_key(self, table: TableEntry, schema: TableSchema) -> None:
        """Add the table's primary key if it lacks it, and commit."""

    def index_statements(self, table: TableEntry, schema: TableSchema) -> list[str]:
        """The statements that add the secondary indexes the table lacks; they may run side
        by side, each over its own connection."""

    def finish_all(self, tables: tuple[TableEntry, ...]) -> None:
        """Add the foreign keys the tables lack (those between loaded tables), and commit."""


def loaded_files(connection: Any, snapshot_id: str) -> set[str]:
    cursor = connection.cursor()
    cursor.execute(f"SELECT file_name FROM {POSITION_SCHEMA}.loaded_files "
                   "WHERE snapshot_id = %s", (snapshot_id,))
    names = {str(name) for (name,) in cursor.fetchall()}
    connection.commit()
    return names


def snapshot_being_loaded(connection: Any) -> str | None:
    """The snapshot an interrupted load was loading, if any."""
    cursor = connection.cursor()
    cursor.execute(f"SELECT MIN(snapshot_id) FROM {POSITION_SCHEMA}.loaded_files")
    found = cursor.fetchone()
    connection.commit()
    return None if found is None or found[0] is None else str(found[0])


@dataclass(frozen=True)
class LoadJob:
    """What loading a snapshot needs besides the target's main connection."""

    manifest: Manifest
    store: Callable[[], SnapshotStore]
    key: EncryptionKey | None
    open_target: Callable[[], BulkTarget]
    """A new connection to the target, prepared, for a worker process."""
    workers: int = 1


@dataclass(frozen=True)
class SnapshotLoaded:
    rows: int
    """Rows loaded now (not those an earlier, interrupted run loaded)."""
    index_s: float
    """The part of the load spent adding keys, indexes and foreign keys."""


def load_snapshot(target: BulkTarget, job: LoadJob, *, progress: LoadProgress | None = None,
                  include: TableIncluded | None = None) -> SnapshotLoaded:
    """Load the tables ``include`` accepts (all by default); files loaded by an earlier,
    interrupted run are skipped. With several workers, each loads whole files over its own
    connection; tables still come one after the other."""
    manifest = job.manifest
    connection = target.connection
    done = loaded_files(connection, manifest.snapshot_id)
    loaded = 0
    index_s = 0.0
    tables = tuple(t for t in manifest.tables
                   if include is None or include(t.database, t.table))
    with ExitStack() as stack:
        pool: ProcessPoolExecutor | None = None
        for table in tables:
            schema = table_schema(table)
            if not any(f.name in done for f in table.files):
                target.create_table(table, schema)
                connection.commit()
            table_rows = sum(f.rows for f in table.files if f.name in done)
            todo = [f for f in table.files if f.name not in done]
            if job.workers > 1 and len(todo) > 1 and pool is None:
                pool = stack.enter_context(_pool(job, len(todo)))
            if pool is not None and len(todo) > 1:
                results: Iterable[int] = pool.map(_load_in_worker, [table] * len(todo), todo)
            else:
                results = (_load_file(target, job, table, file) for file in todo)
            for rows in results:
                loaded += rows
                table_rows += rows
                if progress is not None:
                    progress(schema.qualified_name, table_rows, table.rows)
            indexing = time.monotonic()
            target.add_primary_key(table, schema)
            indexes = target.index_statements(table, schema)
            if job.workers > 1 and len(indexes) > 1 and pool is None:
                pool = stack.enter_context(_pool(job, len(indexes)))
            if pool is not None and len(indexes) > 1:
                list(pool.map(_index_in_worker, indexes))  # the indexes of a table side by side
            else:
                for statement in indexes:
                    _run(target.connection, statement)
            index_s += time.monotonic() - indexing
    indexing = time.monotonic()
    target.finish_all(tables)
    return SnapshotLoaded(loaded, index_s + time.monotonic() - indexing)


def _pool(job: LoadJob, tasks: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(min(job.workers, tasks),
                               mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(job, os.getpid()))


def _run(connection: Any, statement: str) -> None:
    connection.cursor().execute(statement)
    connection.commit()


def _load_file(target: BulkTarget, job: LoadJob, table: TableEntry, file: FileEntry) -> int:
    """Load one data file and record it as loaded, in one target transaction."""
    snapshot_id = job.manifest.snapshot_id
    data: Iterable[bytes] = job.store().read_file(snapshot_id, file.name)
    if job.manifest.encryption is not None:
        data = decrypt_chunks(data, job.key, file.name)
    rows = target.write_file(table_schema(table), data, file.name)
    connection = target.connection
    connection.cursor().execute(
        f"INSERT INTO {POSITION_SCHEMA}.loaded_files (snapshot_id, file_name, loaded_rows) "
        "VALUES (%s, %s, %s)", (snapshot_id, file.name, rows))
    connection.commit()
    return rows


_worker: tuple[BulkTarget, LoadJob] | None = None


def _start_worker(job: LoadJob, parent: int) -> None:
    global _worker  # noqa: PLW0603 - one target connection per worker process
    # A worker stops when the restore does, even by SIGKILL: a file it went on loading
    # would race the file's reload by --resume.
    die_with(parent)
    _worker = (job.open_target(), job)


def _load_in_worker(table: TableEntry, file: FileEntry) -> int:
    assert _worker is not None, "the worker was not started"
    target, job = _worker
    return _load_file(target, job, table, file)


def _index_in_worker(statement: str) -> None:
    assert _worker is not None, "the worker was not started"
    _run(_worker[0].connection, statement)
