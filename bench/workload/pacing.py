"""Spacing transactions to a target rate: pure arithmetic on times the caller supplies."""

from __future__ import annotations

# How far behind schedule the pacer lets the workload fall before it forgets the missed
# slots: after a stall the rate recovers with a burst of at most this many seconds' worth of
# transactions, instead of hammering the server to make up the whole stall.
MAX_CATCH_UP_SECONDS = 1.0


class Pacer:
    """Keeps transaction starts on a fixed schedule of ``rate`` per second.

    A schedule (rather than sleeping 1/rate after each transaction) makes the achieved rate
    match the target even though every transaction takes time. ``rate`` 0 means no pacing.
    """

    def __init__(self, rate: float, start: float,
                 max_catch_up: float = MAX_CATCH_UP_SECONDS) -> None:
        if rate < 0:
            raise ValueError(f"rate must be 0 (unlimited) or positive, not {rate}")
        self.rate = rate
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._max_catch_up = max_catch_up
        self._next_start = start

    def delay(self, now: float) -> float:
        """Seconds to wait before the next transaction may start (0 when it may start now)."""
        if self._interval == 0.0:
            return 0.0
        return max(0.0, self._next_start - now)

    def started(self, now: float) -> None:
        """Record that a transaction started at ``now``."""
        if self._interval == 0.0:
            return
        self._next_start = max(self._next_start, now - self._max_catch_up) + self._interval
