"""Following the changelog into a target without end: the migration's loop.

- **sync**: a source transaction is committed in the target as soon as the changelog has
  nothing more to give right away (within ``SYNC_IDLE_S``), and while it is behind at least
  every ``SYNC_COMMIT_S``: the transactions that arrived together are committed together,
  so a backlog is worked off in large commits instead of one round of commits each.
- **async**: transactions are grouped, and what is applied is committed every
  ``commit_interval_s`` and whenever the changelog is caught up.
- **delay**: a transaction is applied only once ``delay_s`` has passed since its source
  commit, so the target stays that far behind (a copy that predates an operator's mistake).

The loop is fed changelog items, None meaning "nothing new for a moment", and asks
``stopping`` at every transaction boundary; clock and sleep are injected, so the policy is
tested without servers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from cdc.changes import ChangeRecord
from replayer.applier import Applier

Mode = Literal["sync", "async"]
ChangelogItem = tuple[int, ChangeRecord] | None

_WAIT_STEP_S = 0.2
SYNC_IDLE_S = 0.02
"""sync: how long the changelog stays silent before what is applied is committed."""
SYNC_COMMIT_S = 0.1
"""sync: the longest a transaction applied while behind waits for its commit."""
ASYNC_IDLE_S = 0.5


@dataclass(frozen=True)
class FollowSettings:
    mode: Mode
    delay_s: float = 0.0
    commit_interval_s: float = 1.0
    """async: the longest time applied transactions wait for their commit."""

    @property
    def transactions_per_commit(self) -> int:
        return 1_000_000  # commits follow time and the changelog's pace, not a count

    @property
    def idle_s(self) -> float:
        """How long the changelog may be silent before the loop is told (and commits)."""
        return SYNC_IDLE_S if self.mode == "sync" else ASYNC_IDLE_S

    @property
    def longest_wait_s(self) -> float:
        """The longest an applied transaction waits for its commit while more keep coming."""
        return SYNC_COMMIT_S if self.mode == "sync" else self.commit_interval_s


def due_at(record: ChangeRecord, delay_s: float) -> float:
    """When (epoch seconds) a transaction may be applied."""
    return record.commit_time_us / 1_000_000 + delay_s


class Follower:
    def __init__(self, applier: Applier, settings: FollowSettings, *,
                 stopping: Callable[[], bool], clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 committed: Callable[[Applier], None] | None = None) -> None:
        self._applier = applier
        self._settings = settings
        self._stopping = stopping
        self._clock = clock
        self._sleep = sleep
        self._committed = committed
        self._last_flush = clock()

    def run(self, items: Iterable[ChangelogItem]) -> None:
        """Apply until ``stopping()`` says so at a transaction boundary; what is applied is
        committed before returning."""
        applier = self._applier
        for item in items:
            if item is None:
                self._flush()
                if self._stopping():
                    return
                continue
            offset, record = item
            starts = record.transaction_index == 0 and not record.operation.is_marker
            if starts and applier.at_transaction_boundary:
                if self._stopping():
                    break
                if self._settings.delay_s > 0 and not self._wait_until_due(record):
                    break
            applier.apply([(offset, record)])
            if applier.at_transaction_boundary and \
                    self._clock() - self._last_flush >= self._settings.longest_wait_s:
                self._flush()
        self._flush()

    def _wait_until_due(self, record: ChangeRecord) -> bool:
        """Commit what is applied, then wait for the transaction's time; False if stopped."""
        due = due_at(record, self._settings.delay_s)
        if self._clock() < due:
            self._flush()
        while (left := due - self._clock()) > 0:
            if self._stopping():
                return False
            self._sleep(min(left, _WAIT_STEP_S))
        return True

    def _flush(self) -> None:
        if not self._applier.at_transaction_boundary:
            return
        pending = self._applier.last_applied
        self._applier.flush()
        self._last_flush = self._clock()
        if self._committed is not None and pending is not None:
            self._committed(self._applier)
