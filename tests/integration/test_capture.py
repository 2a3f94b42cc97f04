"""Capture against the real MariaDB and Kafka: whole transactions, in order, exactly once."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from cdc.changes import Operation
from tests.capture_helpers import (
    changelog,
    current_gtid_position,
    replay,
    row_changes,
    run_capture_until_caught_up,
    transactions,
    write_capture_config,
)
from tests.compare import changelog_rows, source_rows
from tests.db import mysql_connect, unique_name
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


def test_each_source_transaction_arrives_whole_in_order_and_once(
    stack_env: StackEnv, tmp_path: Path
) -> None:
    database, other = unique_name("cap"), unique_name("cap_other")
    start = current_gtid_position(stack_env)
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {database}")
        cur.execute(f"CREATE DATABASE {other}")
        cur.execute(f"CREATE TABLE {database}.accounts (id INT PRIMARY KEY, "
                    "balance DECIMAL(19,4) NOT NULL, note VARCHAR(40))")
        cur.execute(f"CREATE TABLE {other}.noise (id INT PRIMARY KEY)")
        conn.begin()
        cur.executemany(f"INSERT INTO {database}.accounts VALUES (%s, %s, %s)",
                        [(1, "10.0000", "a"), (2, "-3.5000", None), (3, "0.0001", "\U0001f4b3")])
        conn.commit()
        cur.execute(f"INSERT INTO {other}.noise VALUES (1)")
        conn.begin()
        cur.execute(f"UPDATE {database}.accounts SET balance = balance + 1 WHERE id IN (1, 2)")
        conn.commit()
        cur.execute(f"DELETE FROM {database}.accounts WHERE id = 3")

        setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}")
        result = run_capture_until_caught_up(setup)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["transactions"] >= 5

        records = changelog(setup)
        grouped = list(transactions(records))
        shapes = [[(r.operation, r.table) for r in tx] for tx in grouped]
        assert shapes == [
            [(Operation.DDL, "")],
            [(Operation.DDL, "accounts")],
            [(Operation.INSERT, "accounts")] * 3,
            [(Operation.UPDATE, "accounts")] * 2,
            [(Operation.DELETE, "accounts")],
        ]
        assert all(r.database == database for r in row_changes(records))
        sequences = [int(tx[0].position.gtid.split("-")[2]) for tx in grouped]
        assert sequences == sorted(set(sequences))
        assert grouped[3][0].before == {"id": 1, "balance": Decimal("10.0000"), "note": "a"}
        assert grouped[3][0].after == {"id": 1, "balance": Decimal("11.0000"), "note": "a"}
        replayed = replay(records)["accounts"]
        assert replayed
        assert changelog_rows(replayed) == source_rows(conn, database, "accounts")

        again = run_capture_until_caught_up(setup)
        assert again.returncode == 0, again.stderr
        assert row_changes(changelog(setup)) == row_changes(records), "a rerun repeated records"
        cur.execute(f"DROP DATABASE {database}")
        cur.execute(f"DROP DATABASE {other}")


def test_capture_refuses_to_start_with_the_checks_message_and_status_2(
    stack_env: StackEnv, tmp_path: Path
) -> None:
    setup = write_capture_config(tmp_path, stack_env, unique_name("refused"), "current")
    text = setup.config_path.read_text()
    own_id = stack_env["CDC_SOURCE_SERVER_ID"]
    setup.config_path.write_text(
        "\n".join(f"server_id = {own_id}" if line.startswith("server_id") else line
                  for line in text.splitlines()))
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 2
    assert "server_id" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr

    setup.config_path.write_text(text + "\nsurprise = 1\n")
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 2
    assert "surprise" in result.stderr
