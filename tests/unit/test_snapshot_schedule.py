"""Scheduled snapshots: when the next one is due, and one at a time."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cdc.snapshot.schedule import SnapshotScheduler, next_due

T0 = datetime(2026, 11, 24, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_due_an_interval_after_the_newest_snapshot() -> None:
    assert next_due(None, 6 * HOUR, None, HOUR) < T0
    assert next_due(T0, 6 * HOUR, None, HOUR) == T0 + 6 * HOUR
    assert next_due(T0, 6 * HOUR, T0 + 7 * HOUR, HOUR) == T0 + 8 * HOUR


def test_the_scheduler_takes_one_when_due_and_retries_a_failure_later(
        caplog: pytest.LogCaptureFixture) -> None:
    ticks = [T0]
    newest: list[datetime | None] = [None]
    results = [1, 0]
    runs: list[datetime] = []
    done = threading.Event()

    def now() -> datetime:  # every look at the clock is ten minutes on, until a success
        if not done.is_set():
            ticks[0] += timedelta(minutes=10)
        return ticks[0]

    def run() -> int:
        runs.append(ticks[0])
        status = results.pop(0)
        if status == 0:
            newest[0] = ticks[0]
            done.set()
        return status

    def mark_expected(record: logging.LogRecord) -> bool:
        record.expected = True
        return True

    logging.getLogger("cdc.snapshot.schedule").addFilter(mark_expected)
    scheduler = SnapshotScheduler(Path("unused.toml"), 6 * HOUR, newest=lambda: newest[0],
                                  run=run, now=now, retry=HOUR, poll_s=0.001)
    scheduler.start()
    assert done.wait(10)
    threading.Event().wait(0.2)  # the clock stands still: nothing is due again
    scheduler.stop()
    assert len(runs) == 2
    assert HOUR <= runs[1] - runs[0] <= HOUR + timedelta(minutes=30)
    assert (scheduler.taken, scheduler.failed) == (1, 1)
    assert "failed (exit status 1)" in caplog.text
