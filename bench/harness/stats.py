"""Medians, rates and ratios: the arithmetic of a benchmark table. Pure."""

from __future__ import annotations

from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    """The middle value; the mean of the two middle ones for an even count."""
    if not values:
        raise ValueError("the median of no values is undefined")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def rate(count: int, seconds: float) -> float:
    """Items per second."""
    if seconds <= 0:
        raise ValueError(f"a rate needs a positive duration, not {seconds!r} s")
    return count / seconds


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is zero (nothing to compare)."""
    if denominator == 0:
        return None
    return numerator / denominator
