"""Durations for people: ``7m12s``, and interval labels ``snapshots.interval`` accepts. Pure."""

from __future__ import annotations

import math

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(seconds: float) -> str:
    """``0.35s``, ``7.1s``, ``7m12s``, ``1h5m``, ``2d3h``: two units at most, rounded to the
    smaller one; ``unbounded`` for infinity."""
    if math.isinf(seconds):
        return "unbounded"
    if seconds < 10:
        return f"{seconds:.2g}s" if seconds < 1 else f"{seconds:.1f}s".replace(".0s", "s")
    total = round(seconds)
    for index, (name, size) in enumerate(_UNITS):
        if total >= size:
            if index == len(_UNITS) - 1:
                return f"{total}s"
            smaller_name, smaller = _UNITS[index + 1]
            rounded = round(total / smaller) * smaller
            if index > 0 and rounded >= _UNITS[index - 1][1]:
                return format_duration(rounded)  # 23h59m40s is 1d, not 24h
            big, rest = divmod(rounded, size)
            return f"{big}{name}{rest // smaller}{smaller_name}" if rest else f"{big}{name}"
    return f"{total}s"


def interval_label(seconds: int) -> str:
    """The interval as ``snapshots.interval`` writes it: a whole number of the largest unit
    that divides it (``21600`` is ``6h``, ``5400`` is ``90m``)."""
    if seconds <= 0:
        raise ValueError("an interval is positive")
    for name, size in _UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{name}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")
