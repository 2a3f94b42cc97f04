"""Replication lag measured with probes rather than MariaDB's whole-second commit times. Pure.

A probe is one autocommit ``UPDATE probe SET sent_us = <value> WHERE id = 1`` on the source;
the values only grow. A watcher polls the target's row and notes when it first sees each new
value. A probe's lag is the time from just before its UPDATE was sent to the first poll that
found its value, or a later one, in the target: the migration applies in commit order, so a
later value there means this probe was applied too (the watcher may miss a value that was
overwritten between two polls). Times are the monotonic clock of the one process that sends
and watches, so no clocks need to agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

PROBE_TABLE = "migrate_probe"
PROBE_ID = 1


def probe_ddl() -> str:
    return (f"CREATE TABLE {PROBE_TABLE} (id INT NOT NULL PRIMARY KEY, "
            "sent_us BIGINT NOT NULL)")


def next_value(previous: int, now_us: int) -> int:
    """The wall clock in microseconds, or one more than the last value if the clock has not
    moved on (or went back): values are unique and only grow."""
    return max(previous + 1, now_us)


@dataclass(frozen=True)
class Sent:
    value: int
    at: float  # monotonic seconds, just before the UPDATE was sent


@dataclass(frozen=True)
class Seen:
    at: float  # monotonic seconds, when the poll that returned it came back
    value: int


@dataclass(frozen=True)
class ProbeLags:
    lags: tuple[float, ...]  # seconds, in the order the probes were sent
    unseen: int  # probes whose value (or a later one) the target never showed


def probe_lags(sent: Sequence[Sent], seen: Sequence[Seen]) -> ProbeLags:
    """Each probe's lag: the first observation at or after its value, minus its send time.
    ``sent`` in sending order (values growing), ``seen`` in observation order."""
    lags: list[float] = []
    index = 0
    unseen = 0
    for probe in sent:
        while index < len(seen) and (seen[index].value < probe.value
                                     or seen[index].at < probe.at):
            index += 1
        if index == len(seen):
            unseen += 1
            continue
        lags.append(seen[index].at - probe.at)
    return ProbeLags(tuple(lags), unseen)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of the
    values at or below it."""
    if not values:
        raise ValueError("the percentile of no values is undefined")
    if not 0 < fraction <= 1:
        raise ValueError(f"a percentile's fraction is in (0, 1], not {fraction!r}")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class LagStats:
    sent: int
    seen: int
    p50_s: float | None
    p99_s: float | None
    max_s: float | None
    last_s: float | None  # the lag of the last probe seen: near max when the lag grows

    @staticmethod
    def of(found: ProbeLags) -> LagStats:
        lags = found.lags
        sent = len(lags) + found.unseen
        if not lags:
            return LagStats(sent, 0, None, None, None, None)
        return LagStats(sent, len(lags), percentile(lags, 0.5), percentile(lags, 0.99),
                        max(lags), lags[-1])

    def to_dict(self) -> dict[str, object]:
        return {"probes_sent": self.sent, "probes_seen": self.seen,
                "p50_s": _ms(self.p50_s), "p99_s": _ms(self.p99_s), "max_s": _ms(self.max_s),
                "last_s": _ms(self.last_s)}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
