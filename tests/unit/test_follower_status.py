"""The rates migrate reports for replayer status: since the last report, at most every few
seconds, and from zero again after a reconnection."""

from __future__ import annotations

from typing import Any

import pytest

from replayer import follower_status
from replayer.follower_status import FollowerStatus, RateReporter


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[FollowerStatus]:
    rows: list[FollowerStatus] = []

    def write(connection: Any, source: str, status: FollowerStatus) -> None:
        rows.append(status)

    monkeypatch.setattr(follower_status, "write_follower", write)
    return rows


def test_rates_are_reported_every_interval(written: list[FollowerStatus],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("replayer.follower_status.time.monotonic", lambda: clock[0])
    reporter = RateReporter("src", "sync", 0.0, every_s=2.0)
    reporter.committed(None, 0, 0)  # the first commit: rates unknown yet
    clock[0] = 101.0
    reporter.committed(None, 50, 10)  # too soon: nothing written
    clock[0] = 102.0
    reporter.committed(None, 400, 100)
    assert [(s.rows_per_s, s.transactions_per_s) for s in written] == [(0.0, 0.0),
                                                                      (200.0, 50.0)]
    assert written[-1].mode == "sync"
    reporter.committed(None, 3, 1)  # a new applier after a reconnection
    assert written[-1].rows_per_s == 0.0
