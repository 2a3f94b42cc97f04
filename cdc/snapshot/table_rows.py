"""A table's rows inside the consistent read, in primary-key order, as canonical rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymysql
import pymysql.cursors

from cdc.changes import Row, TableSchema
from cdc.errors import TypeMappingError
from cdc.snapshot.errors import SnapshotError
from cdc.snapshot.source_tables import quote
from cdc.snapshot.text_values import TextValueError, converter_for, select_expression

_FETCH = 2000
_TABLE_DEFINITION_CHANGED = 1412


def select_statement(schema: TableSchema) -> str:
    columns = ", ".join(select_expression(c, quote(c.name)) for c in schema.columns)
    order = ", ".join(quote(name) for name in schema.primary_key)
    statement = f"SELECT {columns} FROM {quote(schema.database)}.{quote(schema.table)}"
    return statement + (f" ORDER BY {order}" if order else "")


def read_rows(connection: Any, schema: TableSchema) -> Iterator[Row]:
    """Every row of the table, streamed (never all in memory)."""
    names = tuple(c.name for c in schema.columns)
    converters = tuple(converter_for(c) for c in schema.columns)
    cursor = connection.cursor(pymysql.cursors.SSCursor)
    try:
        cursor.execute(select_statement(schema))
        while batch := cursor.fetchmany(_FETCH):
            for values in batch:
                yield _row(schema, names, converters, values)
    except pymysql.err.OperationalError as exc:
        if exc.args and exc.args[0] == _TABLE_DEFINITION_CHANGED:
            raise SnapshotError(
                f"{schema.qualified_name} was altered while the snapshot read it",
                hint="take the snapshot again once the schema change is done") from None
        raise
    finally:
        cursor.close()


def _row(schema: TableSchema, names: tuple[str, ...], converters: tuple[Any, ...],
         values: tuple[object, ...]) -> Row:
    row: Row = {}
    for name, convert, value in zip(names, converters, values, strict=True):
        try:
            row[name] = None if value is None else convert(value)
        except (TextValueError, ValueError) as exc:
            raise TypeMappingError(
                f"{schema.qualified_name}.{name}: {exc}",
                hint="the snapshot stops rather than change a value; see docs/types.md",
            ) from None
    return row
