"""Restores to marks, a time, a GTID and the latest point, into PostgreSQL and into MariaDB,
each compared with the source's state recorded at that point; SIGKILL during the load and
during the replay, then --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from cdc.config import load_config
from cdc.dsn import parse_dsn
from cdc.snapshot.changelog import Changelog
from tests.capture_helpers import (
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
from tests.restore_targets import State, Target, mysql_state, postgres_state
from tests.snapshot_helpers import newest_manifest, run_cdc, snapshot_section, take
from tests.stack import StackEnv

pytestmark = pytest.mark.integration
ALL_TABLES = (*WORKLOAD_TABLES, "type_torture")
MARKS = ("after-second-run", "after-third-run", "after-fourth-run")


def replayer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replayer", *args], env=capture_env(),
                          capture_output=True, text=True, timeout=600, check=False)


@dataclass(frozen=True)
class Scenario:
    config: str
    database: str
    points: dict[str, State]
    """Restore point to the source's state there (tables of the payments workload)."""
    gtid_point: str
    latest: State


def _last_transaction(config: Path) -> str:
    changelog = Changelog(load_config(config, os.environ))
    tail = changelog.tail()
    assert tail is not None
    last = ""
    for offset, record in changelog.records_from(0):
        if not record.operation.is_marker and record.transaction_last:
            last = record.position.gtid
        if offset >= tail[0]:
            break
    return last


def _settle() -> None:
    """Let the clock pass a whole second: MariaDB stamps commits in whole seconds."""
    time.sleep(1.2)


