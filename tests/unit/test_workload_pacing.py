"""Pacing, run limits and the mark schedule, on a fake clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from bench.workload.limits import RunLimits, StopReason
from bench.workload.marks import MarkSchedule
from bench.workload.pacing import Pacer


@dataclass
class FakeClock:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run_paced(pacer: Pacer, clock: FakeClock, count: int, work: float) -> list[float]:
    """Start ``count`` transactions of ``work`` seconds each; return their start times."""
    starts = []
    for _ in range(count):
        while (wait := pacer.delay(clock.now)) > 0:
            clock.sleep(wait)
        pacer.started(clock.now)
        starts.append(clock.now)
        clock.now += work
    return starts


def test_transactions_start_on_a_fixed_schedule_at_the_target_rate() -> None:
    clock = FakeClock()
    starts = run_paced(Pacer(10, clock.now), clock, count=50, work=0.03)
    assert starts[0] == pytest.approx(1000.0)
    assert starts[-1] - starts[0] == pytest.approx(4.9)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([0.1] * 49)


def test_the_time_a_transaction_takes_does_not_lower_the_achieved_rate() -> None:
    clock = FakeClock()
    starts = run_paced(Pacer(20, clock.now), clock, count=100, work=0.045)
    achieved = (len(starts) - 1) / (starts[-1] - starts[0])
    assert achieved == pytest.approx(20)


def test_rate_zero_never_waits() -> None:
    clock = FakeClock()
    starts = run_paced(Pacer(0, clock.now), clock, count=1000, work=0.001)
    assert clock.sleeps == []
    assert starts[-1] - starts[0] == pytest.approx(0.999)


def test_after_a_stall_the_catch_up_burst_is_bounded() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock.now, max_catch_up=1.0)
    run_paced(pacer, clock, count=10, work=0.0)
    clock.now += 5.0  # the server stalls for five seconds
    burst = 0
    while pacer.delay(clock.now) == 0:
        pacer.started(clock.now)
        burst += 1
    # Without the bound the pacer would try to make up all ~500 missed slots at once.
    assert 95 <= burst <= 101


def test_a_slow_workload_is_never_told_to_wait() -> None:
    clock = FakeClock()
    starts = run_paced(Pacer(10, clock.now), clock, count=20, work=0.5)
    assert clock.sleeps == []
    assert starts[-1] - starts[0] == pytest.approx(9.5)


def test_pacer_refuses_a_negative_rate() -> None:
    with pytest.raises(ValueError, match="rate"):
        Pacer(-1, 0.0)


def test_limits_stop_on_transactions_or_duration() -> None:
    assert RunLimits(transactions=10).reached(99.0, 9) is None
    assert RunLimits(transactions=10).reached(0.0, 10) is StopReason.TRANSACTIONS
    assert RunLimits(duration=2.0).reached(1.99, 10_000) is None
    assert RunLimits(duration=2.0).reached(2.0, 0) is StopReason.DURATION
    assert RunLimits().reached(1e9, 10**9) is None


def test_limits_refuse_both_a_duration_and_a_count() -> None:
    with pytest.raises(ValueError, match="not both"):
        RunLimits(duration=1.0, transactions=1)


def test_mark_schedule_is_due_every_period_and_skips_missed_ones() -> None:
    schedule = MarkSchedule(every=2.0, start=100.0)
    assert not schedule.due(101.9)
    assert schedule.due(102.0)
    assert schedule.next_label() == "mark-1"
    schedule.done(102.0)
    assert not schedule.due(103.9)
    assert schedule.due(104.0)
    schedule.done(109.5)  # a long transaction ran past two periods
    assert schedule.next_label() == "mark-3"
    assert not schedule.due(109.9)
    assert schedule.due(110.0)


def test_without_a_period_no_mark_is_ever_due() -> None:
    schedule = MarkSchedule(every=None, start=0.0)
    assert not schedule.due(1e12)
