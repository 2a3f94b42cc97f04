"""replayer drill on the real stack: after a workload, a drill into PostgreSQL and one into
MariaDB report identical with a measured RTO; a snapshot with a flipped byte fails the drill;
a drill killed with SIGKILL leaves its scratch only until the next drill drops it; the
history lists them all."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cdc.dsn import parse_dsn
from tests.capture_helpers import (
    CaptureSetup,
    capture_env,
    run_capture_until_caught_up,
    write_capture_config,
)
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.integration.test_verify_postgres import drop_source_database
from tests.snapshot_helpers import newest_manifest, snapshot_section, take
from tests.stack import StackEnv
from tests.throwaway_mariadb import throwaway_mariadb

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Backed:
    setup: CaptureSetup
    store: Path
    postgres: str
    """The stack's PostgreSQL, as drills reach it (they create their scratch databases)."""


def replayer(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replayer", *args], env=capture_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


def postgres_tables(backed: Backed) -> str:
    """The payment tables: type_torture holds zero dates, which PostgreSQL cannot hold."""
    return ",".join(f"{backed.setup.database}.{table}" for table in WORKLOAD_TABLES)


def drill(backed: Backed, *args: str, target: str | None = None) -> tuple[int, dict[str, Any]]:
    target = target or backed.postgres
    tables = ("--tables", postgres_tables(backed)) if target.startswith("postgresql") else ()
    result = replayer("drill", "--config", str(backed.setup.config_path), "--target",
                      target, "--json", *tables, *args)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout.strip().splitlines()[-1])


def history(backed: Backed) -> list[dict[str, Any]]:
    result = replayer("drill", "--config", str(backed.setup.config_path), "--history",
                      "--json")
    assert result.returncode == 0, result.stderr
    drills: list[dict[str, Any]] = json.loads(result.stdout)["drills"]
    return drills


def drill_finding(backed: Backed) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "cdc", "check", "--config", str(backed.setup.config_path),
         "--nagios", "--json"], env=capture_env(), capture_output=True, text=True,
        timeout=300, check=False)
    report = json.loads(result.stdout)
    finding: dict[str, Any] = next(f for f in report["findings"] if f["fact"] == "drill_age")
    return finding


def scratch_databases(postgres: str) -> list[str]:
    connection = postgres_connect(postgres)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'cdc_drill_%%'")
            return sorted(str(name) for (name,) in cursor.fetchall())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def backed(stack_env: StackEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backed]:
    """A workload database with a snapshot and 300 transactions captured after it."""
    directory = tmp_path_factory.mktemp("drill")
    database = unique_name("drill")
    store = directory / "store"
    try:
        finish(workload(stack_env, database, "--setup-only"))
        finish(workload(stack_env, database, "--transactions", "200", "--seed", "3"))
        setup = write_capture_config(directory, stack_env, database, "current",
                                     extra_capture=snapshot_section(store, anchor_wait="0s"))
        take(setup.config_path)
        caught_up = run_capture_until_caught_up(setup)
        assert caught_up.returncode == 0, caught_up.stderr
        finish(workload(stack_env, database, "--transactions", "300", "--seed", "4"))
        caught_up = run_capture_until_caught_up(setup)
        assert caught_up.returncode == 0, caught_up.stderr
        admin = parse_dsn(stack_env["CDC_POSTGRES_DSN"])
        yield Backed(setup, store, admin.redacted().replace(":***@", f":{admin.password}@"))
    finally:
        drop_source_database(stack_env, database)


@pytest.fixture(scope="module")
def drill_mariadb() -> Iterator[str]:
    """A MariaDB server kept for drills."""
    with throwaway_mariadb("drill-target", 3601) as server:
        yield server.admin_dsn


SYSTEM_DATABASES = {"mysql", "information_schema", "performance_schema", "sys"}


def scratch_left(target: str) -> list[str]:
    """What drills left on the target: scratch databases in PostgreSQL, any database but the
    system ones in MariaDB."""
    if target.startswith("postgresql://"):
        return scratch_databases(target)
    with mysql_connect(target) as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        return sorted(str(name) for (name,) in cur.fetchall()
                      if str(name) not in SYSTEM_DATABASES)


