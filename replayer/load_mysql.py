"""Loading a base snapshot into a MySQL/MariaDB target.

Each table is created from the source's own ``SHOW CREATE TABLE``, its rows go in as
multi-row INSERTs, one data file per target transaction, and the file is recorded as loaded in
the same transaction, so an interrupted load resumes with the first file not loaded. Once every
file is in, the snapshot's anchor becomes the target's applied position: replay continues
right after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from cdc.changes import Row, TableSchema
from cdc.snapshot.catalog import table_schema
from cdc.snapshot.chunk_file import decode_chunk
from cdc.snapshot.encryption import EncryptionKey, decrypt_chunks
from cdc.snapshot.manifest import Manifest, TableEntry
from cdc.snapshot.source_tables import quote
from cdc.snapshot.store import SnapshotStore
from replayer.apply_mysql import POSITION_DATABASE, to_parameter
from replayer.errors import RestorePlanError

_LOADED_DDL = (
    f"CREATE TABLE IF NOT EXISTS {POSITION_DATABASE}.loaded_files ("
    " snapshot_id VARCHAR(100) NOT NULL, file_name VARCHAR(200) NOT NULL,"
    " loaded_rows BIGINT NOT NULL, PRIMARY KEY (snapshot_id, file_name))")
_INSERT_ROWS = 1000
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+", re.IGNORECASE)

Progress = Callable[[str, int, int], None]


def loaded_files(connection: Any, snapshot_id: str) -> set[str]:
    cursor = connection.cursor()
    cursor.execute(_LOADED_DDL)
    cursor.execute(f"SELECT file_name FROM {POSITION_DATABASE}.loaded_files "
                   "WHERE snapshot_id = %s", (snapshot_id,))
    return {str(name) for (name,) in cursor.fetchall()}


def load_snapshot(connection: Any, store: SnapshotStore, manifest: Manifest,
                  key: EncryptionKey | None, progress: Progress | None = None) -> int:
    """Rows loaded now (files loaded by an earlier, interrupted run are skipped)."""
    done = loaded_files(connection, manifest.snapshot_id)
    connection.commit()
    loaded = 0
    for table in manifest.tables:
        schema = table_schema(table)
        if not any(f.name in done for f in table.files):
            _create(connection, table)
        table_rows = sum(f.rows for f in table.files if f.name in done)
        for file in table.files:
            if file.name in done:
                continue
            data: Iterable[bytes] = store.read_file(manifest.snapshot_id, file.name)
            if manifest.encryption is not None:
                data = decrypt_chunks(data, key, file.name)
            rows = _insert(connection, schema, decode_chunk(schema, data, file.name))
            connection.cursor().execute(
                f"INSERT INTO {POSITION_DATABASE}.loaded_files (snapshot_id, file_name, "
                "loaded_rows) VALUES (%s, %s, %s)", (manifest.snapshot_id, file.name, rows))
            connection.commit()
            loaded += rows
            table_rows += rows
            if progress is not None:
                progress(schema.qualified_name, table_rows, table.rows)
    return loaded


def _create(connection: Any, table: TableEntry) -> None:
    cursor = connection.cursor()
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quote(table.database)}")
    cursor.execute(f"USE {quote(table.database)}")
    cursor.execute(f"DROP TABLE IF EXISTS {quote(table.table)}")  # a create a crash cut short
    statement = table.create_statement or ""
    if not _CREATE_TABLE.match(statement):
        raise RestorePlanError(
            f"the snapshot has no CREATE TABLE statement for {table.database}.{table.table}",
            "take a new snapshot with this version of cdc")
    cursor.execute(statement)


def _insert(connection: Any, schema: TableSchema, rows: Iterable[Row]) -> int:
    names = [c.name for c in schema.columns]
    statement = (f"INSERT INTO {quote(schema.database)}.{quote(schema.table)} "
                 f"({', '.join(map(quote, names))}) VALUES ({', '.join(['%s'] * len(names))})")
    cursor = connection.cursor()
    batch: list[list[object]] = []
    count = 0
    for row in rows:
        batch.append([to_parameter(row[name]) for name in names])
        if len(batch) == _INSERT_ROWS:
            cursor.executemany(statement, batch)
            count += len(batch)
            batch = []
    if batch:
        cursor.executemany(statement, batch)
        count += len(batch)
    return count