@pytest.fixture(scope="module")
def scenario(stack_env: StackEnv, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """A snapshot after a first run, then five more runs with marks, a time and a GTID
    between them, the source's state recorded at each."""
    tmp_path = tmp_path_factory.mktemp("restore-points")
    database = unique_name("points")
    source = stack_env["CDC_SOURCE_ADMIN_DSN"]
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    setup = write_capture_config(
        tmp_path, stack_env, database, f"gtid:{start}",
        extra_capture=snapshot_section(tmp_path / "store", extra="file_rows = 200"))
    capture = start_capture(setup, tmp_path / "capture.log")
    points: dict[str, State] = {}

    def run(seed: int, transactions: int = 120) -> None:
        finish(workload(stack_env, database, "--transactions", str(transactions),
                        "--seed", str(seed)))

    def record(point: str) -> None:
        points[point] = mysql_state(source, database, ALL_TABLES)

    try:
        wait_until_streaming(tmp_path / "capture.log")
        run(1, 600)
        take(setup.config_path)
        for seed, label in zip((2, 3, 4), MARKS, strict=True):
            run(seed)
            marked = run_cdc("mark", "--config", str(setup.config_path), label)
            assert marked.returncode == 0, marked.stderr
            record(f"name:{label}")
            if seed == 3:  # a time between the third and the fourth run
                _settle()
                record(f"time:{datetime.now(UTC).isoformat()}")
                _settle()
        run(5)
        # The changelog's last transaction, not the server's position: other writers may
        # have committed since.
        wait_for_changelog_to_reach(setup, current_gtid_position(stack_env))
        gtid_point = _last_transaction(setup.config_path)
        record(f"gtid:{gtid_point}")
        run(6)
        wait_for_changelog_to_reach(setup, current_gtid_position(stack_env))
        latest = mysql_state(source, database, ALL_TABLES)
    finally:
        kill(capture, signal.SIGTERM)
    distinct = {repr(sorted((t, sorted(rows.items())) for t, rows in state.items()))
                for state in points.values()}
    assert len(distinct) == len(points) - 1  # only the time and the third mark coincide
    return Scenario(str(setup.config_path), database, points, gtid_point, latest)


def _tables(database: str, tables: tuple[str, ...] = WORKLOAD_TABLES) -> str:
    return ",".join(f"{database}.{table}" for table in tables)


def _engine_tables(target: Target) -> tuple[str, ...]:
    """PostgreSQL cannot hold type_torture's zero dates (a test shows the refusal): it gets
    the payments tables; MariaDB gets type_torture too."""
    return WORKLOAD_TABLES if target.engine == "postgresql" else ALL_TABLES


def _subset(state: State, tables: tuple[str, ...]) -> State:
    return {table: state[table] for table in tables}


def test_restores_to_marks_a_time_a_gtid_and_latest_equal_the_source_there(
        stack_env: StackEnv, scenario: Scenario, target: Target) -> None:
    """One target brought forward point by point (each an incremental restore), and at every
    point equal to the source's state recorded there; verify agrees."""
    dsn = target.new()
    names = _engine_tables(target)
    tables = _tables(scenario.database, names)
    for number, (point, expected) in enumerate(scenario.points.items()):
        result = replayer("restore", "--config", scenario.config, "--to", point, "--target",
                          dsn, "--tables", tables, "--json", *(["--resume"] if number else []))
        assert result.returncode == 0, f"{point}: {result.stderr}"
        assert target.state(dsn, scenario.database, names) == _subset(expected, names), point
    latest = replayer("restore", "--config", scenario.config, "--to", "latest", "--target", dsn,
                      "--tables", tables, "--resume", "--json")
    assert latest.returncode == 0, latest.stderr
    assert target.state(dsn, scenario.database, names) == _subset(scenario.latest, names)
    verified = replayer("verify", "--source", stack_env["CDC_SOURCE_ADMIN_DSN"], "--target",
                        dsn, "--tables", tables, "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["identical"] is True


def _phase(engine: str, dsn: str, source: str) -> str:
    """'load' while snapshot files are being loaded, 'replay' once the position is stored,
    '' before either."""
    if engine == "postgresql":
        connection: Any = postgres_connect(dsn)
    else:
        connection = mysql_connect(dsn)
    try:
        with connection.cursor() as cursor:
            try:
                cursor.execute("SELECT count(*) FROM cdc_replayer.loaded_files")
                files = int(cursor.fetchone()[0])
                cursor.execute("SELECT count(*) FROM cdc_replayer.applied_position "
                               "WHERE source = %s", (source,))
                stored = int(cursor.fetchone()[0])
            except (psycopg2.Error, Exception):  # the bookkeeping is not there yet
                return ""
        return "replay" if stored else ("load" if files else "")
    finally:
        connection.close()


def test_sigkill_during_the_load_and_during_the_replay_then_resume(
        scenario: Scenario, target: Target) -> None:
    dsn = target.new()
    point = f"gtid:{scenario.gtid_point}"
    names = _engine_tables(target)
    command = [sys.executable, "-m", "replayer", "restore", "--config", scenario.config,
               "--to", point, "--target", dsn, "--tables", _tables(scenario.database, names)]
    killed_in: list[str] = []
    for wanted in ("load", "replay"):
        process = subprocess.Popen([*command, *(["--resume"] if killed_in else [])],
                                   env=capture_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if _phase(target.engine, dsn, scenario.database) == wanted:
                process.send_signal(signal.SIGKILL)
                killed_in.append(wanted)
                break
            time.sleep(0.02)
        process.wait(timeout=60)
    assert killed_in == ["load", "replay"], f"killed in {killed_in}: the phases went too fast"
    resumed = replayer(*command[3:], "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert target.state(dsn, scenario.database, names) == \
        _subset(scenario.points[point], names)


def test_zero_dates_into_postgresql_are_refused_by_name(
        scenario: Scenario, postgres_databases: Callable[[], str]) -> None:
    """The type-torture table holds MySQL's zero date, which PostgreSQL cannot hold: the
    restore stops naming the column, it never turns the value into NULL or a real date."""
    dsn = postgres_databases()
    result = replayer("restore", "--config", scenario.config, "--to", "latest", "--target", dsn,
                      "--tables", f"{scenario.database}.type_torture")
    assert result.returncode != 0
    assert "zero date" in result.stderr
    assert "Traceback" not in result.stderr


def _bookkeeping_exists(target: Target, dsn: str) -> bool:
    if target.engine == "postgresql":
        with postgres_connect(dsn) as pg, pg.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'cdc_replayer'")
            return cursor.fetchone() is not None
    with mysql_connect(dsn) as mysql, mysql.cursor() as mysql_cursor:
        mysql_cursor.execute("SHOW DATABASES LIKE 'cdc_replayer'")
        return mysql_cursor.fetchone() is not None


@pytest.mark.parametrize(("point", "message"), [
    ("time:2026-01-01T00:00:00", "offset"),
    ("time:2999-01-01T00:00:00Z", "window"),
    ("offset:0", "snapshot"),
])
def test_points_that_cannot_be_restored_leave_the_target_untouched(
        scenario: Scenario, target: Target, point: str, message: str) -> None:
    dsn = target.new()
    result = replayer("restore", "--config", scenario.config, "--to", point, "--target", dsn)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not _bookkeeping_exists(target, dsn)


def test_a_target_holding_tables_is_refused_and_kept(
        scenario: Scenario, postgres_databases: Callable[[], str]) -> None:
    dsn = postgres_databases()
    with postgres_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE public.keep_me (id int PRIMARY KEY)")
        cursor.execute("INSERT INTO public.keep_me VALUES (7)")
    result = replayer("restore", "--config", scenario.config, "--to", "latest", "--target", dsn)
    assert result.returncode == 2, result.stderr
    assert "public.keep_me" in result.stderr
    assert "--resume" in result.stderr
    with postgres_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id FROM public.keep_me")
        assert cursor.fetchall() == [(7,)]
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'cdc_replayer'")
        assert cursor.fetchone() == (0,)


@pytest.mark.parametrize(("dsn", "message"), [
    ("postgresql://nobody:wrong@127.0.0.1:1/x", "cannot connect to the target"),
    ("postgresql://cdc:wrong-password@127.0.0.1:{port}/cdc", "password"),
    ("postgresql://cdc:{password}@127.0.0.1:{port}/no_such_database", "does not exist"),
])
def test_an_unreachable_postgresql_target_is_a_clear_error(
        stack_env: StackEnv, scenario: Scenario, dsn: str, message: str) -> None:
    target_dsn = dsn.format(port=stack_env["CDC_POSTGRES_PORT"],
                            password=parse_dsn(stack_env["CDC_POSTGRES_DSN"]).password)
    result = replayer("restore", "--config", scenario.config, "--to", "latest", "--target",
                      target_dsn)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "wrong-password" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_corrupt_snapshot_file_stops_the_load_by_name_then_resume_finishes(
        scenario: Scenario, postgres_databases: Callable[[], str]) -> None:
    dsn = postgres_databases()
    store = Path(scenario.config).parent / "store"
    [snapshot_dir] = [p for p in store.iterdir() if p.is_dir()]
    victim = sorted(snapshot_dir.glob("*.avro"))[len(list(snapshot_dir.glob("*.avro"))) // 2]
    original = victim.read_bytes()
    point = f"gtid:{scenario.gtid_point}"
    command = ("restore", "--config", scenario.config, "--to", point, "--target", dsn,
               "--tables", _tables(scenario.database))
    try:
        victim.write_bytes(original[:100] + bytes([original[100] ^ 0xFF]) + original[101:])
        broken = replayer(*command)
        assert broken.returncode != 0
        assert victim.name in broken.stderr
        assert "Traceback" not in broken.stderr
    finally:
        victim.write_bytes(original)
    resumed = replayer(*command, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert postgres_state(dsn, scenario.database, WORKLOAD_TABLES) == \
        _subset(scenario.points[point], WORKLOAD_TABLES)


def test_a_restore_to_the_snapshots_own_point_then_forward(
        scenario: Scenario, target: Target) -> None:
    """Nothing is replayed at the snapshot's anchor, yet the target records where the
    snapshot stands, so bringing it forward replays exactly what it lacks."""
    dsn = target.new()
    anchor = newest_manifest(Path(scenario.config).parent / "store").anchor.gtid_position
    tables = _tables(scenario.database)
    at_anchor = replayer("restore", "--config", scenario.config, "--to", f"gtid:{anchor}",
                         "--target", dsn, "--tables", tables, "--json")
    assert at_anchor.returncode == 0, at_anchor.stderr
    assert json.loads(at_anchor.stdout)["transactions"] == 0
    point = f"name:{MARKS[0]}"
    forward = replayer("restore", "--config", scenario.config, "--to", point, "--target", dsn,
                       "--tables", tables, "--resume")
    assert forward.returncode == 0, forward.stderr
    assert target.state(dsn, scenario.database, WORKLOAD_TABLES) == \
        _subset(scenario.points[point], WORKLOAD_TABLES)


def test_postgresql_gets_every_key_and_index_of_the_source(
        stack_env: StackEnv, scenario: Scenario, postgres_databases: Callable[[], str]) -> None:
    """The indexes are built after the rows, side by side over the load's workers: each
    source index is there, unique where the source's is."""
    dsn = postgres_databases()
    result = replayer("restore", "--config", scenario.config, "--to",
                      f"gtid:{scenario.gtid_point}", "--target", dsn, "--workers", "2",
                      "--tables", _tables(scenario.database))
    assert result.returncode == 0, result.stderr
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as mysql, \
            mysql.cursor() as cursor:
        cursor.execute("SELECT TABLE_NAME, INDEX_NAME, MIN(NON_UNIQUE) FROM "
                       "information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
                       "GROUP BY TABLE_NAME, INDEX_NAME", (scenario.database,))
        source = sorted((str(table), int(non_unique) == 0)
                        for table, _, non_unique in cursor.fetchall()
                        if table in WORKLOAD_TABLES)
    with postgres_connect(dsn) as pg, pg.cursor() as pg_cursor:
        pg_cursor.execute("SELECT c.relname, i.indisunique FROM pg_index i "
                          "JOIN pg_class c ON c.oid = i.indrelid "
                          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                          (scenario.database,))
        target = sorted((str(table), bool(unique)) for table, unique in pg_cursor.fetchall())
    assert len(source) > len(WORKLOAD_TABLES)  # secondary indexes besides the keys
    assert target == source
