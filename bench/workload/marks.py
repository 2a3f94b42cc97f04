"""Marks: named points in a run (time, source GTID position, transactions so far).

A mark is written between transactions, so its GTID position is exactly the state after
``transactions`` workload transactions: restore tests use marks as exact restore points.
This module is the pure part: the value, its JSON-lines form and the periodic schedule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Mark:
    label: str
    time: datetime
    gtid: str
    transactions: int

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("a mark's time must be timezone-aware")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and an explicit ``+00:00`` offset."""
    if moment.tzinfo is None:
        raise ValueError("refusing to format a naive datetime as an instant")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def format_mark(mark: Mark) -> str:
    """One JSON line (without the newline), keys in a fixed order."""
    return json.dumps({
        "label": mark.label,
        "time": format_time(mark.time),
        "gtid": mark.gtid,
        "transactions": mark.transactions,
    }, ensure_ascii=False)


def parse_mark(line: str) -> Mark:
    document = json.loads(line)
    moment = datetime.fromisoformat(document["time"])
    return Mark(
        label=str(document["label"]),
        time=moment,
        gtid=str(document["gtid"]),
        transactions=int(document["transactions"]),
    )


class MarkSchedule:
    """Says when a periodic mark is due; ``every`` None means never."""

    def __init__(self, every: float | None, start: float) -> None:
        if every is not None and every <= 0:
            raise ValueError(f"the mark interval must be positive, not {every}")
        self._every = every
        self._next_due = start + every if every is not None else None
        self.written = 0

    def due(self, now: float) -> bool:
        return self._next_due is not None and now >= self._next_due

    def next_label(self) -> str:
        return f"mark-{self.written + 1}"

    def done(self, now: float) -> None:
        """Record that the due mark was written at ``now``; the next one is due a period on.

        Periods missed during a long transaction are skipped rather than written in a burst,
        since a burst of marks at one position tells nobody anything.
        """
        if self._every is None or self._next_due is None:
            return
        self.written += 1
        while self._next_due <= now:
            self._next_due += self._every
