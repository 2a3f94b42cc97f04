"""Snapshots (``snapshots.interval``) and restore drills (``drills.interval``) on a schedule
while capture runs.

Each runs as its own process (``cdc snapshot``, ``replayer drill``), so capture never pauses
for it and its work gets the machine's other core. One at a time; the next is due ``interval``
after the newest complete one (so a restart of capture does not start one early), and a failed
one is tried again after ``retry_s``.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

_log = logging.getLogger(__name__)


def next_due(newest: datetime | None, interval: timedelta, last_failure: datetime | None,
             retry: timedelta) -> datetime:
    """When the next snapshot should start. Pure."""
    due = datetime.min.replace(tzinfo=UTC) if newest is None else newest + interval
    if last_failure is not None:
        due = max(due, last_failure + retry)
    return due


class SnapshotScheduler:
    def __init__(self, config_path: Path, interval: timedelta, *,
                 newest: Callable[[], datetime | None],
                 run: Callable[[], int] | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 retry: timedelta = timedelta(minutes=10), poll_s: float = 30.0,
                 what: str = "snapshot") -> None:
        self._interval = interval
        self._newest = newest
        self._run = run or (lambda: _run_snapshot_process(config_path))
        self._now = now
        self._retry = retry
        self._poll_s = poll_s
        self._what = what
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"{what}-schedule", daemon=True)
        self.taken = 0
        self.failed = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        last_failure: datetime | None = None
        while not self._stop.is_set():
            try:
                newest = self._newest()
            except Exception as exc:
                # Also a store no snapshot has created yet; a store that really is broken
                # fails the snapshot, which then waits before the next try.
                _log.info("no earlier %s found (%s)", self._what, exc)
                newest = None
            if self._now() >= next_due(newest, self._interval, last_failure, self._retry):
                _log.info("taking a scheduled %s", self._what)
                status = self._run()
                if status == 0:
                    self.taken += 1
                    last_failure = None
                else:
                    self.failed += 1
                    last_failure = self._now()
                    _log.error("the scheduled %s failed (exit status %d); next try in %s",
                               self._what, status, self._retry)
            self._stop.wait(self._poll_s)


def _run_snapshot_process(config_path: Path) -> int:
    completed = subprocess.run([sys.executable, "-m", "cdc", "snapshot", "--config",
                                str(config_path)], stdout=subprocess.DEVNULL, check=False)
    return completed.returncode


def run_drill_process(config_path: Path, point: str) -> int:
    completed = subprocess.run([sys.executable, "-m", "replayer", "drill", "--config",
                                str(config_path), "--to", point],
                               stdout=subprocess.DEVNULL, check=False)
    return completed.returncode
