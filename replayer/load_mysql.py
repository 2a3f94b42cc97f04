"""Loading a base snapshot into a MySQL/MariaDB target (see ``replayer.snapshot_load``).

Each table is created from the source's own ``SHOW CREATE TABLE`` less its secondary indexes
and foreign keys, its rows go in with LOAD DATA LOCAL INFILE of text made straight from the
files' Avro blocks (``bulk_text_mysql``), and the indexes and foreign keys are added with one
ALTER TABLE each afterwards (foreign keys unchecked: the source checked them).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from typing import Any

from cdc.changes import TableSchema
from cdc.snapshot.chunk_file import iter_blocks
from cdc.snapshot.manifest import TableEntry
from cdc.snapshot.source_tables import quote
from replayer.bulk_text import encode_blocks
from replayer.bulk_text_mysql import check_load_info, mysql_load_encoder
from replayer.create_statement import split_create
from replayer.errors import RestorePlanError

_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+", re.IGNORECASE)


class MysqlBulkTarget:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def create_table(self, table: TableEntry, schema: TableSchema) -> None:
        cursor = self.connection.cursor()
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quote(table.database)}")
        cursor.execute(f"USE {quote(table.database)}")
        cursor.execute(f"DROP TABLE IF EXISTS {quote(table.table)}")  # a create cut short
        cursor.execute(split_create(_create_statement(table)).create_without_deferred)

    def write_file(self, schema: TableSchema, data: Iterable[bytes], file_name: str) -> int:
        load = mysql_load_encoder(schema)
        rows = warnings = 0

        def counted(count: int, block: bytes) -> bytes:
            nonlocal rows, warnings
            text, warned = load.encode_counted(count, block)
            rows += count
            warnings += warned
            return text

        with tempfile.NamedTemporaryFile(prefix="replayer-load-", suffix=".txt") as text:
            for piece in encode_blocks(iter_blocks(schema, data, file_name), counted):
                text.write(piece)
            text.flush()
            cursor = self.connection.cursor()
            cursor.execute(load.statement(text.name))
            check_load_info(self.connection.info(), rows, schema.qualified_name, warnings)
        return rows

    def add_primary_key(self, table: TableEntry, schema: TableSchema) -> None:
        """Nothing: the table is created with it."""

    def index_statements(self, table: TableEntry, schema: TableSchema) -> list[str]:
        """One ALTER TABLE adding every index missing: InnoDB builds them in one pass."""
        present = self._present(table)
        self.connection.commit()
        missing = [i.definition for i in split_create(_create_statement(table)).indexes
                   if i.name not in present]
        return [self._alter_statement(table, missing)] if missing else []

    def finish_all(self, tables: tuple[TableEntry, ...]) -> None:
        for table in tables:
            present = self._present(table)
            self._alter(table, [k.definition
                                for k in split_create(_create_statement(table)).foreign_keys
                                if k.name not in present])

    def _present(self, table: TableEntry) -> set[str]:
        """The names of the indexes and foreign keys the target's table has."""
        cursor = self.connection.cursor()
        cursor.execute(f"SHOW CREATE TABLE {quote(table.database)}.{quote(table.table)}")
        split = split_create(str(cursor.fetchone()[1]))
        return {i.name for i in split.indexes} | {k.name for k in split.foreign_keys}

    def _alter(self, table: TableEntry, definitions: list[str]) -> None:
        if definitions:
            self.connection.cursor().execute(self._alter_statement(table, definitions))
        self.connection.commit()

    @staticmethod
    def _alter_statement(table: TableEntry, definitions: list[str]) -> str:
        return (f"ALTER TABLE {quote(table.database)}.{quote(table.table)} "
                + ", ".join(f"ADD {d}" for d in definitions))


def _create_statement(table: TableEntry) -> str:
    statement = table.create_statement or ""
    if not _CREATE_TABLE.match(statement):
        raise RestorePlanError(
            f"the snapshot has no CREATE TABLE statement for {table.database}.{table.table}",
            "take a new snapshot with this version of cdc")
    return statement
