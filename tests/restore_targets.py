"""Empty restore targets (a PostgreSQL database, a throwaway MariaDB) and their rows read
independently of the replayer, in one comparable form for both engines."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg2.errors
import psycopg2.extras
import pytest

from cdc.dsn import parse_dsn
from tests.compare import comparable, source_rows
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.stack import StackEnv
from tests.throwaway_mariadb import throwaway_mariadb

State = dict[str, dict[tuple[Any, ...], dict[str, Any]]]
"""Table to primary key to row."""


def _json_text(value: Any) -> Any:
    """JSON in one spelling for both sides (jsonb keeps neither key order nor spacing)."""
    if not (isinstance(value, str) and value[:1] in "{["):
        return value
    try:
        document = json.loads(value, parse_float=Decimal)
    except ValueError:
        return value  # text that only starts like JSON
    return json.dumps(document, sort_keys=True, default=str)


def _normal(row: dict[str, Any]) -> dict[str, Any]:
    return {name: _json_text(comparable(value)) for name, value in row.items()}


def mysql_state(dsn: str, database: str, tables: tuple[str, ...]) -> State:
    with mysql_connect(dsn) as conn:
        return {t: {k: _normal(r) for k, r in source_rows(conn, database, t).items()}
                for t in tables}


def postgres_state(dsn: str, database: str, tables: tuple[str, ...]) -> State:
    """The rows as psycopg2 returns them, keyed by ``id``."""
    connection = postgres_connect(dsn)
    psycopg2.extras.register_default_jsonb(connection, loads=lambda text: text)
    try:
        state: State = {}
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
            for table in tables:
                cursor.execute(f'SELECT * FROM "{database}"."{table}"')
                names = [d[0] for d in cursor.description or ()]
                rows = [dict(zip(names, raw, strict=True)) for raw in cursor.fetchall()]
                state[table] = {(row["id"],): _normal(row) for row in rows}
        return state
    finally:
        connection.close()


@dataclass(frozen=True)
class Target:
    engine: str
    new: Callable[[], str]
    """An empty target's DSN."""
    state: Callable[[str, str, tuple[str, ...]], State]


@pytest.fixture(scope="module")
def mariadb_targets() -> Iterator[Callable[[], str]]:
    """Empty MariaDB servers of the module's own, one per call, stopped at its end."""
    started: list[str] = []
    with ExitStack() as servers:
        def new() -> str:
            server = servers.enter_context(
                throwaway_mariadb("restore-target", 3201 + len(started)))
            started.append(server.admin_dsn)
            return server.admin_dsn
        yield new


@pytest.fixture(scope="module")
def postgres_databases(stack_env: StackEnv) -> Iterator[Callable[[], str]]:
    """New empty UTF8 databases on the stack's PostgreSQL, dropped afterwards."""
    admin = parse_dsn(stack_env["CDC_POSTGRES_DSN"])
    created: list[str] = []

    def run(statement: str) -> None:
        # A connection each time: a test may restart the server in between.
        connection = postgres_connect(stack_env["CDC_POSTGRES_DSN"])
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    def new() -> str:
        name = unique_name("restore_pg")
        run(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        created.append(name)
        return f"postgresql://{admin.user}:{admin.password}@{admin.host}:{admin.port}/{name}"

    yield new
    for name in created:
        drop = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        for _ in range(30):
            try:
                run(drop)
                break
            except psycopg2.errors.InsufficientPrivilege:
                # An autovacuum worker on the fresh tables is a superuser's process that
                # FORCE may not end; it finishes by itself within seconds.
                time.sleep(1)
        else:
            run(drop)


@pytest.fixture(params=["postgresql", "mariadb"])
def target(request: pytest.FixtureRequest) -> Target:
    """Each test that takes it runs once per target engine."""
    if request.param == "postgresql":
        return Target("postgresql", request.getfixturevalue("postgres_databases"),
                      postgres_state)
    return Target("mariadb", request.getfixturevalue("mariadb_targets"), mysql_state)
