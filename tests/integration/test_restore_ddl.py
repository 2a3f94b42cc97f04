"""Schema changes in the changelog, replayed into PostgreSQL (by table version) and into
MariaDB (as the source ran them): added and dropped columns, a changed column, new tables,
a dropped, a renamed and a truncated table."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.capture_helpers import (
    capture_env,
    current_gtid_position,
    kill,
    start_capture,
    wait_for_changelog_to_reach,
    wait_until_streaming,
    write_capture_config,
)
from tests.db import mysql_connect, unique_name
from tests.restore_targets import State, Target, mysql_state
from tests.snapshot_helpers import snapshot_section, take
from tests.stack import StackEnv

pytestmark = pytest.mark.integration

TABLES = ("items", "extra", "new_name")
AFTER_SNAPSHOT = (
    "INSERT INTO items VALUES (3, 'c', 30), (4, 'd', 40)",
    "ALTER TABLE items ADD COLUMN note varchar(20) NOT NULL DEFAULT 'it''s none'",
    "INSERT INTO items (id, name, qty, note) VALUES (5, 'e', 50, 'given')",
    "ALTER TABLE items ADD COLUMN flag tinyint NOT NULL, ADD COLUMN maybe int NULL",
    "UPDATE items SET flag = 1 WHERE id = 1",
    "ALTER TABLE items DROP COLUMN qty",
    "UPDATE items SET name = 'b2' WHERE id = 2",
    "ALTER TABLE items MODIFY name varchar(40) NULL",
    "INSERT INTO items (id, name, note, flag) VALUES (6, NULL, 'x', 0)",
    "CREATE TABLE extra (id int PRIMARY KEY, v enum('a','b') NOT NULL)",
    "INSERT INTO extra VALUES (1, 'a'), (2, 'b')",
    "CREATE TABLE gone (id int PRIMARY KEY)",
    "INSERT INTO gone VALUES (1)",
    "DROP TABLE gone",
    "CREATE TABLE old_name (id int PRIMARY KEY, v int)",
    "INSERT INTO old_name VALUES (1, 10)",
    "RENAME TABLE old_name TO new_name",
    "INSERT INTO new_name VALUES (2, 20)",
    "TRUNCATE TABLE extra",
    "INSERT INTO extra VALUES (3, 'b')",
    "DELETE FROM items WHERE id = 3",
)


@pytest.fixture(scope="module")
def ddl_history(stack_env: StackEnv, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[Path, str, State]:
    tmp_path = tmp_path_factory.mktemp("restore-ddl")
    database = unique_name("ddl")
    source = stack_env["CDC_SOURCE_ADMIN_DSN"]
    start = current_gtid_position(stack_env)
    with mysql_connect(source) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {database}")
        cursor.execute(f"CREATE TABLE {database}.items (id int PRIMARY KEY, "
                       "name varchar(20) NOT NULL, qty int NOT NULL)")
        cursor.execute(f"INSERT INTO {database}.items VALUES (1, 'a', 10), (2, 'b', 20)")
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}",
                                 extra_capture=snapshot_section(tmp_path / "store"))
    capture = start_capture(setup, tmp_path / "capture.log")
    try:
        wait_until_streaming(tmp_path / "capture.log")
        take(setup.config_path)
        with mysql_connect(source, database) as conn, conn.cursor() as cursor:
            for statement in AFTER_SNAPSHOT:
                cursor.execute(statement)
        wait_for_changelog_to_reach(setup, current_gtid_position(stack_env))
    finally:
        kill(capture, signal.SIGTERM)
    return setup.config_path, database, mysql_state(source, database, TABLES)


def test_schema_changes_are_followed_into_both_engines(
        ddl_history: tuple[Path, str, State], target: Target) -> None:
    config, database, expected = ddl_history
    dsn = target.new()
    result = subprocess.run(
        [sys.executable, "-m", "replayer", "restore", "--config", str(config), "--to",
         "latest", "--target", dsn], env=capture_env(), capture_output=True, text=True,
        timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert expected["items"][(1,)]["note"] == "it's none"  # filled by the source, not logged
    assert target.state(dsn, database, TABLES) == expected
