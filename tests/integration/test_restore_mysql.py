"""replayer restore into an empty MariaDB of its own: a point between two workload runs, the
state recorded there, then forward to the latest point with --resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from tests.compare import source_rows
from tests.db import mysql_connect, unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.snapshot_helpers import run_cdc, snapshot_section, take
from tests.stack import StackEnv
from tests.throwaway_mariadb import throwaway_mariadb

pytestmark = pytest.mark.integration
TABLES = (*WORKLOAD_TABLES, "type_torture")


@pytest.fixture(scope="module")
def empty_target() -> Iterator[str]:
    with throwaway_mariadb("restore-target", 3101) as server:
        yield server.admin_dsn


@pytest.fixture(scope="module")
def second_target() -> Iterator[str]:
    with throwaway_mariadb("restore-target", 3102) as server:
        yield server.admin_dsn


def replayer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replayer", *args], env=capture_env(),
                          capture_output=True, text=True, timeout=600, check=False)


def state(dsn: str, database: str) -> dict[str, Any]:
    with mysql_connect(dsn) as conn:
        return {table: source_rows(conn, database, table) for table in TABLES}


@dataclass(frozen=True)
class Scenario:
    config: str
    database: str
    store: Path
    start: str
    point: str
    at_point: dict[str, Any]


@pytest.fixture(scope="module")
def scenario(stack_env: StackEnv, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """A workload run, a snapshot, a second run (the point is after it), a third run."""
    tmp_path = tmp_path_factory.mktemp("restore")
    database = unique_name("restore")
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    store = tmp_path / "store"
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}",
                                 extra_capture=snapshot_section(store))
    log = tmp_path / "capture.log"
    capture = start_capture(setup, log)
    try:
        wait_until_streaming(log)
        finish(workload(stack_env, database, "--transactions", "100", "--seed", "1"))
        take(setup.config_path)
        finish(workload(stack_env, database, "--transactions", "150", "--seed", "2"))
        point = current_gtid_position(stack_env)
        marked = run_cdc("mark", "--config", str(setup.config_path), "before-third-run",
                         "--json")
        assert marked.returncode == 0, marked.stderr
        assert json.loads(marked.stdout)["gtid_position"] == point
        at_point = state(stack_env["CDC_SOURCE_ADMIN_DSN"], database)
        finish(workload(stack_env, database, "--transactions", "100", "--seed", "3"))
        end = current_gtid_position(stack_env)
        wait_for_changelog_to_reach(setup, end)
    finally:
        kill(capture, signal.SIGTERM)
    return Scenario(str(setup.config_path), database, store, start, point, at_point)


@pytest.mark.parametrize(("point", "message"), [
    ("time:2026-01-01T00:00:00", "offset"),
    ("time:2999-01-01T00:00:00Z", "window"),
    ("name:no-such-mark", "no-such-mark"),
])
def test_points_that_cannot_be_restored_are_refused_before_touching_the_target(
        scenario: Scenario, empty_target: str, point: str, message: str) -> None:
    result = replayer("restore", "--config", scenario.config, "--to", point, "--target",
                      empty_target)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_point_before_the_oldest_snapshot_names_the_window(
        scenario: Scenario, empty_target: str) -> None:
    # Offset 0 is the workload's CREATE DATABASE, long before the snapshot.
    result = replayer("restore", "--config", scenario.config, "--to", "offset:0",
                      "--target", empty_target)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "restorable" in result.stderr.lower() or "window" in result.stderr.lower()


def test_an_unreachable_target_is_a_clear_error(scenario: Scenario) -> None:
    result = replayer("restore", "--config", scenario.config, "--to", "latest", "--target",
                      "mysql://nobody:wrong@127.0.0.1:1/")
    assert result.returncode == 2
    assert "cannot connect to the target" in result.stderr
    assert "Traceback" not in result.stderr


def test_restore_to_a_gtid_then_forward_to_latest(stack_env: StackEnv, scenario: Scenario,
                                                   empty_target: str) -> None:
    config, database, point, at_point = (scenario.config, scenario.database, scenario.point,
                                         scenario.at_point)
    dry = replayer("restore", "--config", config, "--to", f"gtid:{point}", "--target",
                   empty_target, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["dry_run"] is True
    assert plan["transactions"] > 100  # the second run is replayed on top of the snapshot
    assert plan["target_gtid"] == point

    # A damaged snapshot file stops the restore, named; once the file is whole again,
    # --resume finishes the restore from where it stopped.
    [snapshot_dir] = [p for p in scenario.store.iterdir() if p.is_dir()]
    victim = max(snapshot_dir.glob("*.avro"), key=lambda p: p.stat().st_size)
    original = victim.read_bytes()
    victim.write_bytes(original[:-40] + bytes(b ^ 0x5A for b in original[-40:]))
    broken = replayer("restore", "--config", config, "--to", f"gtid:{point}", "--target",
                      empty_target)
    assert broken.returncode != 0
    assert victim.name in broken.stderr
    assert "Traceback" not in broken.stderr
    victim.write_bytes(original)

    done = replayer("restore", "--config", config, "--to", f"gtid:{point}", "--target",
                    empty_target, "--resume", "--json")
    assert done.returncode == 0, done.stderr
    assert state(empty_target, database) == at_point
    took = json.loads(done.stdout)["seconds"]
    assert took["load"] > 0  # the resumed load
    assert took["indexes"] > 0  # then its keys
    assert took["replay"] > 0  # the second run's transactions on top of the snapshot

    again = replayer("restore", "--config", config, "--to", "latest", "--target", empty_target)
    assert again.returncode == 2
    assert "holds databases already" in again.stderr

    forward = replayer("restore", "--config", config, "--to", "latest", "--target",
                       empty_target, "--resume", "--json")
    assert forward.returncode == 0, forward.stderr
    assert json.loads(forward.stdout)["seconds"]["indexes"] == 0  # nothing loaded this time
    assert state(empty_target, database) == state(stack_env["CDC_SOURCE_ADMIN_DSN"], database)
    verified = replayer("verify", "--source", stack_env["CDC_SOURCE_ADMIN_DSN"], "--target",
                        empty_target, "--tables", database, "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["identical"] is True


def test_sigkill_during_the_restore_then_resume_gives_the_same_result(
        stack_env: StackEnv, scenario: Scenario, second_target: str) -> None:
    command = [sys.executable, "-m", "replayer", "restore", "--config", scenario.config,
               "--to", f"gtid:{scenario.point}", "--target", second_target]
    killed = 0
    for delay in (0.6, 0.9, 1.2, 1.5, 1.8, 2.2, 2.6, 3.0, 3.5, 4.0, 5.0):
        process = subprocess.Popen([*command, *(["--resume"] if killed else [])],
                                   env=capture_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            killed += 1
            continue
        assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
        break
    assert killed >= 1, "the restore finished before any kill: nothing was tested"
    last = replayer(*command[3:], "--resume")
    assert last.returncode == 0, last.stderr
    assert state(second_target, scenario.database) == scenario.at_point


def test_a_named_mark_is_a_restore_point(scenario: Scenario, empty_target: str) -> None:
    dry = replayer("restore", "--config", scenario.config, "--to", "name:before-third-run",
                   "--target", empty_target, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["target_gtid"] == scenario.point
    twice = run_cdc("mark", "--config", scenario.config, "before-third-run")
    assert twice.returncode == 2
    assert "exists already" in twice.stderr
