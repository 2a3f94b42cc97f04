"""The arithmetic of benchmark tables: medians, rates, ratios and timing one call."""

from __future__ import annotations

import pytest

from bench.harness.stats import median, rate, ratio
from bench.harness.timing import time_call


def test_median_of_an_odd_count_is_the_middle_value() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([5.0]) == 5.0


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_median_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_rate_is_items_per_second() -> None:
    assert rate(100_000, 8.0) == 12_500.0


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_rate_needs_a_positive_duration(seconds: float) -> None:
    with pytest.raises(ValueError, match="positive duration"):
        rate(10, seconds)


def test_ratio_and_a_zero_denominator() -> None:
    assert ratio(5_000.0, 12_500.0) == 0.4
    assert ratio(1.0, 0.0) is None


def test_time_call_returns_the_result_and_the_clock_difference() -> None:
    ticks = iter([10.0, 12.5])
    result, seconds = time_call(lambda: "done", clock=lambda: next(ticks))
    assert result == "done"
    assert seconds == 2.5
