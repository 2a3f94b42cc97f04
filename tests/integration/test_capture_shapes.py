"""DDL mid-stream, big rows, huge transactions and tables without a primary key."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from cdc.changes import Operation
from tests.capture_helpers import (
    CDC,
    capture_env,
    changelog,
    current_gtid_position,
    iter_changelog,
    kill,
    row_changes,
    run_capture_until_caught_up,
    start_capture,
    wait_until_streaming,
    write_capture_config,
)
from tests.db import mysql_connect, unique_name
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


def execute(stack_env: StackEnv, *statements: str) -> None:
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)


def test_ddl_is_recorded_in_order_and_rows_decode_with_the_columns_of_their_time(
    stack_env: StackEnv, tmp_path: Path
) -> None:
    d = unique_name("ddl")
    start = current_gtid_position(stack_env)
    execute(
        stack_env,
        f"CREATE DATABASE {d}",
        f"CREATE TABLE {d}.t (id INT PRIMARY KEY, a INT)",
        f"INSERT INTO {d}.t VALUES (1, 10)",
        f"ALTER TABLE {d}.t ADD COLUMN b VARCHAR(10) DEFAULT 'x'",
        f"INSERT INTO {d}.t VALUES (2, 20, 'y')",
        f"ALTER TABLE {d}.t MODIFY COLUMN a BIGINT",
        f"UPDATE {d}.t SET a = 9999999999 WHERE id = 2",
        f"ALTER TABLE {d}.t DROP COLUMN b",
        f"INSERT INTO {d}.t VALUES (3, 30)",
        f"CREATE TABLE {d}.u (id INT PRIMARY KEY)",
        f"INSERT INTO {d}.u VALUES (1)",
        f"RENAME TABLE {d}.u TO {d}.u2",
        f"INSERT INTO {d}.u2 VALUES (2)",
        f"TRUNCATE TABLE {d}.t",
        f"INSERT INTO {d}.t VALUES (4, 40)",
        f"DROP TABLE {d}.u2",
    )
    setup = write_capture_config(tmp_path, stack_env, d, f"gtid:{start}")
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 0, result.stderr
    records = row_changes(changelog(setup))
    seen = [(r.operation.value, r.table, r.image) for r in records]
    assert seen == [
        ("ddl", "", None),
        ("ddl", "t", None),
        ("insert", "t", {"id": 1, "a": 10}),
        ("ddl", "t", None),
        ("insert", "t", {"id": 2, "a": 20, "b": "y"}),
        ("ddl", "t", None),
        ("update", "t", {"id": 2, "a": 9999999999, "b": "y"}),
        ("ddl", "t", None),
        ("insert", "t", {"id": 3, "a": 30}),
        ("ddl", "u", None),
        ("insert", "u", {"id": 1}),
        ("ddl", "u", None),
        ("insert", "u2", {"id": 2}),
        ("ddl", "t", None),
        ("insert", "t", {"id": 4, "a": 40}),
        ("ddl", "u2", None),
    ]
    statements = [r.statement or "" for r in records if r.operation is Operation.DDL]
    assert statements[3].startswith("ALTER TABLE")
    assert "MODIFY" in statements[3]
    assert statements[-3].startswith("RENAME TABLE")
    assert statements[-2].startswith("TRUNCATE")
    versions = [r.schema_version for r in records if r.table == "t" and r.after is not None]
    # ADD, MODIFY, DROP and TRUNCATE each start a version.
    assert versions == sorted(versions)
    assert len(set(versions)) == 5
    execute(stack_env, f"DROP DATABASE {d}")


def test_a_5_mb_blob_row_goes_through_and_an_oversized_one_stops_capture_loudly(
    stack_env: StackEnv, tmp_path: Path
) -> None:
    d = unique_name("blob")
    start = current_gtid_position(stack_env)
    blob = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    execute(stack_env, f"CREATE DATABASE {d}",
            f"CREATE TABLE {d}.files (id INT PRIMARY KEY, body LONGBLOB)")
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"INSERT INTO {d}.files VALUES (1, %s)", (blob,))
        cur.execute(f"INSERT INTO {d}.files VALUES (2, 'small')")

    small_limit = write_capture_config(tmp_path, stack_env, d, f"gtid:{start}",
                                       extra_kafka="max_record_bytes = 1048576")
    refused = run_capture_until_caught_up(small_limit)
    assert refused.returncode == 4, refused.stderr
    assert f"{d}.files" in refused.stderr
    assert "max_record_bytes" in refused.stderr
    assert all(r.operation is Operation.DDL for r in row_changes(changelog(small_limit))), \
        "the refused row's transaction and anything after it must not be committed"

    setup = write_capture_config(tmp_path, stack_env, d, f"gtid:{start}")
    assert setup.changelog_topic == small_limit.changelog_topic
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 0, result.stderr
    rows = [r.after for r in row_changes(changelog(setup)) if r.after is not None]
    assert rows == [{"id": 1, "body": blob}, {"id": 2, "body": b"small"}]
    execute(stack_env, f"DROP DATABASE {d}")


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    status = Path(f"/proc/{process.pid}/status").read_text()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(peak.split()[1]) / 1024


def test_a_million_row_transaction_stays_in_bounded_memory(
    stack_env: StackEnv, tmp_path: Path
) -> None:
    d = unique_name("huge")
    start = current_gtid_position(stack_env)
    execute(stack_env, f"CREATE DATABASE {d}",
            f"CREATE TABLE {d}.entries (id INT PRIMARY KEY, amount DECIMAL(19,4))",
            f"INSERT INTO {d}.entries SELECT seq, seq / 100 FROM {d}.seq_1_to_1000000")
    setup = write_capture_config(tmp_path, stack_env, d, f"gtid:{start}")
    process = subprocess.Popen(
        [*CDC, "capture", "--config", str(setup.config_path), "--until-caught-up", "--json"],
        env=capture_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0.0
    while process.poll() is None:
        try:
            peak = max(peak, peak_rss_mb(process))
        except (FileNotFoundError, StopIteration):
            break
        time.sleep(0.5)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr.decode()[-3000:]
    assert json.loads(stdout)["records"] >= 1_000_000
    assert peak < 450, f"capture peaked at {peak:.0f} MB for one huge transaction"
    rows, gtids, last = 0, set(), None
    for record in iter_changelog(setup):
        if record.table == "entries" and record.statement is None:
            assert record.transaction_index == rows, "a row is missing or repeated"
            rows += 1
            gtids.add(record.position.gtid)
            last = record
    assert rows == 1_000_000
    assert len(gtids) == 1
    assert last is not None
    assert last.transaction_last
    assert last.after == {"id": 1_000_000, "amount": Decimal("10000.0000")}
    execute(stack_env, f"DROP DATABASE {d}")


def test_a_table_without_primary_key_is_captured_with_a_warning(
    stack_env: StackEnv, tmp_path: Path
) -> None:
    d = unique_name("nopk")
    start = current_gtid_position(stack_env)
    execute(stack_env, f"CREATE DATABASE {d}", f"CREATE TABLE {d}.log (msg TEXT, n INT)",
            f"INSERT INTO {d}.log VALUES ('a', 1), ('a', 1)",
            f"DELETE FROM {d}.log LIMIT 1")
    setup = write_capture_config(tmp_path, stack_env, d, f"gtid:{start}")
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 0, result.stderr
    assert f"have no primary key: {d}.log" in result.stderr
    ops = [(r.operation.value, r.image) for r in row_changes(changelog(setup)) if r.table]
    assert ops[-3:] == [("insert", {"msg": "a", "n": 1}), ("insert", {"msg": "a", "n": 1}),
                        ("delete", {"msg": "a", "n": 1})]
    execute(stack_env, f"DROP DATABASE {d}")


def test_tail_prints_decoded_records_as_json_lines(stack_env: StackEnv, tmp_path: Path) -> None:
    d = unique_name("tail")
    start = current_gtid_position(stack_env)
    execute(stack_env, f"CREATE DATABASE {d}",
            f"CREATE TABLE {d}.t (id BIGINT UNSIGNED PRIMARY KEY, v DECIMAL(5,2))",
            f"INSERT INTO {d}.t VALUES (18446744073709551615, -1.50)",
            f"UPDATE {d}.t SET v = 2.25")
    setup = write_capture_config(tmp_path, stack_env, d, f"gtid:{start}")
    assert run_capture_until_caught_up(setup).returncode == 0
    shown = subprocess.run([*CDC, "tail", "--config", str(setup.config_path),
                            "--from-beginning", "--json"],
                           env=capture_env(), capture_output=True, text=True, timeout=120,
                           check=True)
    lines = [json.loads(line) for line in shown.stdout.splitlines()]
    rows = [line for line in lines if line["op"] in ("insert", "update")]
    assert [(r["op"], r["table"]) for r in rows] == [("insert", "t"), ("update", "t")]
    assert rows[1]["before"] == {"id": "18446744073709551615", "v": "-1.50"}
    assert rows[1]["after"] == {"id": "18446744073709551615", "v": "2.25"}
    assert rows[0]["gtid"]
    assert rows[0]["commit_time"].endswith("+00:00")
    plain = subprocess.run([*CDC, "tail", "--config", str(setup.config_path), "-n", "1"],
                           env=capture_env(), capture_output=True, text=True, timeout=120,
                           check=True)
    assert len(plain.stdout.splitlines()) == 1
    execute(stack_env, f"DROP DATABASE {d}")


def test_heartbeats_move_while_idle_and_metrics_and_health_answer(
    stack_env: StackEnv, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    d = unique_name("idle")
    start = current_gtid_position(stack_env)
    execute(stack_env, f"CREATE DATABASE {d}", f"CREATE TABLE {d}.t (id INT PRIMARY KEY)",
            f"INSERT INTO {d}.t VALUES (1), (2)")
    setup = write_capture_config(tmp_path, stack_env, d, f"gtid:{start}")
    text = setup.config_path.read_text().replace('metrics_address = ""',
                                                 f'metrics_address = "127.0.0.1:{port}"')
    setup.config_path.write_text(text)
    log = tmp_path / "capture.log"
    process = start_capture(setup, log)
    try:
        wait_until_streaming(log)
        time.sleep(5)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        health = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10)
        assert health.status == 200
        assert json.loads(health.read())["status"] == "ok"
    finally:
        kill(process)
    assert b'cdc_capture_rows_total{operation="insert"} 2.0' in metrics
    assert b"cdc_capture_lag_seconds" in metrics
    assert b"cdc_capture_transactions_total" in metrics
    beats = [r for r in changelog(setup) if r.operation is Operation.HEARTBEAT]
    assert len(beats) >= 3
    times = [b.commit_time_us for b in beats]
    assert times == sorted(times)
    assert times[-1] - times[0] >= 2_000_000
    execute(stack_env, f"DROP DATABASE {d}")
