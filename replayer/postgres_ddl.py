"""MySQL table shapes and DDL translated for a PostgreSQL target (pure).

A MySQL database becomes a PostgreSQL schema of the same name. Replay does not translate the
source's DDL text: it brings the PostgreSQL table from one table version to the next
(``shape_changes``), with the DDL statements only consulted for what the versions cannot say,
the value the source gave existing rows of an added column. A value it cannot know is refused
loudly when the table holds rows, never guessed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from enum import Enum

from cdc.changes import Column, TableSchema
from cdc.ddl import strip_comments
from cdc.errors import CdcError
from replayer.create_statement import ForeignKey, Index
from replayer.postgres_types import (
    check_constraint,
    column_definition,
    create_table_sql,
    postgres_type,
    quote_ident,
    quote_literal,
)

_MAX_NAME_BYTES = 63


class StatementKind(Enum):
    CREATE_DATABASE = "create database"
    DROP_DATABASE = "drop database"
    TABLE_SHAPE = "create or alter table"
    DROP_TABLE = "drop table"
    TRUNCATE = "truncate"
    RENAME_TABLE = "rename table"
    ALTER_RENAME = "alter table rename"
    OTHER = "other"


_KINDS = (
    (re.compile(r"^CREATE\s+(?:DATABASE|SCHEMA)\b", re.I), StatementKind.CREATE_DATABASE),
    (re.compile(r"^DROP\s+(?:DATABASE|SCHEMA)\b", re.I), StatementKind.DROP_DATABASE),
    (re.compile(r"^ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\s+\S+\s+RENAME\s+(?:TO|AS)?\b", re.I),
     StatementKind.ALTER_RENAME),
    (re.compile(r"^(?:CREATE|ALTER)\b.*?\bTABLE\b", re.I | re.S), StatementKind.TABLE_SHAPE),
    (re.compile(r"^DROP\s+(?:TEMPORARY\s+)?TABLES?\b", re.I), StatementKind.DROP_TABLE),
    (re.compile(r"^TRUNCATE\b", re.I), StatementKind.TRUNCATE),
    (re.compile(r"^RENAME\s+TABLES?\b", re.I), StatementKind.RENAME_TABLE),
)


def statement_kind(statement: str) -> StatementKind:
    text = strip_comments(statement)
    for pattern, kind in _KINDS:
        if pattern.match(text):
            return kind
    return StatementKind.OTHER


def qualified(database: str, table: str) -> str:
    return f"{quote_ident(database)}.{quote_ident(table)}"


# --- bulk load: keys after the rows -------------------------------------------------------------


def primary_key_statement(schema: TableSchema) -> str | None:
    if not schema.primary_key:
        return None
    return (f"ALTER TABLE {qualified(schema.database, schema.table)} ADD PRIMARY KEY ("
            + ", ".join(quote_ident(n) for n in schema.primary_key) + ")")


def index_name(table: str, index: str) -> str:
    """The PostgreSQL name of a MySQL index: index names are per table in MySQL and per schema
    in PostgreSQL, so the table's name comes first; a name too long is cut and made unique."""
    name = f"{table}_{index}"
    if len(name.encode()) <= _MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return name.encode()[:_MAX_NAME_BYTES - 11].decode(errors="ignore") + "_" + digest


def index_statement(database: str, table: str, index: Index) -> str | None:
    """CREATE INDEX for a secondary index; None for FULLTEXT and SPATIAL, which have no
    PostgreSQL B-tree equivalent (they only speed up queries; no value depends on them)."""
    if index.kind in ("fulltext", "spatial"):
        return None
    unique = "UNIQUE " if index.kind == "unique" else ""
    return (f"CREATE {unique}INDEX IF NOT EXISTS {quote_ident(index_name(table, index.name))} "
            f"ON {qualified(database, table)} ("
            + ", ".join(quote_ident(c) for c in index.columns) + ")")


def foreign_key_statement(database: str, table: str, key: ForeignKey) -> str:
    """The foreign key, checked from now on (NOT VALID: the source checked the loaded rows)
    and at commit (DEFERRABLE: a source transaction is replayed whole, in its own order)."""
    actions = "".join(f" ON {verb} {action}" for verb, action in key.actions)
    return (f"ALTER TABLE {qualified(database, table)} ADD CONSTRAINT {quote_ident(key.name)} "
            f"FOREIGN KEY ({', '.join(quote_ident(c) for c in key.columns)}) REFERENCES "
            f"{qualified(key.referenced_database or database, key.referenced_table)} ("
            + ", ".join(quote_ident(c) for c in key.referenced_columns)
            + f"){actions} DEFERRABLE INITIALLY DEFERRED NOT VALID")


# --- replay: one table version to the next ------------------------------------------------------


class UntranslatableChangeError(CdcError):
    """A source schema change the PostgreSQL target cannot follow exactly."""


