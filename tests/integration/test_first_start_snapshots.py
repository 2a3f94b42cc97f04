"""A snapshot taken before capture ever ran: the first start never opens a gap behind it.

The bad-input report's case: ``cdc snapshot`` on a source whose capture has never run, then
``cdc capture`` with ``start = "current"``. Capture began after the source's position at that
moment, past the snapshot's anchor; the transactions in between were in no backup and a
restore waited for capture "to catch up" forever.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cdc.changes import Operation
from cdc.kafka.reader import read_committed
from cdc.kafka.topics import topic_exists
from cdc.snapshot.manifest import Manifest
from tests.capture_helpers import (
    CaptureSetup,
    capture_env,
    changelog,
    current_gtid_position,
    write_capture_config,
)
from tests.db import unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.restore_targets import mysql_state, postgres_state
from tests.snapshot_helpers import newest_manifest, run_cdc, snapshot_section, take
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


def cdc(setup: CaptureSetup, command: str, *args: str, start: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    """``cdc COMMAND --config ... ARGS`` (COMMAND may be two words)."""
    env = capture_env()
    if start is not None:
        env["CDC_CAPTURE__START"] = start
    return run_cdc(*command.split(), "--config", str(setup.config_path), *args, env=env)


def committed_records(setup: CaptureSetup) -> int:
    if not topic_exists(setup.bootstrap, setup.changelog_topic):
        return 0
    return sum(1 for _ in read_committed(setup.bootstrap, setup.changelog_topic))


def test_the_first_start_begins_at_a_snapshot_it_would_otherwise_leave_behind(
        stack_env: StackEnv, tmp_path: Path,
        postgres_databases: Callable[[], str]) -> None:
    database = unique_name("firstsnap")
    finish(workload(stack_env, database, "--setup-only"))
    store = tmp_path / "store"
    setup = write_capture_config(tmp_path, stack_env, database, "current",
                                 extra_capture=snapshot_section(store, anchor_wait="0s"))
    take(setup.config_path)
    snapshot = newest_manifest(store)
    anchor = snapshot.anchor.gtid_position
    finish(workload(stack_env, database, "--transactions", "150", "--seed", "3"))
    now = current_gtid_position(stack_env)
    assert now != anchor

    before_the_first_start(setup, snapshot, now)

    first = cdc(setup, "capture", "--until-caught-up")
    assert first.returncode == 0, first.stderr
    assert f"would begin after snapshot(s) {snapshot.snapshot_id}" in first.stderr
    records = changelog(setup)
    assert records[0].operation is Operation.START
    assert records[0].position.gtid_position == anchor
    assert sum(r.transaction_last for r in records if not r.operation.is_marker) >= 150

    # After it: check and window name the beginning; the snapshot restores to latest.
    check = cdc(setup, "check", "--json", start=f"gtid:{now}")  # no longer read
    assert check.returncode == 0, check.stdout + check.stderr
    began = json.loads(check.stdout)["start"]
    assert began["applies"] == "changelog"
    assert (began["began"]["gtid_position"], began["began"]["rule"]) == (anchor, "snapshot")
    shown = json.loads(cdc(setup, "window", "--json").stdout)
    assert shown["changelog_start"]["gtid_position"] == anchor
    assert shown["unusable_snapshots"] == []
    assert shown["transactions_behind"] == 0
    verified = cdc(setup, "backups verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["snapshots"][0]["changelog"]["problems"] == []
    target = postgres_databases()
    restored = subprocess.run(
        [sys.executable, "-m", "replayer", "restore", "--config", str(setup.config_path),
         "--to", "latest", "--target", target, "--json",
         # PostgreSQL cannot hold the type-torture table's zero dates.
         "--tables", ",".join(f"{database}.{table}" for table in WORKLOAD_TABLES)],
        env=capture_env(), capture_output=True, text=True, timeout=600, check=False)
    assert restored.returncode == 0, restored.stderr
    assert postgres_state(target, database, WORKLOAD_TABLES) == \
        mysql_state(stack_env["CDC_SOURCE_ADMIN_DSN"], database, WORKLOAD_TABLES)


def before_the_first_start(setup: CaptureSetup, snapshot: Manifest, now: str) -> None:
    """Nothing is backed up yet; check says where capture will begin; an explicit start past
    the snapshot is refused and writes nothing."""
    anchor = snapshot.anchor.gtid_position
    # Before the first start: nothing is backed up, and check says where capture will begin.
    window = cdc(setup, "window", "--json")
    assert window.returncode == 0, window.stderr
    shown = json.loads(window.stdout)
    assert (shown["changelog_start"], shown["latest"]) == (None, None)
    assert shown["earliest"]["snapshot_id"] == snapshot.snapshot_id
    text = cdc(setup, "window")
    assert "begins:   nothing yet: capture has not committed its start record" in text.stdout
    # The bad-input report's first case: verify checks the files and says plainly that the
    # changelog's part waits for capture, instead of blaming the brokers.
    verified = cdc(setup, "backups verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] is True
    assert report["snapshots"][0]["rows_checked"] == snapshot.total_rows
    assert "capture has not started" in report["changelog_unchecked"]
    assert "cdc capture --config" in report["changelog_unchecked"]
    check = cdc(setup, "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    start = json.loads(check.stdout)["start"]
    assert start == {"applies": "capture.start", "would_begin_after": anchor,
                     "rule": "snapshot", "snapshots": [snapshot.snapshot_id]}

    # An explicit start past the snapshot is refused by check and capture alike, and capture
    # writes nothing: not even a start record.
    for command, args in (("check", ()), ("capture", ("--until-caught-up",))):
        refused = cdc(setup, command, *args, start=f"gtid:{now}")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"begins after snapshot(s) {snapshot.snapshot_id} (anchor {anchor})" in \
            refused.stderr
        assert f"set capture.start = 'gtid:{anchor}'" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert committed_records(setup) == 0
