"""replayer migrate: a target kept in step with a running workload, in sync and async mode,
through a SIGKILL of the replayer; and a delayed copy that stays its delay behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from cdc.kafka.errors import KafkaUnavailableError
from tests.capture_helpers import (
    CaptureSetup,
    capture_env,
    current_gtid_position,
    kill,
    start_capture,
    wait_for_changelog_to_reach,
    wait_until_streaming,
    write_capture_config,
)
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.restore_targets import Target, mysql_state, postgres_state
from tests.snapshot_helpers import snapshot_section, take
from tests.stack import REPO_ROOT, StackEnv, load_stack_env
from tests.throwaway_mariadb import throwaway_mariadb

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Source:
    config: Path
    database: str
    log: Path
    setup: CaptureSetup


@pytest.fixture
def source(stack_env: StackEnv, tmp_path: Path) -> Iterator[Source]:
    """A workload database with capture running and a snapshot taken."""
    database = unique_name("migrate")
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}",
                                 extra_capture=snapshot_section(tmp_path / "store"))
    capture = start_capture(setup, tmp_path / "capture.log")
    try:
        wait_until_streaming(tmp_path / "capture.log")
        finish(workload(stack_env, database, "--transactions", "100", "--seed", "1"))
        take(setup.config_path)
        yield Source(setup.config_path, database, tmp_path / "migrate.log", setup)
        wait_for_changelog_to_reach(setup, current_gtid_position(stack_env))
    finally:
        kill(capture, signal.SIGTERM)


def replayer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replayer", *args], env=capture_env(),
                          capture_output=True, text=True, timeout=300, check=False)


def start_migrate(source: Source, dsn: str, *args: str) -> subprocess.Popen[bytes]:
    log = source.log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "replayer", "migrate", "--config",
                             str(source.config), "--target", dsn, *args],
                            env=capture_env(), stdout=log, stderr=log)


def status(source: Source, dsn: str, *, retry: bool = False) -> dict[str, Any] | None:
    """The target's position for the source; None until the snapshot is loaded (or, with
    ``retry``, while Kafka or the target cannot answer)."""
    result = replayer("status", "--target", dsn, "--config", str(source.config), "--json")
    if retry and result.returncode != 0:
        return None
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)["sources"]
    assert len(entries) <= 1, entries
    return dict(entries[0]) if entries else None


def wait_caught_up(source: Source, dsn: str, migrate: subprocess.Popen[bytes],
                   timeout: float = 180) -> None:
    """Until capture has the source's every transaction and the target the changelog's.
    Right after a Kafka restart its partition may have no leader for a moment: asked again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            wait_for_changelog_to_reach(source.setup, _source_position(), timeout)
            break
        except KafkaUnavailableError:
            assert time.monotonic() < deadline, "Kafka did not come back"
            time.sleep(1)
    while time.monotonic() < deadline:
        assert migrate.poll() is None, source.log.read_text()
        entry = status(source, dsn, retry=True)
        if entry is not None and entry["lag_transactions"] == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"migrate did not catch up:\n{source.log.read_text()[-3000:]}")


def _source_position() -> str:
    return current_gtid_position(load_stack_env())


