"""``python -m bench.workload ... --json`` as a subprocess of its own, so that it has a CPU
and an interpreter lock to itself while the benchmark probes and watches; and the summary it
prints (parsing is pure).

The source DSN goes in the environment (``CDC_SOURCE_ADMIN_DSN``), never on the command line.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cdc.errors import CdcError

DSN_VARIABLE = "CDC_SOURCE_ADMIN_DSN"


class WorkloadProcessError(CdcError):
    """The workload did not start, failed, or printed no summary."""


@dataclass(frozen=True)
class WorkloadRun:
    target_rate: float  # 0: as fast as possible
    transactions: int
    elapsed_s: float
    row_changes: int
    row_changes_by_table: Mapping[str, int] = field(default_factory=dict)
    last_gtid: str | None = None
    connections: int = 1

    @property
    def achieved_rate(self) -> float:
        return self.transactions / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def row_changes_per_s(self) -> float:
        return self.row_changes / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def row_changes_in(self, tables: frozenset[str] | None) -> int:
        """The row changes of these tables (all of them for None)."""
        if tables is None:
            return self.row_changes
        return sum(count for table, count in self.row_changes_by_table.items()
                   if table in tables)

    def to_dict(self) -> dict[str, object]:
        return {"target_rate": self.target_rate, "transactions": self.transactions,
                "elapsed_s": round(self.elapsed_s, 3),
                "achieved_rate": round(self.achieved_rate, 1),
                "row_changes": self.row_changes,
                "row_changes_per_s": round(self.row_changes_per_s, 1),
                "row_changes_by_table": dict(self.row_changes_by_table),
                "last_gtid": self.last_gtid, "connections": self.connections}


def workload_command(database: str, *, rate: float, seed: int, duration_s: float | None = None,
                     transactions: int | None = None, marks_file: Path | None = None,
                     connections: int = 1, python: str = sys.executable) -> list[str]:
    """The command line of a workload run; ``rate`` is the total over ``connections``."""
    if (duration_s is None) == (transactions is None):
        raise ValueError("give a duration or a number of transactions, one of them")
    if connections < 1:
        raise ValueError(f"the workload needs at least one connection, not {connections}")
    command = [python, "-m", "bench.workload", "--database", database, "--rate", f"{rate:g}",
               "--seed", str(seed), "--json"]
    if connections > 1:
        command += ["--connections", str(connections)]
    if duration_s is not None:
        command += ["--duration", f"{duration_s:g}"]
    else:
        command += ["--transactions", str(transactions)]
    if marks_file is not None:
        command += ["--marks-file", str(marks_file)]
    return command


def parse_summary(stdout: str) -> WorkloadRun:
    """The ``run`` part of the JSON object the workload prints last."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        run = found.get("run") if isinstance(found, dict) else None
        if isinstance(run, dict):
            by_table = {str(table): sum(int(n) for n in kinds.values())
                        for table, kinds in dict(run.get("row_changes_by_table") or {}).items()}
            last = run.get("last_gtid")
            return WorkloadRun(float(run["target_rate"]), int(run["transactions"]),
                               float(run["elapsed_seconds"]),
                               int(dict(run["row_changes"])["total"]), by_table,
                               None if last is None else str(last),
                               int(run.get("connections", 1)))
    raise WorkloadProcessError(f"the workload printed no JSON summary: {stdout.strip()[-300:]!r}",
                               "run python -m bench.workload by hand with the same options")


class WorkloadProcess:
    """One workload run in the background; ``finish`` waits for it and returns its summary.
    Leaving the context stops it (SIGTERM: it ends its transaction and exits cleanly)."""

    def __init__(self, command: list[str], dsn_text: str, log_path: Path,
                 environment: Mapping[str, str]) -> None:
        self.command = command
        self.environment = {**environment, DSN_VARIABLE: dsn_text}
        self.log_path = log_path
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> WorkloadProcess:
        with self.log_path.open("a") as log:
            self._process = subprocess.Popen(self.command, env=self.environment,
                                             stdout=subprocess.PIPE, stderr=log, text=True)
        return self

    def __exit__(self, *_: object) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=30)
        self._process = None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait_for_mark(self, marks_file: Path, label: str, timeout_s: float = 120) -> None:
        """Until the workload has written the mark ``label`` (``start``: just before its
        first transaction)."""
        deadline = time.monotonic() + timeout_s
        while not _has_mark(marks_file, label):
            if not self.running():
                self.finish(timeout_s=10)  # raises with what it said
                raise WorkloadProcessError("the workload exited before its first transaction",
                                           f"see {self.log_path}")
            if time.monotonic() >= deadline:
                raise WorkloadProcessError(f"the workload wrote no {label!r} mark within "
                                           f"{timeout_s:.0f} s", f"see {self.log_path}")
            time.sleep(0.02)

    def finish(self, timeout_s: float) -> WorkloadRun:
        process = self._process
        if process is None:
            raise WorkloadProcessError("the workload is not running", "start it first")
        try:
            stdout, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise WorkloadProcessError(f"the workload did not finish within {timeout_s:.0f} s",
                                       f"see {self.log_path}") from None
        self._process = None
        if process.returncode != 0:
            tail = " / ".join(self.log_path.read_text(errors="replace").strip()
                              .splitlines()[-3:])
            raise WorkloadProcessError(f"the workload exited with status {process.returncode}:"
                                       f" {tail}", f"see {self.log_path}")
        return parse_summary(stdout)


def _has_mark(marks_file: Path, label: str) -> bool:
    try:
        text = marks_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    for line in text.splitlines():
        try:
            found = json.loads(line)
        except ValueError:
            continue  # a line being written
        if isinstance(found, dict) and found.get("label") == label:
            return True
    return False
