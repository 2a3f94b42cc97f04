"""replayer migrate: a target kept in step with a running workload, in sync and async mode,
through a SIGKILL of the replayer and restarts of the target and of Kafka, then cut over; a
delayed copy that stays its delay behind; a new snapshot when asked."""

from __future__ import annotations

import json
import random
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


@dataclass(frozen=True)
class MigrationTarget:
    dsn: str
    restart: Callable[[], None]
    """Stop the target server and start it again, its data kept."""
    target: Target


def _migration_target(engine: str, servers: ExitStack,
                      postgres_databases: Callable[[], str]) -> MigrationTarget:
    if engine == "postgresql":
        return MigrationTarget(postgres_databases(), partial(_restart_stack, "postgres.sh"),
                               Target("postgresql", postgres_databases, postgres_state))
    server = servers.enter_context(throwaway_mariadb("migrate-target", 3301))
    return MigrationTarget(server.admin_dsn, server.restart,
                           Target("mariadb", lambda: server.admin_dsn, mysql_state))


def _restart_stack(script: str) -> None:
    for action in ("down", "up"):
        subprocess.run(["bash", str(REPO_ROOT / "stack" / script), action], check=True,
                       capture_output=True, timeout=300)


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


WORKLOAD_SECONDS = 65


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_a_migration_through_a_sigkill_and_restarts_cuts_over_identical(
        stack_env: StackEnv, source: Source, postgres_databases: Callable[[], str],
        engine: str, mode: str) -> None:
    """The whole story: a minute of payments while migrating; meanwhile the replayer is
    killed at a random moment and started again, the target server is restarted and Kafka
    is restarted; then cutover freezes the source, proves the copy identical, and a row
    removed in the target behind its back is caught."""
    admin = stack_env["CDC_SOURCE_ADMIN_DSN"]
    kill_after = random.uniform(5, 15)
    print(f"SIGKILL of the replayer {kill_after:.1f} s into the workload")
    with ExitStack() as servers:
        chosen = _migration_target(engine, servers, postgres_databases)
        dsn = chosen.dsn
        patterns, _ = _tables(chosen.target, source.database)
        migrate = start_migrate(source, dsn, "--mode", mode, "--tables", patterns)
        running = workload(stack_env, source.database, "--rate", "30", "--duration",
                           str(WORKLOAD_SECONDS), "--seed", "2")
        began = time.monotonic()
        try:
            _sleep_until(began + kill_after)
            kill(migrate)  # SIGKILL, wherever it is: loading, applying or committing
            migrate = start_migrate(source, dsn, "--mode", mode, "--tables", patterns)
            _sleep_until(began + 22)
            chosen.restart()
            assert migrate.poll() is None, source.log.read_text()[-3000:]
            _sleep_until(began + 35)
            _restart_stack("kafka.sh")
            assert migrate.poll() is None, source.log.read_text()[-3000:]
            finish(running)
            assert time.monotonic() - began >= 60
            _cutover_proves_the_copy(stack_env, source, chosen, mode)
            _cutover_catches_a_change_behind_its_back(source, chosen)
        finally:
            _read_only(admin, on=False)
            kill(running)
            kill(migrate, signal.SIGTERM)
    assert migrate.returncode == 0, source.log.read_text()[-3000:]
    log = source.log.read_text()
    assert "reconnecting" in log, log[-3000:]
    assert "stopping at the next transaction boundary" in log


