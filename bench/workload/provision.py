"""Creating (or resetting) the workload database: idempotent, safe to run every time."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pymysql

from bench.workload.connection import MySQLConnection, translate_error
from bench.workload.schema import PAYMENT_TABLES
from bench.workload.torture_columns import TORTURE_TABLE, torture_table_ddl
from bench.workload.torture_table import insert_missing_rows
from cdc.errors import ConfigError

WORKLOAD_TABLES: tuple[tuple[str, str], ...] = (
    *PAYMENT_TABLES, (TORTURE_TABLE, torture_table_ddl()),
)
_SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class SetupReport:
    database: str
    was_reset: bool
    database_created: bool
    tables_created: tuple[str, ...]
    torture_rows_inserted: int


def check_database_name(name: str) -> str:
    """Accept plain identifiers only, so the name never needs escaping in DDL."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a database name the workload accepts",
            "use 1 to 64 letters, digits or underscores, for example payments",
        )
    if name.lower() in _SYSTEM_SCHEMAS:
        raise ConfigError(f"{name!r} is a system schema", "choose another --database")
    return name


def setup_database(connection: MySQLConnection, database: str, *,
                   reset: bool = False) -> SetupReport:
    """Create the database, its tables and the torture rows, whatever is missing.

    With ``reset`` the database is dropped first, but only if it holds nothing except the
    workload's own tables: a typo in --database must not drop a real database.
    """
    check_database_name(database)
    try:
        existing_tables = _tables(connection, database)
        if reset and existing_tables is not None:
            _refuse_foreign_tables(database, existing_tables)
            _execute(connection, f"DROP DATABASE `{database}`")
            existing_tables = None
        created = existing_tables is None
        _execute(connection,
                 f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4")
        connection.select_db(database)
        already = existing_tables or set()
        for _, ddl in WORKLOAD_TABLES:
            _execute(connection, ddl)
        tables_created = tuple(name for name, _ in WORKLOAD_TABLES if name not in already)
    except pymysql.MySQLError as exc:
        raise translate_error(exc, f"setting up database {database}") from None
    inserted = insert_missing_rows(connection)
    return SetupReport(database, reset, created, tables_created, inserted)


def _tables(connection: MySQLConnection, database: str) -> set[str] | None:
    """The database's tables, or None when the database does not exist."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (database,),
        )
        if cursor.fetchone() is None:
            return None
        cursor.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
            (database,),
        )
        return {str(row[0]) for row in cursor.fetchall()}


def _refuse_foreign_tables(database: str, tables: set[str]) -> None:
    foreign = sorted(tables - {name for name, _ in WORKLOAD_TABLES})
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise ConfigError(
            f"refusing to reset {database}: it holds tables the workload did not create "
            f"({shown})",
            "check --database; if the database really is disposable, drop it yourself",
        )


def _execute(connection: MySQLConnection, sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)
