"""Set-based replay into PostgreSQL (see ``replayer.set_apply``).

A group's images become COPY text with the table version's fused encoder
(``bulk_text_postgres``), the text a snapshot load sends:

- inserts: ``COPY`` into the table, the count of rows copied checked;
- updates and deletes: ``COPY`` into a temporary table made ``LIKE`` the table (columns only,
  no keys or indexes), then one ``UPDATE ... FROM`` (every column but the key set from the
  staged row) or ``DELETE ... USING`` on the primary key, whose row count must be the
  group's rows.

Foreign keys are checked at commit (the load makes them ``DEFERRABLE INITIALLY DEFERRED``), so
the groups' order between tables does not matter to them.
"""

from __future__ import annotations

import io
import itertools

import psycopg2

from cdc.changes import TableSchema
from cdc.disk_full import disk_full_error, is_disk_full
from cdc.errors import CdcError
from replayer.applier import AppliedPosition
from replayer.apply_postgres import PostgresApplier
from replayer.bulk_text_postgres import postgres_copy_encoder
from replayer.change_groups import Group, Kind
from replayer.postgres_ddl import qualified
from replayer.postgres_types import quote_ident
from replayer.raw_changes import RawChange, full_record
from replayer.set_apply import GroupRefusedError, SetApplier

_STAGE_NUMBERS = itertools.count(1)


class PostgresSetApplier(SetApplier, PostgresApplier):
    def _before_group(self, change: RawChange, schema: TableSchema) -> None:
        current = self._shapes.get((schema.database, schema.table))
        if current is None or not current[0].same_shape(schema):
            self._flush_groups()  # the rows of the old shape first
            self._follow(change.offset, full_record(change, self._schemas), schema)

    def _apply_again_unbatched(self) -> None:
        """A batch of statements failed: the whole target transaction, groups included, is
        applied again one statement at a time (``PostgresApplier``'s way of naming the row
        change at fault)."""
        changes = list(self._raw)
        rows = self.rows
        self._rollback()
        self._batching = False
        try:
            for change in changes:
                self._apply_included(change.offset, full_record(change, self._schemas))
        finally:
            self._batching = True
        self._raw = changes
        self.rows = rows

    def _commit(self, position: AppliedPosition) -> None:
        super()._commit(position)
        self._stages.clear()  # dropped at the commit

    def _rollback(self) -> None:
        super()._rollback()
        self._stages.clear()  # created in the transaction rolled back

    def _apply_group(self, group: Group, schema: TableSchema) -> None:
        table = qualified(schema.database, schema.table)
        rows = len(group.images)
        try:
            text = postgres_copy_encoder(schema)(rows, b"".join(group.images))
        except (CdcError, ValueError) as exc:  # the reference path names the value
            raise GroupRefusedError(str(exc)) from None
        names = ", ".join(quote_ident(c.name) for c in schema.columns)
        cursor = self._cursor
        try:
            into = table if group.kind is Kind.INSERT else self._stage(schema)
            cursor.copy_expert(f"COPY {into} ({names}) FROM STDIN", io.BytesIO(text))
            if cursor.rowcount != rows:
                raise GroupRefusedError(f"{cursor.rowcount} rows copied, not {rows}")
            if group.kind is Kind.INSERT:
                return
            on = " AND ".join(f"t.{quote_ident(n)} = s.{quote_ident(n)}"
                              for n in schema.primary_key)
            if group.kind is Kind.UPDATE:
                columns = [c.name for c in schema.columns if c.name not in schema.primary_key]
                cursor.execute(f"UPDATE {table} AS t SET "
                               + ", ".join(f"{quote_ident(n)} = s.{quote_ident(n)}"
                                           for n in columns)
                               + f" FROM {into} AS s WHERE {on}")
            else:
                cursor.execute(f"DELETE FROM {table} AS t USING {into} AS s WHERE {on}")
            if cursor.rowcount != rows:
                raise GroupRefusedError(f"{cursor.rowcount} rows matched, not {rows}")
        except psycopg2.Error as exc:
            if self.connection_lost(exc):
                raise
            if is_disk_full(exc):
                raise disk_full_error(exc, f"replaying row changes of {schema.qualified_name}") \
                    from None
            raise GroupRefusedError(str(exc)) from None

    def _stage(self, schema: TableSchema) -> str:
        """The transaction's empty staging table of ``schema``'s shape."""
        version = (schema.database, schema.table, schema.version)
        name = self._stages.get(version)
        if name is None:
            name = f"cdc_stage_{next(_STAGE_NUMBERS)}"
            self._cursor.execute(f"CREATE TEMPORARY TABLE {name} (LIKE "
                                 f"{qualified(schema.database, schema.table)}) "
                                 "ON COMMIT DROP")
            self._stages[version] = name
        else:
            self._cursor.execute(f"TRUNCATE {name}")
        return name