def _tables(target: Target, database: str) -> tuple[str, tuple[str, ...]]:
    """PostgreSQL cannot hold type_torture's zero dates: it follows the payments tables."""
    tables = WORKLOAD_TABLES if target.engine == "postgresql" else (*WORKLOAD_TABLES,
                                                                     "type_torture")
    return ",".join(f"{database}.{t}" for t in tables), tables


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_target_follows_a_running_workload_through_a_sigkill(
        stack_env: StackEnv, source: Source, target: Target, mode: str) -> None:
    dsn = target.new()
    patterns, tables = _tables(target, source.database)
    migrate = start_migrate(source, dsn, "--mode", mode, "--tables", patterns)
    running = workload(stack_env, source.database, "--rate", "50", "--duration", "12",
                       "--seed", "2")
    try:
        time.sleep(5)
        kill(migrate)  # SIGKILL in the middle of the stream
        migrate = start_migrate(source, dsn, "--mode", mode, "--tables", patterns)
        finish(running)
        wait_caught_up(source, dsn, migrate)
        final = status(source, dsn)
        assert final is not None
        assert final["lag_seconds"] < 120
        assert final["mode"] == mode
    finally:
        kill(migrate, signal.SIGTERM)
    assert migrate.returncode == 0, source.log.read_text()[-3000:]
    assert "stopping at the next transaction boundary" in source.log.read_text()
    source_state = mysql_state(stack_env["CDC_SOURCE_ADMIN_DSN"], source.database, tables)
    assert target.state(dsn, source.database, tables) == source_state
    verified = replayer("verify", "--source", stack_env["CDC_SOURCE_ADMIN_DSN"], "--target",
                        dsn, "--tables", patterns, "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_delayed_copy_stays_its_delay_behind(
        stack_env: StackEnv, source: Source, postgres_databases: Any) -> None:
    dsn = postgres_databases()
    patterns = ",".join(f"{source.database}.{t}" for t in WORKLOAD_TABLES)
    delay = 6
    migrate = start_migrate(source, dsn, "--mode", "async", "--delay", f"{delay}s",
                            "--commit-interval", "1s", "--tables", patterns)
    running = workload(stack_env, source.database, "--rate", "20", "--duration", "20",
                       "--seed", "3")
    behind: list[float] = []
    rates: list[float] = []
    try:
        deadline = time.monotonic() + 18
        while time.monotonic() < deadline:
            time.sleep(1)
            entry = status(source, dsn)
            if entry is not None and entry["lag_seconds"] is not None:
                behind.append(entry["lag_seconds"])
                assert (entry["mode"], entry["delay_s"]) == ("async", delay)
                rates.append(entry["rows_per_s"])
        finish(running)
    finally:
        kill(migrate, signal.SIGTERM)
    # Sampled while transactions keep coming: never nearer than the delay, and not far
    # behind it (a commit second of MariaDB, the commit interval and the sampling).
    steady = behind[len(behind) // 3:]
    assert steady, behind
    assert min(steady) >= delay - 0.5, behind
    assert max(steady) <= delay + 4, behind
    assert max(rates) > 0, rates  # status reports the rate migrate applies at


def test_a_wrong_target_is_said_once_not_retried(source: Source) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "replayer", "migrate", "--config", str(source.config),
         "--target", "postgresql://nobody:wrong@127.0.0.1:1/x", "--mode", "sync"],
        env=capture_env(), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "cannot connect to the target" in result.stderr
    assert "Traceback" not in result.stderr


def _restart_stack(script: str) -> None:
    for action in ("down", "up"):
        subprocess.run(["bash", str(REPO_ROOT / "stack" / script), action], check=True,
                       capture_output=True, timeout=300)


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_migration_survives_restarts_of_the_target_and_of_kafka(
        stack_env: StackEnv, source: Source, postgres_databases: Any, engine: str) -> None:
    with ExitStack() as servers:
        restart_target: Callable[[], None]
        if engine == "postgresql":
            dsn = postgres_databases()
            restart_target = partial(_restart_stack, "postgres.sh")
            target = Target("postgresql", postgres_databases, postgres_state)
        else:
            server = servers.enter_context(throwaway_mariadb("migrate-target", 3301))
            dsn, restart_target = server.admin_dsn, server.restart
            target = Target("mariadb", lambda: server.admin_dsn, mysql_state)
        patterns, tables = _tables(target, source.database)
        migrate = start_migrate(source, dsn, "--mode", "sync", "--tables", patterns)
        running = workload(stack_env, source.database, "--rate", "30", "--duration", "25",
                           "--seed", "4")
        try:
            time.sleep(4)
            restart_target()
            time.sleep(3)
            _restart_stack("kafka.sh")
            finish(running)
            wait_caught_up(source, dsn, migrate, timeout=300)
            assert migrate.poll() is None
        finally:
            kill(migrate, signal.SIGTERM)
        log = source.log.read_text()
        assert "reconnecting" in log, log[-3000:]
        source_state = mysql_state(stack_env["CDC_SOURCE_ADMIN_DSN"], source.database, tables)
        assert target.state(dsn, source.database, tables) == source_state


