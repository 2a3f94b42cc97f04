"""Timing one call with a monotonic clock (injectable, so tests need no real time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
Clock = Callable[[], float]


def time_call(work: Callable[[], T], clock: Clock = time.perf_counter) -> tuple[T, float]:
    """Run ``work`` and return its result and the seconds it took (by ``clock``)."""
    started = clock()
    result = work()
    return result, clock() - started