def shape_changes(old: TableSchema | None, new: TableSchema,
                  statements: Sequence[str] = ()) -> list[str]:
    """The statements that turn the PostgreSQL table of version ``old`` (None: no table) into
    ``new``. ``statements`` are the source's DDL since ``old``, read for added columns'
    defaults."""
    table = qualified(new.database, new.table)
    if old is None:
        return [f"CREATE SCHEMA IF NOT EXISTS {quote_ident(new.database)}",
                create_table_sql(new, new.database)]
    if old.primary_key != new.primary_key:
        raise UntranslatableChangeError(
            f"{new.qualified_name}: the primary key changed from {old.primary_key} to "
            f"{new.primary_key}, which replay into PostgreSQL does not translate",
            "restore from a snapshot taken after the change")
    before = {c.name: c for c in old.columns}
    after = {c.name: c for c in new.columns}
    out = [f"ALTER TABLE {table} DROP COLUMN {quote_ident(name)}"
           for name in before if name not in after]
    for column in new.columns:
        if column.name not in before:
            out += _add_column(new, column, statements)
        elif before[column.name] != column:
            out += _change_column(new, before[column.name], column)
    return out


def _add_column(schema: TableSchema, column: Column, statements: Sequence[str]) -> list[str]:
    table = qualified(schema.database, schema.table)
    default = explicit_default(statements, column.name)
    if default is None and not column.nullable:
        default = implicit_default(column)
    if default is not None:
        base = column_definition(column)
        return [f"ALTER TABLE {table} ADD COLUMN {base} DEFAULT {default}",
                f"ALTER TABLE {table} ALTER COLUMN {quote_ident(column.name)} DROP DEFAULT"]
    if column.nullable and not _has_default_clause(statements, column.name):
        return [f"ALTER TABLE {table} ADD COLUMN {column_definition(column)}"]
    # The source filled existing rows with a value the changelog does not carry.
    message = (f"{schema.qualified_name}: the source gave existing rows of the added column "
               f"{column.name} a value the changelog does not carry")
    return [f"ALTER TABLE {table} ADD COLUMN {column_definition(column)}",
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {table}) THEN RAISE EXCEPTION "
            f"{quote_literal(message)}; END IF; END $$"]


def _change_column(schema: TableSchema, old: Column, new: Column) -> list[str]:
    table = qualified(schema.database, schema.table)
    name = quote_ident(new.name)
    out: list[str] = []
    if check_constraint(old) is not None:
        out.append(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "
                   f"{quote_ident(_check_name(schema.table, old.name))}")
    if postgres_type(old) != postgres_type(new):
        out.append(f"ALTER TABLE {table} ALTER COLUMN {name} TYPE {postgres_type(new)} "
                   f"USING {name}::text::{postgres_type(new)}")
    if old.nullable != new.nullable:
        out.append(f"ALTER TABLE {table} ALTER COLUMN {name} "
                   + ("DROP NOT NULL" if new.nullable else "SET NOT NULL"))
    check = check_constraint(new)
    if check is not None:
        out.append(f"ALTER TABLE {table} ADD CONSTRAINT "
                   f"{quote_ident(_check_name(schema.table, new.name))} CHECK ({check})")
    return out


def _check_name(table: str, column: str) -> str:
    """The name PostgreSQL gives a column's CHECK in CREATE TABLE (kept the same here)."""
    return index_name(table, f"{column}_check")


_LITERAL = r"'(?:[^'\\]|''|\\.)*'|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|NULL|b'[01]*'"


def _definition_of(statements: Sequence[str], name: str) -> str | None:
    """The text after ``ADD [COLUMN] name`` in the last statement that adds the column."""
    quoted = re.escape(name)
    pattern = re.compile(
        rf"\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:`{quoted}`|{quoted}\b)"
        r"(.*?)(?=,\s*(?:ADD|DROP|MODIFY|CHANGE|ALTER|RENAME)\b|$)", re.I | re.S)
    found = None
    for statement in statements:
        for match in pattern.finditer(strip_comments(statement)):
            found = match.group(1)
    return found


def _has_default_clause(statements: Sequence[str], name: str) -> bool:
    definition = _definition_of(statements, name)
    return definition is not None and re.search(r"\bDEFAULT\b", definition, re.I) is not None


def explicit_default(statements: Sequence[str], name: str) -> str | None:
    """The column's DEFAULT as a PostgreSQL literal when the statement that added it gives a
    constant; None when it gives none or an expression."""
    definition = _definition_of(statements, name)
    if definition is None:
        return None
    match = re.search(rf"\bDEFAULT\s+({_LITERAL})(?=\s|,|$)", definition, re.I)
    if match is None:
        return None
    literal = match.group(1)
    if literal.upper() == "NULL":
        return "NULL"
    if literal.lower().startswith("b'"):
        return f"B'{literal[2:-1]}'"
    if literal.startswith("'"):
        text = literal[1:-1].replace("''", "'")
        text = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "0": "\x00"}.get(m[1], m[1]),
                      text)
        return quote_literal(text)
    return literal


def implicit_default(column: Column) -> str | None:
    """What MySQL gives existing rows of an added NOT NULL column without a DEFAULT; None
    when PostgreSQL cannot hold it (zero dates) or it depends on more than the type."""
    family = column.type
    if family in ("tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float",
                  "double", "year"):
        return "0"
    if family == "bit":
        return f"B'{'0' * (column.precision or 64)}'"
    if family in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext"):
        return "''"
    if family == "enum" and column.members:
        return quote_literal(column.members[0])
    if family == "set":
        return "'{}'"
    if family in ("varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
        return "''::bytea"
    return None