def _read_only(dsn: str, on: bool) -> None:
    with mysql_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(f"SET GLOBAL read_only = {'ON' if on else 'OFF'}")


def test_cutover_freezes_the_source_waits_and_proves_the_copy(
        stack_env: StackEnv, source: Source, target: Target) -> None:
    dsn = target.new()
    admin = stack_env["CDC_SOURCE_ADMIN_DSN"]
    patterns, tables = _tables(target, source.database)
    migrate = start_migrate(source, dsn, "--mode", "async", "--tables", patterns)
    running = workload(stack_env, source.database, "--rate", "40", "--duration", "6",
                       "--seed", "5")
    try:
        finish(running)
        done = replayer("cutover", "--config", str(source.config), "--target", dsn,
                        "--freeze-source", admin, "--tables", patterns, "--timeout", "3m",
                        "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        verdict = json.loads(done.stdout)
        assert verdict["identical"] is True
        assert verdict["source_gtid_position"] == current_gtid_position(stack_env)
        with mysql_connect(admin) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT @@global.read_only")
            assert cursor.fetchone() == (1,)
        # A change behind the migration's back: cutover says so, naming the key.
        _delete_one_ledger_entry(target, dsn, source.database)
        different = replayer("cutover", "--config", str(source.config), "--target", dsn,
                             "--tables", patterns, "--timeout", "1m")
        assert different.returncode == 1, different.stdout + different.stderr
        assert "DIFFERENT" in different.stdout
        assert "missing in the target" in different.stdout
    finally:
        _read_only(admin, on=False)
        kill(migrate, signal.SIGTERM)
    assert target.state(dsn, source.database, tables) != mysql_state(
        admin, source.database, tables)


def _delete_one_ledger_entry(target: Target, dsn: str, database: str) -> None:
    statement = "DELETE FROM {}.ledger_entries WHERE id = (SELECT min(id) FROM {}.ledger_entries)"
    if target.engine == "postgresql":
        with postgres_connect(dsn) as pg, pg.cursor() as pg_cursor:
            name = f'"{database}"'
            pg_cursor.execute(statement.format(name, name))
    else:
        with mysql_connect(dsn) as mysql, mysql.cursor() as cursor:
            name = f"`{database}`"
            cursor.execute(f"SELECT min(id) FROM {name}.ledger_entries")
            (low,) = cursor.fetchone() or (None,)
            cursor.execute(f"DELETE FROM {name}.ledger_entries WHERE id = %s", (low,))


def test_a_new_snapshot_is_taken_when_asked(
        stack_env: StackEnv, source: Source, postgres_databases: Any) -> None:
    dsn = postgres_databases()
    existing = {p.name for p in (source.config.parent / "store").iterdir() if p.is_dir()}
    patterns = ",".join(f"{source.database}.{t}" for t in WORKLOAD_TABLES)
    finish(workload(stack_env, source.database, "--transactions", "30", "--seed", "6"))
    migrate = start_migrate(source, dsn, "--mode", "sync", "--snapshot", "new",
                            "--tables", patterns)
    try:
        wait_caught_up(source, dsn, migrate)
    finally:
        kill(migrate, signal.SIGTERM)
    taken = {p.name for p in (source.config.parent / "store").iterdir() if p.is_dir()}
    [new] = taken - existing
    assert f"loading snapshot {new}" in source.log.read_text()
    assert postgres_state(dsn, source.database, WORKLOAD_TABLES) == mysql_state(
        stack_env["CDC_SOURCE_ADMIN_DSN"], source.database, WORKLOAD_TABLES)
