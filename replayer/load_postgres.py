"""Loading a base snapshot into a PostgreSQL target (see ``replayer.snapshot_load``).

A MySQL database becomes a schema. Each table is created from the snapshot's column model
(``postgres_types``) without its primary key, filled with COPY in text format straight from
the files' Avro blocks (``bulk_text_postgres``), then given its primary key and secondary
indexes, as pg_dump's output does; foreign keys come last.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import psycopg2

from cdc.changes import TableSchema
from cdc.disk_full import disk_full_error, is_disk_full
from cdc.errors import CdcError
from cdc.snapshot.chunk_file import iter_blocks
from cdc.snapshot.manifest import TableEntry
from replayer.bulk_text import encode_blocks
from replayer.bulk_text_postgres import postgres_copy_encoder
from replayer.create_statement import split_create
from replayer.postgres_ddl import (
    foreign_key_statement,
    index_statement,
    primary_key_statement,
    qualified,
)
from replayer.postgres_types import create_table_sql, quote_ident
from replayer.target_postgres import write_shape

_COPY_BUFFER = 1 << 20


class _CopyStream:
    """COPY text, block by block, read in pieces: a file's rows are never all in memory."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self.error: Exception | None = None
        """What stopped the rows (psycopg2 only reports that ``read`` failed)."""

    def read(self, size: int | None = -1) -> bytes:
        try:
            return next(self._pieces, b"")
        except Exception as exc:
            self.error = exc
            raise

    def readline(self, size: int | None = -1) -> bytes:
        return self.read(size)


class PostgresBulkTarget:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def create_table(self, table: TableEntry, schema: TableSchema) -> None:
        cursor = self.connection.cursor()
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema.database)}")
        cursor.execute(f"DROP TABLE IF EXISTS {qualified(schema.database, schema.table)}")
        cursor.execute(create_table_sql(schema, schema.database, primary_key=False))
        write_shape(cursor, schema, [])

    def write_file(self, schema: TableSchema, data: Iterable[bytes], file_name: str) -> int:
        encode = postgres_copy_encoder(schema)
        rows = 0

        def counted(count: int, block: bytes) -> bytes:
            nonlocal rows
            rows += count
            return encode(count, block)

        stream = _CopyStream(encode_blocks(iter_blocks(schema, data, file_name), counted))
        names = ", ".join(quote_ident(c.name) for c in schema.columns)
        try:
            self.connection.cursor().copy_expert(
                f"COPY {qualified(schema.database, schema.table)} ({names}) FROM STDIN",
                stream, size=_COPY_BUFFER)
        except psycopg2.Error as exc:
            self.connection.rollback()
            if isinstance(stream.error, CdcError):
                raise CdcError(f"{schema.qualified_name}: {stream.error.message}",
                               stream.error.hint) from None
            if stream.error is not None:
                raise stream.error from None
            if is_disk_full(exc):
                raise disk_full_error(exc, f"loading {schema.qualified_name}") from None
            raise CdcError(f"loading {schema.qualified_name} into PostgreSQL failed: "
                           f"{str(exc).strip()}", "check the target's disk and logs; "
                           "--resume continues with the first file not loaded") from None
        return rows

    def add_primary_key(self, table: TableEntry, schema: TableSchema) -> None:
        if not self._constraint_exists(schema.database, schema.table, "p", None):
            statement = primary_key_statement(schema)
            if statement is not None:
                self.connection.cursor().execute(statement)
        self.connection.commit()

    def index_statements(self, table: TableEntry, schema: TableSchema) -> list[str]:
        """CREATE INDEX IF NOT EXISTS of each: one built already is passed over."""
        if not table.create_statement:
            return []
        found = (index_statement(schema.database, schema.table, index)
                 for index in split_create(table.create_statement).indexes)
        return [statement for statement in found if statement is not None]

    def finish_all(self, tables: tuple[TableEntry, ...]) -> None:
        cursor = self.connection.cursor()
        loaded = {(t.database, t.table) for t in tables}
        for table in tables:
            for key in split_create(table.create_statement or "").foreign_keys:
                referenced = (key.referenced_database or table.database, key.referenced_table)
                if referenced in loaded and not self._constraint_exists(
                        table.database, table.table, "f", key.name):
                    cursor.execute(foreign_key_statement(table.database, table.table, key))
        self.connection.commit()

    def _constraint_exists(self, database: str, table: str, kind: str,
                           name: str | None) -> bool:
        cursor = self.connection.cursor()
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND contype = %s"
            " AND (%s IS NULL OR conname = %s)",
            (qualified(database, table), kind, name, name))
        return cursor.fetchone() is not None