def _cutover_proves_the_copy(stack_env: StackEnv, source: Source, chosen: MigrationTarget,
                             mode: str) -> None:
    admin = stack_env["CDC_SOURCE_ADMIN_DSN"]
    patterns, tables = _tables(chosen.target, source.database)
    done = replayer("cutover", "--config", str(source.config), "--target", chosen.dsn,
                    "--freeze-source", admin, "--tables", patterns, "--timeout", "5m", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["identical"] is True
    assert verdict["source_gtid_position"] == current_gtid_position(stack_env)
    with mysql_connect(admin) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT @@global.read_only")
        assert cursor.fetchone() == (1,)
    # The test's own comparison, by reading every row on both sides.
    source_state = mysql_state(admin, source.database, tables)
    assert chosen.target.state(chosen.dsn, source.database, tables) == source_state
    assert sum(len(rows) for rows in source_state.values()) > 1000
    final = status(source, chosen.dsn)
    assert final is not None
    assert (final["mode"], final["lag_transactions"]) == (mode, 0)


def _cutover_catches_a_change_behind_its_back(source: Source, chosen: MigrationTarget) -> None:
    """A row removed in the target: cutover says DIFFERENT, naming the key, exit status 1."""
    patterns, _ = _tables(chosen.target, source.database)
    _delete_one_ledger_entry(chosen.target, chosen.dsn, source.database)
    different = replayer("cutover", "--config", str(source.config), "--target", chosen.dsn,
                         "--tables", patterns, "--timeout", "1m")
    assert different.returncode == 1, different.stdout + different.stderr
    assert "DIFFERENT" in different.stdout
    assert "missing in the target" in different.stdout


def test_cutover_will_not_vouch_for_a_source_that_kept_committing(
        stack_env: StackEnv, source: Source, postgres_databases: Callable[[], str]) -> None:
    """read_only does not hold a session with READ ONLY ADMIN, as the workload's user has: the
    source moves on after the freeze, and cutover says its verdict proves nothing."""
    admin = stack_env["CDC_SOURCE_ADMIN_DSN"]
    dsn = postgres_databases()
    patterns = ",".join(f"{source.database}.{t}" for t in WORKLOAD_TABLES)
    migrate = start_migrate(source, dsn, "--mode", "sync", "--tables", patterns)
    running = workload(stack_env, source.database, "--rate", "50", "--duration", "60",
                       "--seed", "7")
    try:
        time.sleep(8)  # the snapshot loaded, the workload under way
        assert running.poll() is None
        done = replayer("cutover", "--config", str(source.config), "--target", dsn,
                        "--freeze-source", admin, "--tables", patterns, "--timeout", "2m")
        assert running.poll() is None  # read_only did not stop it
    finally:
        _read_only(admin, on=False)
        kill(running)
        kill(migrate, signal.SIGTERM)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the source committed while cutover compared" in done.stderr
    assert "READ ONLY ADMIN" in done.stderr


def test_cutover_with_no_migration_running_times_out_saying_so(
        source: Source, postgres_databases: Callable[[], str]) -> None:
    done = replayer("cutover", "--config", str(source.config), "--target",
                    postgres_databases(), "--timeout", "2s")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the target did not catch up with the source's position" in done.stderr
    assert "replayer status" in done.stderr


SCHEMA_CHANGES = (
    "CREATE TABLE notes (id int PRIMARY KEY, body varchar(40) NOT NULL)",
    "INSERT INTO notes VALUES (1, 'a'), (2, 'b')",
    "ALTER TABLE notes ADD COLUMN stars tinyint NOT NULL DEFAULT 3",
    "INSERT INTO notes VALUES (3, 'c', 5)",
    "UPDATE notes SET stars = 4 WHERE id = 1",
    "ALTER TABLE notes DROP COLUMN body",
    "INSERT INTO notes VALUES (4, 1)",
    "DELETE FROM notes WHERE id = 2",
)


def test_schema_changes_during_a_migration_are_followed(
        stack_env: StackEnv, source: Source, target: Target) -> None:
    """A table created, a column added and one dropped while payments keep coming."""
    dsn = target.new()
    patterns, tables = _tables(target, source.database)
    patterns += f",{source.database}.notes"
    migrate = start_migrate(source, dsn, "--mode", "sync", "--tables", patterns)
    running = workload(stack_env, source.database, "--rate", "30", "--duration", "12",
                       "--seed", "8")
    admin = stack_env["CDC_SOURCE_ADMIN_DSN"]
    try:
        time.sleep(3)
        with mysql_connect(admin, source.database) as connection, \
                connection.cursor() as cursor:
            for statement in SCHEMA_CHANGES:
                cursor.execute(statement)
                connection.commit()
                time.sleep(0.5)  # each change its own moment in the stream
        finish(running)
        wait_caught_up(source, dsn, migrate)
    finally:
        kill(migrate, signal.SIGTERM)
    followed = (*tables, "notes")
    expected = mysql_state(admin, source.database, followed)
    assert expected["notes"] == {(1,): {"id": 1, "stars": 4}, (3,): {"id": 3, "stars": 5},
                                 (4,): {"id": 4, "stars": 1}}
    assert target.state(dsn, source.database, followed) == expected


def _read_only(dsn: str, on: bool) -> None:
    with mysql_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(f"SET GLOBAL read_only = {'ON' if on else 'OFF'}")


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
    pending: list[int] = []  # transactions in the changelog the delayed copy holds back
    rates: list[float] = []
    try:
        deadline = time.monotonic() + 18
        while time.monotonic() < deadline:
            time.sleep(1)
            entry = status(source, dsn)
            if entry is not None and entry["lag_seconds"] is not None:
                behind.append(entry["lag_seconds"])
                pending.append(entry["lag_transactions"])
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
    # About 6 s of transactions at 20/s: the changelog holds them, the target not yet.
    assert min(pending[len(pending) // 3:]) >= 40, pending
    assert max(rates) > 0, rates  # status reports the rate migrate applies at


def test_a_wrong_target_is_said_once_not_retried(source: Source) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "replayer", "migrate", "--config", str(source.config),
         "--target", "postgresql://nobody:wrong@127.0.0.1:1/x", "--mode", "sync"],
        env=capture_env(), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "cannot connect to the target" in result.stderr
    assert "Traceback" not in result.stderr


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
