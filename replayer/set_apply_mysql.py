"""Set-based replay into MySQL/MariaDB (see ``replayer.set_apply``).

A group's images become LOAD DATA text with the table version's fused encoder
(``bulk_text_mysql``), so every value arrives exactly as a snapshot load writes it:

- inserts: LOAD DATA into the table, the server's report checked (every row read, none
  skipped as a duplicate, no warning but those the text implies);
- updates and deletes: LOAD DATA into a session's temporary table made ``LIKE`` the table,
  then one ``UPDATE ... JOIN`` (every column but the key set from the staged row) or
  ``DELETE ... JOIN`` on the primary key, whose count of rows matched (the session counts
  rows found, ``CLIENT.FOUND_ROWS``) must be the group's rows.
"""

from __future__ import annotations

import itertools
import tempfile

import MySQLdb

from cdc.changes import TableSchema
from cdc.disk_full import disk_full_error, is_disk_full
from cdc.errors import CdcError
from cdc.snapshot.source_tables import quote
from replayer.apply_mysql import POSITION_DATABASE, MysqlApplier
from replayer.bulk_text_mysql import check_load_info, mysql_load_encoder
from replayer.change_groups import Group, Kind
from replayer.set_apply import GroupRefusedError, SetApplier

_STAGE_NUMBERS = itertools.count(1)


class MysqlSetApplier(SetApplier, MysqlApplier):
    def _apply_group(self, group: Group, schema: TableSchema) -> None:
        load = mysql_load_encoder(schema)
        table = f"{quote(schema.database)}.{quote(schema.table)}"
        rows = len(group.images)
        try:
            text, warnings = load.encode_counted(rows, b"".join(group.images))
        except (CdcError, ValueError) as exc:  # the reference path names the value
            raise GroupRefusedError(str(exc)) from None
        cursor = self._cursor
        try:
            into = table if group.kind is Kind.INSERT else self._stage(schema)
            with tempfile.NamedTemporaryFile(prefix="replayer-group-", suffix=".txt") as file:
                file.write(text)
                file.flush()
                cursor.execute(load.statement(file.name, into))
            check_load_info(self._connection.info(), rows, schema.qualified_name, warnings)
            if group.kind is Kind.INSERT:
                return
            on = " AND ".join(f"t.{quote(n)} = s.{quote(n)}" for n in schema.primary_key)
            if group.kind is Kind.UPDATE:
                columns = [c.name for c in schema.columns if c.name not in schema.primary_key]
                cursor.execute(f"UPDATE {table} AS t JOIN {into} AS s ON {on} SET "
                               + ", ".join(f"t.{quote(n)} = s.{quote(n)}" for n in columns))
            else:
                # A join, not "WHERE (key) IN (SELECT ...)": MariaDB before 11.1 runs that
                # subquery for every row of the table, a scan of the whole table per group.
                # No alias for the table: MariaDB resolves a multi-table DELETE's alias in
                # the session's default database, and there is none.
                joined = " AND ".join(f"{table}.{quote(n)} = s.{quote(n)}"
                                      for n in schema.primary_key)
                cursor.execute(f"DELETE {table} FROM {table} JOIN {into} AS s ON {joined}")
            if cursor.rowcount != rows:
                raise GroupRefusedError(f"{cursor.rowcount} rows matched, not {rows}")
        except MySQLdb.Error as exc:
            if self.connection_lost(exc):
                raise
            if is_disk_full(exc):
                raise disk_full_error(exc, f"replaying row changes of {schema.qualified_name}") \
                    from None
            raise GroupRefusedError(str(exc)) from None
        except CdcError as exc:  # check_load_info
            raise GroupRefusedError(exc.message) from None

    def _stage(self, schema: TableSchema) -> str:
        """The session's empty staging table of ``schema``'s shape."""
        version = (schema.database, schema.table, schema.version)
        name = self._stages.get(version)
        if name is None:
            name = f"{POSITION_DATABASE}.stage_{next(_STAGE_NUMBERS)}"
            self._cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} LIKE "
                                 f"{quote(schema.database)}.{quote(schema.table)}")
            self._stages[version] = name
        self._cursor.execute(f"DELETE FROM {name}")
        return name
