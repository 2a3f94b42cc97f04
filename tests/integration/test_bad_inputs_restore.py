"""Bad restore points and targets: each is refused with its cause and fix, and leaves the
target as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cdc.dsn import parse_dsn
from tests.bad_inputs import assert_refused, stack_secrets
from tests.bad_inputs_backup import Backup, postgres_schemas, restore
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


POINT_CASES = [
    pytest.param("time:2026-01-01T00:00:00", ("has no time zone offset",),
                 ("add Z for UTC", "+HH:MM"), id="time-without-offset"),
    pytest.param("time:2999-01-01T00:00:00Z", ("is in the future", "restorable window"),
                 ("give a time up to now", "latest"), id="time-in-the-future"),
    pytest.param("gtid:0-999999-1", ("GTID 0-999999-1 is neither in the changelog",),
                 ("cdc tail",), id="gtid-unknown"),
    pytest.param("gtid:banana", ("'banana' is not a MariaDB GTID",),
                 ("gtid:<domain-server-sequence>",), id="gtid-malformed"),
    pytest.param("name:never-marked", ("there is no mark 'never-marked'",), ("cdc mark",),
                 id="mark-unknown"),
    pytest.param("offset:999999999", ("past the end of the changelog",),
                 ("give an offset below",), id="offset-past-the-end"),
    pytest.param("offset:0", ("no snapshot is at or before restore point offset:0",
                              "restorable window"), ("cdc window",),
                 id="point-before-the-oldest-snapshot"),
    pytest.param("yesterday", ("'yesterday' is not a restore point",),
                 ("latest, time:",), id="point-of-no-kind"),
    pytest.param("offset:-3", ("offset:-3",), ("offset:<changelog offset>",),
                 id="offset-negative"),
]


@pytest.mark.parametrize(("point", "cause", "fix"), POINT_CASES)
def test_a_point_that_cannot_be_restored(
        backup: Backup, postgres_databases: Callable[[], str], stack_env: StackEnv, *,
        point: str, cause: tuple[str, ...], fix: tuple[str, ...]) -> None:
    target = postgres_databases()
    assert_refused(restore(backup, point, target), 2, cause, fix, stack_secrets(stack_env))
    assert postgres_schemas(target) == set()


def test_an_unknown_snapshot_id(backup: Backup, postgres_databases: Callable[[], str],
                                stack_env: StackEnv) -> None:
    target = postgres_databases()
    outcome = restore(backup, "latest", target, "--snapshot", "20200101T000000Z-000000")
    assert_refused(outcome, 1, ("there is no snapshot '20200101T000000Z-000000'",),
                   ("cdc backups list", backup.snapshot_id), stack_secrets(stack_env))
    assert postgres_schemas(target) == set()


def test_a_postgresql_target_that_is_not_empty(
        backup: Backup, postgres_databases: Callable[[], str], stack_env: StackEnv) -> None:
    target = postgres_databases()
    with postgres_connect(target) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA keep_me")
        cursor.execute("CREATE TABLE keep_me.t (id int PRIMARY KEY)")
        cursor.execute("INSERT INTO keep_me.t VALUES (7)")
    assert_refused(restore(backup, "latest", target), 2, ("keep_me",), ("--resume",),
                   stack_secrets(stack_env))
    assert postgres_schemas(target) == {"keep_me"}
    with postgres_connect(target) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id FROM keep_me.t")
        assert cursor.fetchall() == [(7,)]


def _mariadb_databases(dsn: str) -> set[str]:
    with mysql_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        return {str(name) for (name,) in cursor.fetchall()}


def test_a_mariadb_target_that_is_not_empty(backup: Backup, stack_env: StackEnv) -> None:
    target = stack_env["CDC_TARGET_MARIADB_DSN"]
    holding = unique_name("keep_me")
    with mysql_connect(target) as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {holding}")
    try:
        before = _mariadb_databases(target)
        assert_refused(restore(backup, "latest", target), 2, (holding,), ("--resume",),
                       stack_secrets(stack_env))
        assert _mariadb_databases(target) == before
    finally:
        with mysql_connect(target) as connection, connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {holding}")


TARGET_CASES = [
    pytest.param("postgresql://cdc:{password}@127.0.0.1:1/cdc",
                 ("cannot connect to the target", "Connection refused"),
                 ("check --target", "port"), id="postgresql-unreachable"),
    pytest.param("postgresql://cdc:Wrong-Secret-9@127.0.0.1:{pg_port}/cdc",
                 ("password authentication failed",), ("password",),
                 id="postgresql-wrong-password"),
    pytest.param("postgresql://cdc:{password}@127.0.0.1:{pg_port}/no_such_database",
                 ('"no_such_database" does not exist',), ("database",),
                 id="postgresql-unknown-database"),
    pytest.param("mysql://cdc_admin:Wrong-Secret-9@127.0.0.1:{mariadb_port}/",
                 ("cannot connect to the target", "Access denied"), ("user and password",),
                 id="mariadb-wrong-password"),
    pytest.param("sqlite:///tmp/x.db", ("unsupported DSN scheme 'sqlite'",),
                 ("postgresql://",), id="target-wrong-scheme"),
]


@pytest.mark.parametrize(("template", "cause", "fix"), TARGET_CASES)
def test_a_target_that_cannot_be_used(backup: Backup, stack_env: StackEnv, *, template: str,
                                      cause: tuple[str, ...], fix: tuple[str, ...]) -> None:
    target = template.format(password=parse_dsn(stack_env["CDC_POSTGRES_DSN"]).password,
                             pg_port=stack_env["CDC_POSTGRES_PORT"],
                             mariadb_port=stack_env["CDC_TARGET_MARIADB_PORT"])
    assert_refused(restore(backup, "latest", target), 2, cause, fix,
                   (*stack_secrets(stack_env), "Wrong-Secret-9"))
