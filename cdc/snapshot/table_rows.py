"""A table's rows inside the consistent read, in primary-key order, as the driver returns them,
and the canonical values of their columns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import MySQLdb
import MySQLdb.cursors

from cdc.changes import Row, TableSchema
from cdc.errors import TypeMappingError
from cdc.snapshot.errors import SnapshotError
from cdc.snapshot.source_tables import quote
from cdc.snapshot.text_values import (
    Convert,
    TextValueError,
    identity,
    select_expression,
)

_FETCH = 2000
_TABLE_DEFINITION_CHANGED = 1412


def select_statement(schema: TableSchema, key_range: tuple[int, int] | None = None) -> str:
    columns = ", ".join(select_expression(c, quote(c.name)) for c in schema.columns)
    order = ", ".join(quote(name) for name in schema.primary_key)
    statement = f"SELECT {columns} FROM {quote(schema.database)}.{quote(schema.table)}"
    if key_range is not None:
        low, high = key_range
        statement += f" WHERE {quote(schema.primary_key[0])} BETWEEN {low:d} AND {high:d}"
    return statement + (f" ORDER BY {order}" if order else "")


def key_bounds(connection: Any, schema: TableSchema, key: str) -> tuple[int, int] | None:
    """The smallest and largest value of an integer key; None for an empty table."""
    cursor = connection.cursor()
    name = quote(key)
    cursor.execute(f"SELECT MIN({name}), MAX({name}) FROM "
                   f"{quote(schema.database)}.{quote(schema.table)}")
    low, high = cursor.fetchone()
    return None if low is None else (int(low), int(high))


def read_raw_rows(connection: Any, schema: TableSchema,
                  key_range: tuple[int, int] | None = None) -> Iterator[tuple[object, ...]]:
    """Every row of the table (or of a key range) as the driver returns it, in column order,
    streamed (never all in memory): ``cdc.snapshot.raw_values`` encodes these rows, and
    ``canonical_values`` converts the values of some of their columns."""
    cursor = connection.cursor(MySQLdb.cursors.SSCursor)
    try:
        cursor.execute(select_statement(schema, key_range))
        while batch := cursor.fetchmany(_FETCH):
            yield from batch
    except MySQLdb.OperationalError as exc:
        if exc.args and exc.args[0] == _TABLE_DEFINITION_CHANGED:
            raise SnapshotError(
                f"{schema.qualified_name} was altered while the snapshot read it",
                hint="take the snapshot again once the schema change is done") from None
        raise
    finally:
        cursor.close()


def canonical_values(schema: TableSchema, names: tuple[str, ...],
                     converters: tuple[Convert, ...], values: Sequence[object]) -> Row:
    """The canonical values of the columns ``names`` from their raw ``values`` (each read by
    its ``converters`` entry); refuses a value not of its column's type, naming table.column."""
    row: Row = {}
    for name, convert, value in zip(names, converters, values, strict=True):
        if value is None or convert is identity:
            row[name] = value
            continue
        try:
            row[name] = convert(value)
        except (TextValueError, ValueError) as exc:
            raise TypeMappingError(
                f"{schema.qualified_name}.{name}: {exc}",
                hint="the snapshot stops rather than change a value; see docs/types.md",
            ) from None
    return row
