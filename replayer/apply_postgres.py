"""Applying changelog records to a PostgreSQL target (see ``replayer.applier``).

Row changes become single-row statements whose values are sent as text and cast to the
column's PostgreSQL type (the text forms of ``postgres_types.text_value``, exact for every
type). DDL is followed by table version, not by translating its text (``postgres_ddl``): a
table is brought to the version of the first row that carries a new one, or at the DDL
itself when that version is already known, in the same transaction as the rows.

Row-change statements are sent many to a round trip (see ``_send``). PostgreSQL answers a
multi-statement query with one outcome, so each update and delete checks its own row count
in the server, and when a batch fails the target transaction is rolled back and applied again
one statement at a time: the statement at fault is then named by its own offset, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import psycopg2

from cdc.avro.codec import SchemaLookup
from cdc.changes import ChangeRecord, Operation, Row, TableSchema
from cdc.ddl import ddl_target
from cdc.errors import CdcError
from replayer.applier import AppliedPosition, Applier, ReplayProgress, TableIncluded
from replayer.postgres_ddl import StatementKind, qualified, shape_changes, statement_kind
from replayer.postgres_types import postgres_type, quote_ident, text_value
from replayer.statement_batch import StatementBatch
from replayer.target_postgres import (
    forget_shape,
    read_shapes,
    store_position_postgres,
    write_shape,
)

Shape = tuple[TableSchema, list[str]]

# An update or delete that touched other than one row fails the batch: 1/0 is the cheapest
# error a statement can raise by itself, with no function to install in the target.
_ONE_ROW_CHECK = (b"WITH changed AS (%s RETURNING 1) "
                  b"SELECT 1 / (count(*) = 1)::int FROM changed")


@dataclass(frozen=True)
class _Statements:
    insert: str
    update: str
    delete: str
    key_columns: tuple[str, ...]


def _statements(schema: TableSchema) -> _Statements:
    table = qualified(schema.database, schema.table)
    columns = schema.columns
    names = ", ".join(quote_ident(c.name) for c in columns)
    values = ", ".join(f"%s::{postgres_type(c)}" for c in columns)
    assignments = ", ".join(f"{quote_ident(c.name)} = %s::{postgres_type(c)}" for c in columns)
    if schema.primary_key:
        where = " AND ".join(f"{quote_ident(n)} = %s::{postgres_type(schema.column(n))}"
                             for n in schema.primary_key)
        key_columns = schema.primary_key
    else:  # one row with all these values, whichever
        match = " AND ".join(f"{quote_ident(c.name)} IS NOT DISTINCT FROM %s::{postgres_type(c)}"
                             for c in columns)
        where = f"ctid = (SELECT ctid FROM {table} WHERE {match} LIMIT 1)"
        key_columns = tuple(c.name for c in columns)
    return _Statements(f"INSERT INTO {table} ({names}) VALUES ({values})",
                       f"UPDATE {table} SET {assignments} WHERE {where}",
                       f"DELETE FROM {table} WHERE {where}", key_columns)


class PostgresApplier(Applier):
    def __init__(self, connection: Any, source: str, schemas: SchemaLookup, *,
                 transactions_per_commit: int = 1, progress: ReplayProgress | None = None,
                 include: TableIncluded | None = None) -> None:
        super().__init__(connection, source, schemas,
                         transactions_per_commit=transactions_per_commit, progress=progress,
                         include=include)
        self._shapes: dict[tuple[str, str], Shape] = read_shapes(connection)
        self._prepared: dict[tuple[str, str, int], _Statements] = {}
        self._batch: StatementBatch[None] = StatementBatch()
        self._batching = True
        self._uncommitted: list[tuple[int, ChangeRecord]] = []
        """What the open target transaction holds, to apply again if a batch fails."""

    def _apply_included(self, offset: int, record: ChangeRecord) -> None:
        super()._apply_included(offset, record)
        self._uncommitted.append((offset, record))

    def _commit(self, position: AppliedPosition) -> None:
        self._send()
        store_position_postgres(self._connection, self._source, position)
        self._uncommitted.clear()

    def _rollback(self) -> None:
        self._batch.clear()
        self._uncommitted.clear()
        self._connection.rollback()
        self._shapes = read_shapes(self._connection)
        self._connection.rollback()

    # --- batches ------------------------------------------------------------------------------

    def _run(self, offset: int, record: ChangeRecord, statement: str,
             values: Sequence[object]) -> None:
        if not self._batching:
            super()._run(offset, record, statement, values)
            return
        # Sent before this one joins: a batch never holds a record not yet in _uncommitted.
        if self._batch.full:
            self._send()
        text = self._cursor.mogrify(statement, values)
        if record.operation is not Operation.INSERT:  # an insert adds one row or fails
            text = _ONE_ROW_CHECK % text
        self._batch.add(text, None)

    def _send(self) -> None:
        """Run the statements waiting, in one round trip."""
        if not self._batch:
            return
        try:
            self._cursor.execute(self._batch.take())
        except psycopg2.Error as exc:
            if self.connection_lost(exc):
                raise
            self._apply_again_unbatched()

    def _apply_again_unbatched(self) -> None:
        """A batch failed: the target transaction is rolled back and applied again one
        statement at a time, which names the row change at fault (or, if the failure does
        not recur, leaves the transaction whole)."""
        records = list(self._uncommitted)
        self._rollback()
        self._batching = False
        try:
            for offset, record in records:
                if record.operation is Operation.DDL:
                    self._apply_ddl(offset, record)
                else:
                    self._apply_row(offset, record)
        finally:
            self._batching = True
        self._uncommitted = records

    # --- rows ---------------------------------------------------------------------------------

    def _apply_row(self, offset: int, record: ChangeRecord) -> None:
        schema = self._schemas(record.database, record.table, record.schema_version)
        self._follow(offset, record, schema)
        key = (schema.database, schema.table, schema.version)
        statements = self._prepared.get(key)
        if statements is None:
            statements = self._prepared[key] = _statements(schema)
        try:
            if record.operation is Operation.INSERT and record.after is not None:
                self._run(offset, record, statements.insert, _values(schema, record.after))
            elif record.operation is Operation.UPDATE and record.after is not None \
                    and record.before is not None:
                self._run(offset, record, statements.update,
                          _values(schema, record.after)
                          + _key_values(schema, statements.key_columns, record.before))
            elif record.operation is Operation.DELETE and record.before is not None:
                self._run(offset, record, statements.delete,
                          _key_values(schema, statements.key_columns, record.before))
        except CdcError as exc:  # a value PostgreSQL cannot hold
            raise self.diverged(offset, record, f"{exc.message}; {exc.hint}") from None

    refused = (psycopg2.Error,)

    def connection_lost(self, error: Exception) -> bool:
        return isinstance(error, psycopg2.Error) and bool(self._connection.closed)

    @staticmethod
    def _reason(error: Exception) -> str:
        return _reason(error)

    # --- table versions and DDL ---------------------------------------------------------------

    def _follow(self, offset: int, record: ChangeRecord, schema: TableSchema) -> None:
        """Bring the table to ``schema`` if it has another shape."""
        current = self._shapes.get((schema.database, schema.table))
        if current is not None and current[0].same_shape(schema):
            return
        self._send()  # the rows of the old shape go first
        current = self._shapes.get((schema.database, schema.table))  # as read again, if so
        old, pending = current if current is not None else (None, [])
        try:
            for statement in shape_changes(old, schema, pending):
                self._cursor.execute(statement)
        except psycopg2.Error as exc:
            if self.connection_lost(exc):
                raise
            raise self.diverged(offset, record, "following the source's schema change failed: "
                                f"{_reason(exc)}") from None
        except CdcError as exc:
            raise self.diverged(offset, record, f"{exc.message}; {exc.hint}") from None
        write_shape(self._cursor, schema, [])
        self._shapes[schema.database, schema.table] = (schema, [])

    def _apply_ddl(self, offset: int, record: ChangeRecord) -> None:
        self._send()
        statement = record.statement or ""
        kind = statement_kind(statement)
        try:
            self._ddl(offset, record, kind, statement)
        except psycopg2.Error as exc:
            if self.connection_lost(exc):
                raise
            raise self.diverged(offset, record, f"the target refused the translation of "
                                f"{statement!r}: {_reason(exc)}") from None

    def _ddl(self, offset: int, record: ChangeRecord, kind: StatementKind,
             statement: str) -> None:
        cursor = self._cursor
        if kind is StatementKind.CREATE_DATABASE:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(record.database)}")
        elif kind is StatementKind.DROP_DATABASE:
            cursor.execute(f"DROP SCHEMA IF EXISTS {quote_ident(record.database)} CASCADE")
            forget_shape(cursor, record.database, None)
            self._shapes = {k: v for k, v in self._shapes.items() if k[0] != record.database}
        elif kind is StatementKind.DROP_TABLE:
            for database, table in ddl_target(statement, record.database).tables:
                cursor.execute(f"DROP TABLE IF EXISTS {qualified(database, table)}")
                forget_shape(cursor, database, table)
                self._shapes.pop((database, table), None)
        elif kind is StatementKind.TRUNCATE:
            cursor.execute(f"TRUNCATE {qualified(record.database, record.table)}")
        elif kind is StatementKind.RENAME_TABLE:
            names = ddl_target(statement, record.database).tables
            for old, new in zip(names[::2], names[1::2], strict=True):
                self._rename(old, new)
        elif kind is StatementKind.ALTER_RENAME:
            raise self.diverged(offset, record, "ALTER TABLE ... RENAME is not translated for "
                                "PostgreSQL; use RENAME TABLE at the source")
        elif kind is StatementKind.TABLE_SHAPE:
            self._table_ddl(offset, record, statement)

    def _table_ddl(self, offset: int, record: ChangeRecord, statement: str) -> None:
        """Remember the statement for the next version; follow it now if that is known."""
        key = (record.database, record.table)
        current = self._shapes.get(key)
        try:
            schema = self._schemas(record.database, record.table, record.schema_version)
        except KeyError:  # known once a row of the new version is captured
            if current is not None:
                pending = [*current[1], statement]
                write_shape(self._cursor, current[0], pending)
                self._shapes[key] = (current[0], pending)
            return
        if current is not None:
            self._shapes[key] = (current[0], [*current[1], statement])
        self._follow(offset, record, schema)

    def _rename(self, old: tuple[str, str], new: tuple[str, str]) -> None:
        cursor = self._cursor
        if old[0] != new[0]:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(new[0])}")
            cursor.execute(f"ALTER TABLE {qualified(*old)} SET SCHEMA {quote_ident(new[0])}")
        if old[1] != new[1]:
            cursor.execute(f"ALTER TABLE {qualified(new[0], old[1])} RENAME TO "
                           f"{quote_ident(new[1])}")
        shape = self._shapes.pop(old, None)
        forget_shape(cursor, *old)
        if shape is not None:
            moved = replace(shape[0], database=new[0], table=new[1])
            write_shape(cursor, moved, shape[1])
            self._shapes[new] = (moved, shape[1])


def _values(schema: TableSchema, row: Row) -> list[str | None]:
    return [None if row[c.name] is None else text_value(c, row[c.name]) for c in schema.columns]


def _key_values(schema: TableSchema, names: tuple[str, ...], row: Row) -> list[str | None]:
    return [None if row[n] is None else text_value(schema.column(n), row[n]) for n in names]


def _reason(exc: Exception) -> str:
    text = (getattr(exc, "pgerror", None) or str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
