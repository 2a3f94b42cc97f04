"""kill -9 at random moments, server restarts and a second capture lose and repeat nothing."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.capture_helpers import (
    CaptureSetup,
    capture_env,
    changelog,
    current_gtid_position,
    kill,
    replay,
    run_capture_until_caught_up,
    source_row_counts_by_gtid,
    start_capture,
    transactions,
    wait_for_changelog_to_reach,
    wait_until_streaming,
    write_capture_config,
)
from tests.compare import changelog_rows, source_rows
from tests.db import mysql_connect, unique_name
from tests.stack import REPO_ROOT, StackEnv

pytestmark = pytest.mark.integration

WORKLOAD_TABLES = ("accounts", "payments", "ledger_entries", "refunds")


def workload(stack_env: StackEnv, database: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.workload", "--dsn", stack_env["CDC_SOURCE_ADMIN_DSN"],
         "--database", database, *args],
        env=capture_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[bytes]) -> None:
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr.decode()


def assert_changelog_equals_source(stack_env: StackEnv, setup: CaptureSetup, start: str) -> None:
    records = changelog(setup)
    grouped = list(transactions(records))
    gtids = [tx[0].position.gtid for tx in grouped]
    assert len(gtids) == len(set(gtids)), "a source transaction was written twice"
    sequences = [int(g.split("-")[2]) for g in gtids]
    assert sequences == sorted(sequences), "transactions are out of commit order"
    captured = Counter({tx[0].position.gtid: sum(r.table != "" and r.statement is None
                                                 for r in tx) for tx in grouped})
    expected = source_row_counts_by_gtid(stack_env, start, setup.database)
    assert +captured == +expected, "row changes per transaction differ from the binlog's"
    state = replay(records)
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn:
        for table in WORKLOAD_TABLES:
            assert changelog_rows(state.get(table, {})) == source_rows(conn, setup.database,
                                                                       table), table


@pytest.fixture
def workload_db(stack_env: StackEnv) -> tuple[str, str]:
    database = unique_name("crash")
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    return database, start


def test_sigkill_at_random_moments_loses_and_repeats_nothing(
    stack_env: StackEnv, tmp_path: Path, workload_db: tuple[str, str]
) -> None:
    database, start = workload_db
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}")
    log = tmp_path / "capture.log"
    load = workload(stack_env, database, "--rate", "60", "--duration", "40", "--seed", "11")
    rng = random.Random(20261124)
    capture = start_capture(setup, log)
    kills = 0
    while load.poll() is None or kills < 20:
        time.sleep(rng.uniform(0.2, 2.5))
        kill(capture)
        kills += 1
        capture = start_capture(setup, log)
    finish(load)
    kill(capture)
    last_log = tmp_path / "last.log"
    last = start_capture(setup, last_log)
    wait_until_streaming(last_log)  # SIGTERM during start-up simply kills it
    kill(last, signal.SIGTERM)
    assert last.returncode == 0, last_log.read_text()[-3000:]
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 0, result.stderr
    assert kills >= 20
    assert_changelog_equals_source(stack_env, setup, start)


def _restart(script: str, *args: str) -> None:
    for action in ("down", "up"):
        subprocess.run(["bash", str(REPO_ROOT / "stack" / script), action, *args],
                       check=True, capture_output=True, timeout=300)


@pytest.mark.parametrize(("script", "args"), [("mariadb.sh", ("source",)), ("kafka.sh", ())],
                         ids=["mariadb", "kafka"])
def test_a_server_restart_during_capture_loses_and_repeats_nothing(
    stack_env: StackEnv, tmp_path: Path, workload_db: tuple[str, str], script: str,
    args: tuple[str, ...],
) -> None:
    database, start = workload_db
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}")
    log = tmp_path / "capture.log"
    capture = start_capture(setup, log)
    wait_until_streaming(log)
    finish(workload(stack_env, database, "--transactions", "150", "--seed", "5"))
    _restart(script, *args)
    finish(workload(stack_env, database, "--transactions", "150", "--seed", "6"))
    wait_for_changelog_to_reach(setup, current_gtid_position(stack_env))
    assert capture.poll() is None, "capture must survive the restart: " + log.read_text()[-3000:]
    kill(capture, signal.SIGTERM)
    assert capture.returncode == 0, log.read_text()[-3000:]
    assert_changelog_equals_source(stack_env, setup, start)


def test_a_second_capture_fences_the_first_which_stops_with_a_clear_message(
    stack_env: StackEnv, tmp_path: Path, workload_db: tuple[str, str]
) -> None:
    database, start = workload_db
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}")
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    load = workload(stack_env, database, "--rate", "50", "--duration", "12", "--seed", "8")
    first = start_capture(setup, first_log)
    wait_until_streaming(first_log)
    second = start_capture(setup, second_log)
    first.wait(timeout=120)
    assert first.returncode == 3, first_log.read_text()[-3000:]
    assert "took over the changelog" in first_log.read_text()
    finish(load)
    assert second.poll() is None, second_log.read_text()[-3000:]
    kill(second, signal.SIGTERM)
    assert second.returncode == 0, second_log.read_text()[-3000:]
    final = run_capture_until_caught_up(setup)
    assert final.returncode == 0, final.stderr
    assert_changelog_equals_source(stack_env, setup, start)
