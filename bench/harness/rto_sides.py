"""One run of each way of restoring the drill's data, each timed per phase and checked:

- ``replayer drill`` (restore to ``latest`` into a scratch target, then the proof against the
  snapshot plus the changelog), into PostgreSQL or MariaDB; its phases are those it records,
  and what its process took besides them is its start-up and planning. ``--keep`` leaves the
  scratch to be dropped afterwards, untimed; the MariaDB copy is also checked against the
  source (row count and CHECKSUM TABLE);
- the servers' own tools on the same data: ``mariadb < dump.sql``, then ``mariadb-binlog |
  mariadb`` of the changes, then CHECKSUM TABLE against the source as the proof.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.harness.binlog_apply import BinlogApply, apply_range
from bench.harness.mariadb_dump import load_dump
from bench.harness.mariadb_target import differences, empty_server, table_checks
from bench.harness.postgres_target import drop_database
from bench.harness.restore_rounds import dsn_text
from bench.harness.rto_data import DrillData, Servers
from bench.harness.rto_result import DrillRun, PhaseTime
from bench.harness.timing import time_call
from cdc.dsn import Dsn, Engine
from cdc.errors import CdcError

STARTUP = "start-up and planning"
TIMEOUT_S = 4 * 3600


class DrillRunError(CdcError):
    """A side could not run."""


def anchor_run(data: DrillData, servers: Servers, target: Dsn) -> DrillRun:
    kept = data.kept
    snapshot = kept.snapshot
    empty_server(target)
    try:
        _, load_s = time_call(lambda: load_dump(target, data.dump))
        _, replay_s = time_call(lambda: apply_range(BinlogApply(
            servers.capture, snapshot.binlog_file, snapshot.anchor_gtid_position,
            kept.stop_position, kept.database, target)))
        found, verify_s = time_call(lambda: table_checks(target, kept.database))
    finally:
        empty_server(target)
    rows = sum(check.rows for check in found.values())
    changed = differences(kept.checks, found)
    return DrillRun((PhaseTime("load", load_s, kept.rows),
                     PhaseTime("replay", replay_s, kept.row_changes),
                     PhaseTime("verify", verify_s, rows)),
                    "different" if changed else "identical", "; ".join(changed[:3]))


def replayer_run(data: DrillData, target: Dsn, *, workers: int,
                 python: str = sys.executable) -> DrillRun:
    """``replayer drill`` into ``target`` (a PostgreSQL server for a scratch database, or an
    empty MariaDB kept for the drill)."""
    command = [python, "-m", "replayer", "drill", "--config", str(data.config), "--target",
               dsn_text(target), "--to", "latest", "--workers", str(workers), "--keep",
               "--json"]
    started = time.monotonic()
    try:
        done = subprocess.run(command, env=data.env, capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise DrillRunError(f"replayer drill did not finish within {TIMEOUT_S} s",
                            "run it by hand to see where it stands") from None
    wall_s = time.monotonic() - started
    record = _record(done.stdout)
    if record is None:
        tail = " / ".join(done.stderr.strip().splitlines()[-3:]) or "(no message)"
        raise DrillRunError(f"replayer drill exited with status {done.returncode}: {tail}",
                            f"run by hand: {' '.join(command[1:])}")
    try:
        run = drill_run(record, wall_s)
        if target.engine is Engine.MYSQL and run.verdict == "identical":
            changed = differences(data.kept.checks, table_checks(target, data.kept.database))
            if changed:
                return DrillRun(run.phases, "different", "against the source: "
                                + "; ".join(changed[:3]))
        return run
    finally:
        _drop_scratch(target, record)


def drill_run(record: dict[str, object], wall_s: float) -> DrillRun:
    """A drill's JSON record as a run: its phases, and the rest of its process's time as its
    start-up and planning."""
    raw = record.get("phases")
    phases = tuple(PhaseTime(str(p["name"]), float(p["seconds"]), int(p["units"]))
                   for p in (raw if isinstance(raw, list) else []))
    rest = max(0.0, wall_s - sum(p.seconds for p in phases))
    return DrillRun((PhaseTime(STARTUP, round(rest, 3)), *phases), str(record.get("verdict")),
                    str(record.get("detail") or ""))


def _record(stdout: str) -> dict[str, object] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and "verdict" in found:
            return found
    return None


def _drop_scratch(target: Dsn, record: dict[str, object]) -> None:
    if target.engine is Engine.POSTGRESQL:
        scratch = str(record.get("scratch") or "")
        if scratch:
            drop_database(target, scratch)
    else:
        empty_server(target)
