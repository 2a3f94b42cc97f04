"""The value the restore benchmark produces: for each comparison, the seconds of every run of
ours and of the anchor on the same data, measured round by round side by side, and the
ratios derived from them. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.harness.machine import MachineFacts
from bench.harness.stats import median, rate, ratio

MARIADB_LOAD = "mariadb_load"
POSTGRES_LOAD = "postgres_load"
REPLAY = "replay"


@dataclass(frozen=True)
class Side:
    """One tool's runs; ``problem`` says why there are none (or fewer than the rounds)."""

    label: str
    seconds: tuple[float, ...] = ()
    problem: str | None = None
    failed: bool = False  # the problem is a failure, not a missing feature

    @property
    def median_seconds(self) -> float | None:
        return median(self.seconds) if self.seconds else None

    def rate(self, count: int) -> float | None:
        middle = self.median_seconds
        return rate(count, middle) if middle else None

    def rate_range(self, count: int) -> tuple[float, float] | None:
        if not self.seconds:
            return None
        return rate(count, max(self.seconds)), rate(count, min(self.seconds))


@dataclass(frozen=True)
class Comparison:
    key: str
    title: str
    unit: str  # "rows" or "row changes"
    count: int
    ours: Side
    anchor: Side
    target: float  # the least ours/anchor ratio of rates the issue asks for
    rounds: tuple[tuple[float | None, float | None], ...] = ()
    """(ours, anchor) seconds of each round, None where a side did not run."""

    @property
    def ratio(self) -> float | None:
        """Ours over the anchor, rates at the medians (above 1: faster than the anchor);
        None when a side has no runs or failed (its other runs are not to be trusted)."""
        if self.ours.failed or self.anchor.failed:
            return None
        ours, anchor = self.ours.rate(self.count), self.anchor.rate(self.count)
        return None if ours is None or anchor is None else ratio(ours, anchor)

    @property
    def round_ratios(self) -> tuple[float, ...]:
        """Ours over the anchor in each round where both ran (anchor seconds / ours)."""
        return tuple(anchor / ours for ours, anchor in self.rounds
                     if ours and anchor is not None)

    @property
    def met(self) -> bool | None:
        found = self.ratio
        return None if found is None else found >= self.target

    def to_dict(self) -> dict[str, object]:
        def side(found: Side) -> dict[str, object]:
            spread = found.rate_range(self.count)
            return {
                "label": found.label,
                "runs": len(found.seconds),
                "seconds": [round(s, 3) for s in found.seconds],
                "median_seconds": _rounded(found.median_seconds, 3),
                "per_second": _rounded(found.rate(self.count)),
                "slowest_per_second": _rounded(spread[0]) if spread else None,
                "fastest_per_second": _rounded(spread[1]) if spread else None,
                "problem": found.problem,
            }

        return {
            "title": self.title,
            "unit": self.unit,
            "count": self.count,
            "ours": side(self.ours),
            "anchor": side(self.anchor),
            "ratio": _rounded(self.ratio, 3),
            "round_ratios": [round(r, 3) for r in self.round_ratios],
            "target": self.target,
            "met": self.met,
        }


@dataclass(frozen=True)
class DataFacts:
    """What was loaded and replayed."""

    database: str
    rows: int
    dump_bytes: int
    snapshot_bytes: int
    copy_bytes: int
    workload_database: str
    workload_transactions: int
    row_changes: int
    row_changes_by_kind: dict[str, int]
    replay_start: str  # the replay snapshot's anchor
    replay_end: str  # the workload's last GTID
    replay_snapshot_rows: int
    target: str  # where the MariaDB restores went


@dataclass(frozen=True)
class RestoreBenchResult:
    command: str
    date: str
    machine: MachineFacts
    postgres: str
    data: DataFacts
    comparisons: tuple[Comparison, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> bool:
        return any(side.failed for c in self.comparisons for side in (c.ours, c.anchor))

    def to_dict(self) -> dict[str, object]:
        return {
            "benchmark": "restore_throughput",
            "command": self.command,
            "date": self.date,
            "machine": {**self.machine.to_dict(), "postgresql": self.postgres},
            "data": vars(self.data),
            "comparisons": {c.key: c.to_dict() for c in self.comparisons},
            "notes": list(self.notes),
        }


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
