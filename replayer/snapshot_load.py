"""Loading a base snapshot into a target, one data file per target transaction.

Each file is recorded as loaded in the same transaction as its rows, so an interrupted load
resumes with the first file not loaded. A table is created with its primary key only; its
secondary indexes are built once its rows are in, and foreign keys once every table is (each
step checks what the target has already, so a resumed load does it once). The engines differ
in how they create, write and index: see ``load_mysql`` and ``load_postgres``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from cdc.changes import Row, TableSchema
from cdc.snapshot.catalog import table_schema
from cdc.snapshot.chunk_file import decode_chunk
from cdc.snapshot.encryption import EncryptionKey, decrypt_chunks
from cdc.snapshot.manifest import Manifest, TableEntry
from cdc.snapshot.store import SnapshotStore
from replayer.applier import POSITION_SCHEMA, TableIncluded

LoadProgress = Callable[[str, int, int], None]


class BulkTarget(Protocol):
    connection: Any

    def create_table(self, table: TableEntry, schema: TableSchema) -> None:
        """Create the table, empty, without secondary indexes or foreign keys (dropping a
        table an interrupted load left)."""

    def write_rows(self, schema: TableSchema, rows: Iterable[Row]) -> int:
        """Write the rows, uncommitted; how many."""

    def finish_table(self, table: TableEntry, schema: TableSchema) -> None:
        """Add what the table lacks of its keys and indexes, and commit."""

    def finish_all(self, tables: tuple[TableEntry, ...]) -> None:
        """Add the foreign keys the tables lack (those between loaded tables), and commit."""


def loaded_files(connection: Any, snapshot_id: str) -> set[str]:
    cursor = connection.cursor()
    cursor.execute(f"SELECT file_name FROM {POSITION_SCHEMA}.loaded_files "
                   "WHERE snapshot_id = %s", (snapshot_id,))
    names = {str(name) for (name,) in cursor.fetchall()}
    connection.commit()
    return names


def load_snapshot(target: BulkTarget, store: SnapshotStore, manifest: Manifest,
                  key: EncryptionKey | None, *, progress: LoadProgress | None = None,
                  include: TableIncluded | None = None) -> int:
    """Rows loaded now (files loaded by an earlier, interrupted run are skipped), of the
    tables ``include`` accepts (all by default)."""
    connection = target.connection
    done = loaded_files(connection, manifest.snapshot_id)
    loaded = 0
    tables = tuple(t for t in manifest.tables
                   if include is None or include(t.database, t.table))
    for table in tables:
        schema = table_schema(table)
        if not any(f.name in done for f in table.files):
            target.create_table(table, schema)
        table_rows = sum(f.rows for f in table.files if f.name in done)
        for file in table.files:
            if file.name in done:
                continue
            data: Iterable[bytes] = store.read_file(manifest.snapshot_id, file.name)
            if manifest.encryption is not None:
                data = decrypt_chunks(data, key, file.name)
            rows = target.write_rows(schema, decode_chunk(schema, data, file.name))
            connection.cursor().execute(
                f"INSERT INTO {POSITION_SCHEMA}.loaded_files (snapshot_id, file_name, "
                "loaded_rows) VALUES (%s, %s, %s)", (manifest.snapshot_id, file.name, rows))
            connection.commit()
            loaded += rows
            table_rows += rows
            if progress is not None:
                progress(schema.qualified_name, table_rows, table.rows)
        target.finish_table(table, schema)
    target.finish_all(tables)
    return loaded