def _assert_identical_with_phases(result: dict[str, Any]) -> None:
    assert result["verdict"] == "identical", result
    phases = {p["name"]: p for p in result["phases"]}
    assert set(phases) == {"load", "indexes", "replay", "verify"}
    assert phases["load"]["units"] > 0
    assert phases["indexes"]["seconds"] > 0  # the keys are built after the rows
    assert phases["replay"]["units"] > 0  # the 300 transactions after the snapshot
    assert phases["verify"]["units"] == result["rows"]
    assert result["rto_seconds"] == pytest.approx(
        phases["load"]["seconds"] + phases["indexes"]["seconds"] + phases["replay"]["seconds"],
        abs=0.01)
    assert result["rto_seconds"] > 0


def test_drills_into_postgresql_and_mariadb_are_identical(backed: Backed,
                                                         drill_mariadb: str) -> None:
    status, result = drill(backed)
    assert status == 0, result
    _assert_identical_with_phases(result)
    assert result["engine"] == "postgresql"
    assert result["point"] == "latest"
    assert scratch_databases(backed.postgres) == []

    status, result = drill(backed, "--to", "random")
    assert status == 0, result
    assert result["verdict"] == "identical"
    assert result["point"].startswith("offset:")

    status, result = drill(backed, target=drill_mariadb)
    assert status == 0, result
    _assert_identical_with_phases(result)
    assert result["engine"] == "mysql"
    assert scratch_left(drill_mariadb) == []

    recorded = history(backed)
    assert [d["verdict"] for d in recorded[-3:]] == ["identical"] * 3
    finding = drill_finding(backed)
    assert finding["status"] == "OK", finding
    assert recorded[-1]["drill_id"] in finding["text"]


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_a_drill_killed_midway_is_cleaned_up_by_the_next(backed: Backed, drill_mariadb: str,
                                                          engine: str) -> None:
    target = backed.postgres if engine == "postgresql" else drill_mariadb
    left: list[str] = []
    for _attempt in range(10):
        before = {d["drill_id"] for d in history(backed)}
        tables = ["--tables", postgres_tables(backed)] if engine == "postgresql" else []
        process = subprocess.Popen(
            [sys.executable, "-m", "replayer", "drill", "--config",
             str(backed.setup.config_path), "--target", target, *tables],
            env=capture_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            # In MariaDB, once a restored database exists (the marker listing it came first).
            if [name for name in scratch_left(target) if name != "cdc_drill"]:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        process.wait(timeout=60)
        left = scratch_left(target)
        if process.returncode == -signal.SIGKILL and left:
            break
    assert left, "no drill was caught between creating and dropping its scratch"
    killed = [d for d in history(backed) if d["drill_id"] not in before]
    assert [d["verdict"] for d in killed] == ["running"]
    killed_id = killed[0]["drill_id"]

    status, result = drill(backed, target=target)
    assert status == 0, result
    assert result["verdict"] == "identical"
    if engine == "postgresql":
        assert result["cleaned_up"] == [f"cdc_drill_{killed_id}"]
    else:
        assert backed.setup.database in result["cleaned_up"]
        assert set(result["cleaned_up"]) <= {backed.setup.database, "cdc_replayer"}
    assert scratch_left(target) == []
    after = {d["drill_id"]: d for d in history(backed)}
    assert after[killed_id]["verdict"] == "interrupted"
    assert result["drill_id"] in after[killed_id]["detail"]


def test_a_flipped_byte_in_the_snapshot_fails_the_drill(backed: Backed) -> None:
    manifest = newest_manifest(backed.store)
    entry = next(t for t in manifest.tables if t.table == "payments")
    data = backed.store / manifest.snapshot_id / entry.files[0].name
    original = data.read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    data.write_bytes(bytes(flipped))
    try:
        status, result = drill(backed)
    finally:
        data.write_bytes(original)
    assert status == 1, result
    assert result["verdict"] == "failed"
    assert entry.files[0].name in result["detail"]
    assert scratch_databases(backed.postgres) == []
    assert history(backed)[-1]["verdict"] == "failed"
    finding = drill_finding(backed)
    assert finding["status"] == "CRITICAL", finding
    assert f"last drill {result['drill_id']} failed" in finding["text"]


def test_capture_runs_drills_on_a_schedule(backed: Backed, tmp_path: Path) -> None:
    config = tmp_path / "scheduled.toml"
    config.write_text(backed.setup.config_path.read_text()
                      + f'\n[drills]\ntarget = "{backed.postgres}"\ninterval = "20s"\n'
                        'point = "random"\n'
                        f'tables = {json.dumps(postgres_tables(backed).split(","))}\n')
    before = {d["drill_id"] for d in history(backed)}
    log = (tmp_path / "capture.log").open("wb")
    capture = subprocess.Popen([sys.executable, "-m", "cdc", "capture", "--config", str(config)],
                               env=capture_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        new: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not new:
            time.sleep(2)
            new = [d for d in history(backed)
                   if d["drill_id"] not in before and d["verdict"] != "running"]
        assert new, (tmp_path / "capture.log").read_text()[-3000:]
        assert new[0]["verdict"] == "identical", new[0]
        assert new[0]["point"].startswith("offset:")
    finally:
        capture.send_signal(signal.SIGTERM)
        capture.wait(timeout=120)
        log.close()
    assert capture.returncode == 0, (tmp_path / "capture.log").read_text()[-3000:]
    assert scratch_databases(backed.postgres) == []


def test_plan_from_metrics_uses_the_drills_measured_rates(backed: Backed) -> None:
    status, _result = drill(backed)
    assert status == 0
    passed = [d for d in history(backed) if d["verdict"] == "identical"][-5:]
    # The whole load: its rows, then its keys and indexes.
    rates = sorted(
        next(p["units"] for p in d["phases"] if p["name"] == "load")
        / sum(p["seconds"] for p in d["phases"] if p["name"] in ("load", "indexes"))
        for d in passed)
    result = subprocess.run(
        [sys.executable, "-m", "cdc", "plan", "--config", str(backed.setup.config_path),
         "--from-metrics", "--rto", "1h", "--rpo", "10m", "--json"],
        env=capture_env(), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    planned = json.loads(result.stdout)
    inputs = planned["inputs"]
    assert inputs["load_rate"]["origin"] == "measured"
    middle = len(rates) // 2
    median = rates[middle] if len(rates) % 2 else (rates[middle - 1] + rates[middle]) / 2
    assert inputs["load_rate"]["value"] == pytest.approx(median, rel=0.01)
    assert inputs["replay_rate"]["origin"] == "measured"
    manifest = newest_manifest(backed.store)
    assert inputs["snapshot_rows"] == {**inputs["snapshot_rows"], "origin": "measured",
                                       "value": sum(t.rows for t in manifest.tables)}
    # Measured once the changelog's commits span a minute (the scheduled drills' capture
    # writes heartbeats for longer); before that, said and left at the default, not guessed.
    spans_a_minute = not any("changelog records span only" in w for w in planned["warnings"])
    assert inputs["change_rate"]["origin"] == ("measured" if spans_a_minute else "default")


def test_a_kept_drill_target_is_judged_by_replayer_status_nagios(
        backed: Backed, stack_env: StackEnv) -> None:
    status, result = drill(backed, "--keep")
    assert status == 0, result
    scratch = f"cdc_drill_{result['drill_id']}"
    assert scratch_databases(backed.postgres) == [scratch]
    kept = backed.postgres.rsplit("/", 1)[0] + f"/{scratch}"

    def judged(*thresholds: str) -> tuple[int, str]:
        run = replayer("status", "--target", kept, "--config", str(backed.setup.config_path),
                       "--nagios", *thresholds)
        return run.returncode, run.stdout.strip()

    code, line = judged("--warning", "1s", "--critical", "1h")
    assert code == 0, line
    assert "every changelog transaction applied" in line

    finish(workload(stack_env, backed.setup.database, "--transactions", "20", "--seed", "5"))
    caught_up = run_capture_until_caught_up(backed.setup)
    assert caught_up.returncode == 0, caught_up.stderr
    time.sleep(1.5)
    code, line = judged("--warning", "1s", "--critical", "1h")
    assert code == 1, line
    assert line.startswith("CDC WARNING - lag_")
    assert "transaction(s) to apply" in line
    code, line = judged("--warning", "1s", "--critical", "1s")
    assert code == 2, line

    status, result = drill(backed)
    assert status == 0, result
    assert result["cleaned_up"] == [scratch]
    assert scratch_databases(backed.postgres) == []
