"""A PostgreSQL database of the benchmark's own on the local stack's server: created at the
start, emptied between runs (every schema but ``public``, ``information_schema`` and
``pg_*``: the restored ones and ``cdc_replayer``), dropped at the end."""

from __future__ import annotations

from typing import Any

import psycopg2
from psycopg2 import sql

from cdc.dsn import Dsn
from cdc.errors import CdcError

KEPT_SCHEMAS = ("public", "information_schema")


class PostgresTargetError(CdcError):
    """The PostgreSQL server refused one of the benchmark's own statements."""


def connect(dsn: Dsn) -> Any:
    try:
        connection = psycopg2.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                                      password=dsn.password, dbname=dsn.database or dsn.user,
                                      connect_timeout=10, application_name="bench")
    except psycopg2.Error as exc:
        raise PostgresTargetError(f"cannot connect to {dsn.redacted()}: "
                                  f"{str(exc).strip().splitlines()[0]}",
                                  "start the local stack ('make up')") from None
    connection.autocommit = True
    return connection


def execute(dsn: Dsn, statement: str | sql.Composed,
            args: tuple[object, ...] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit; return its rows (none for a command)."""
    connection = connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, args)
            return list(cursor.fetchall()) if cursor.description is not None else []
    except psycopg2.Error as exc:
        raise PostgresTargetError(f"PostgreSQL refused {str(statement)[:80]!r}: "
                                  f"{str(exc).strip().splitlines()[0]}",
                                  "see the server's log") from None
    finally:
        connection.close()


def create_database(admin: Dsn, name: str) -> Dsn:
    """A new, empty UTF8 database; the DSN that reaches it."""
    execute(admin, sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
        sql.Identifier(name)))
    return admin.with_database(name)


def drop_database(admin: Dsn, name: str) -> None:
    execute(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)))


def user_schemas(dsn: Dsn) -> list[str]:
    rows = execute(dsn, "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%' "
                        "AND nspname NOT IN %s ORDER BY 1", (KEPT_SCHEMAS,))
    return [str(name) for (name,) in rows]


def empty_database(dsn: Dsn) -> list[str]:
    """Drop every schema the restores made (and their tables); return their names."""
    names = user_schemas(dsn)
    for name in names:
        execute(dsn, sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
    return names


def server_version(dsn: Dsn) -> str:
    [(version,)] = execute(dsn, "SHOW server_version")
    return str(version)
