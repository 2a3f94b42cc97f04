"""Connections to the stack's servers for tests, from the DSNs in .stack/env."""

from __future__ import annotations

import secrets
from typing import Any, TypeAlias

import psycopg2
import psycopg2.extensions
import pymysql
import pymysql.cursors

from cdc.dsn import parse_dsn
from cdc.tls_settings import libpq_options, pymysql_tls

MySQLConnection: TypeAlias = "pymysql.Connection[pymysql.cursors.Cursor]"


def mysql_connect(dsn_text: str, database: str | None = None) -> MySQLConnection:
    dsn = parse_dsn(dsn_text)
    return pymysql.connect(
        host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password,
        database=database or dsn.database, charset="utf8mb4", autocommit=True,
        **pymysql_tls(dsn),
    )


def postgres_connect(dsn_text: str) -> psycopg2.extensions.connection:
    dsn = parse_dsn(dsn_text)
    connection: psycopg2.extensions.connection = psycopg2.connect(
        host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password,
        dbname=dsn.database, **libpq_options(dsn),
    )
    return connection


def unique_name(prefix: str) -> str:
    """A database or topic name no other test run uses."""
    return f"{prefix}_{secrets.token_hex(4)}"


def query_one(cursor: pymysql.cursors.Cursor, sql: str) -> tuple[Any, ...]:
    """The single row a query must return."""
    cursor.execute(sql)
    row = cursor.fetchone()
    assert row is not None, f"no row from: {sql}"
    return tuple(row)
