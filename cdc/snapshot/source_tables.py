"""Table shapes for a snapshot, read from ``information_schema``.

The columns come out exactly as capture's binlog reader describes them (``cdc/binlog/
columns.py``), so a snapshot's rows and the changelog's rows of the same table share one
schema and one canonical form. ``column_from_information_schema`` is pure; the queries are
at the bottom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from cdc.binlog.decoders import SUPPORTED_CHARSETS
from cdc.changes import Column, TableSchema
from cdc.config.table_filter import SYSTEM_SCHEMAS
from cdc.errors import TypeMappingError

_SAME_NAME = frozenset({
    "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double", "bit",
    "date", "datetime", "timestamp", "time", "year", "char", "varchar", "binary", "varbinary",
    "tinyblob", "blob", "mediumblob", "longblob", "tinytext", "text", "mediumtext", "longtext",
    "enum", "set", "json", "geometry",
})
_GEOMETRY = frozenset({"point", "linestring", "polygon", "multipoint", "multilinestring",
                       "multipolygon", "geometrycollection", "geomcollection"})
_NUMERIC = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float",
                      "double"})
_TEXT = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum",
                   "set"})
_TEMPORAL = frozenset({"time", "datetime", "timestamp"})
_MEMBER = re.compile(r"'((?:[^']|'')*)'")


class TableSelection(Protocol):
    """Which tables to read (``cdc.config.table_filter.TableFilter`` is one)."""

    def includes(self, database: str, table: str | None = None) -> bool: ...


@dataclass(frozen=True)
class ColumnFacts:
    """One row of ``information_schema.COLUMNS`` (the fields used here)."""

    name: str
    data_type: str
    column_type: str
    nullable: bool
    character_maximum_length: int | None
    numeric_precision: int | None
    numeric_scale: int | None
    datetime_precision: int | None
    character_set: str | None


def column_from_information_schema(table: str, facts: ColumnFacts) -> Column:
    data_type = facts.data_type.lower()
    family = "geometry" if data_type in _GEOMETRY else data_type
    if family not in _SAME_NAME:
        raise TypeMappingError(
            f"column {table}.{facts.name} has the type {facts.column_type}, which snapshots "
            "cannot carry", hint="see docs/types.md for the supported types")
    charset = facts.character_set if family in _TEXT else None
    if family == "json":
        charset = "utf8mb4"
    elif charset is not None and charset not in SUPPORTED_CHARSETS:
        raise TypeMappingError(
            f"column {table}.{facts.name} uses the character set {charset!r}, which capture "
            "cannot decode exactly",
            hint="convert the column to utf8mb4; supported: " + ", ".join(sorted(
                SUPPORTED_CHARSETS)))
    precision: int | None = None
    scale: int | None = None
    if family == "decimal":
        precision, scale = facts.numeric_precision, facts.numeric_scale
    elif family == "bit":
        precision = facts.numeric_precision
    elif family in ("char", "varchar", "binary", "varbinary"):
        precision = facts.character_maximum_length
    elif family in _TEMPORAL:
        scale = facts.datetime_precision or 0
    members: tuple[str, ...] = ()
    if family in ("enum", "set"):
        members = _members(facts.column_type)
    return Column(
        name=facts.name,
        type=family,
        unsigned=family in _NUMERIC and "unsigned" in facts.column_type.lower(),
        precision=precision,
        scale=scale,
        charset=charset,
        members=members,
        nullable=facts.nullable,
    )


def _members(column_type: str) -> tuple[str, ...]:
    """The members of ``enum('a','it''s')`` or ``set(...)``, unquoted, in order."""
    inside = column_type[column_type.index("(") + 1:column_type.rindex(")")]
    return tuple(m.replace("''", "'").replace("\\\\", "\\") for m in _MEMBER.findall(inside))


# --- queries ------------------------------------------------------------------------------------

_TABLES = """
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME"""
_COLUMNS = """
SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH,
       NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_SET_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s
ORDER BY ORDINAL_POSITION"""
_PRIMARY_KEY = """
SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY'
ORDER BY ORDINAL_POSITION"""


def list_tables(cursor: Any, tables: TableSelection) -> list[tuple[str, str]]:
    """The base tables the filter includes, system schemas left out."""
    cursor.execute(_TABLES)
    return [(str(db), str(name)) for db, name in cursor.fetchall()
            if db not in SYSTEM_SCHEMAS and tables.includes(str(db), str(name))]


def read_table_schema(cursor: Any, database: str, table: str) -> TableSchema:
    qualified = f"{database}.{table}"
    cursor.execute(_COLUMNS, (database, table))
    columns = tuple(column_from_information_schema(qualified, ColumnFacts(
        name=str(r[0]), data_type=str(r[1]), column_type=_text(r[2]), nullable=r[3] == "YES",
        character_maximum_length=_int(r[4]), numeric_precision=_int(r[5]),
        numeric_scale=_int(r[6]), datetime_precision=_int(r[7]),
        character_set=None if r[8] is None else str(r[8]),
    )) for r in cursor.fetchall())
    cursor.execute(_PRIMARY_KEY, (database, table))
    key = tuple(str(r[0]) for r in cursor.fetchall())
    return TableSchema(database, table, 0, columns, key)


def show_create_table(cursor: Any, database: str, table: str) -> str:
    cursor.execute(f"SHOW CREATE TABLE {quote(database)}.{quote(table)}")
    return str(cursor.fetchone()[1])


def quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def estimated_rows(cursor: Any, database: str, table: str) -> int:
    """InnoDB's estimate of the row count (for progress only)."""
    cursor.execute("SELECT TABLE_ROWS FROM information_schema.TABLES "
                   "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", (database, table))
    found = cursor.fetchone()
    return int(found[0] or 0) if found else 0
