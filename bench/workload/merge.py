"""One summary for a run over several connections, from its workers' summaries (pure).

Counts add up; the elapsed time is the longest worker's, since they all start together; the
first GTID is the earliest of the workers' first ones. The last GTID cannot come from the
workers (they finish in any order): the caller reads the server's position once they all
have, and ``last_gtid_of`` takes from it the domain the workers committed in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bench.workload.limits import StopReason
from bench.workload.summary import RunSummary, TableChanges

_MARIADB_GTID = re.compile(r"^(\d+)-(\d+)-(\d+)$")


@dataclass(frozen=True)
class MergeContext:
    """What only the parent knows: the run as asked, and what it read and wrote itself."""

    database: str
    seed: int
    target_rate: float
    last_gtid: str | None
    marks_written: int
    marks_file: str | None
    interrupted: bool  # the parent was asked to stop


def merge_summaries(parts: Sequence[RunSummary], context: MergeContext) -> RunSummary:
    if not parts:
        raise ValueError("a run has at least one worker to merge")
    by_kind: dict[str, int] = {}
    by_table: dict[str, TableChanges] = {}
    for part in parts:
        for kind, count in part.transactions_by_kind.items():
            by_kind[kind] = by_kind.get(kind, 0) + count
        for table, changes in part.row_changes_by_table.items():
            by_table[table] = by_table.get(table, TableChanges()) + changes
    return RunSummary(
        database=context.database,
        seed=context.seed,
        target_rate=context.target_rate,
        transactions=sum(part.transactions for part in parts),
        transactions_by_kind=by_kind,
        row_changes_by_table=dict(sorted(by_table.items())),
        elapsed_seconds=max(part.elapsed_seconds for part in parts),
        first_gtid=earliest_gtid([part.first_gtid for part in parts]),
        last_gtid=context.last_gtid,
        marks_written=context.marks_written,
        marks_file=context.marks_file,
        stopped_by=_stopped_by(parts, context.interrupted),
        connections=len(parts),
    )


def earliest_gtid(gtids: Sequence[str | None]) -> str | None:
    """The MariaDB GTID with the lowest sequence number; else (MySQL's gtid_executed sets,
    which only grow) the shortest set."""
    present = [gtid for gtid in gtids if gtid]
    if not present:
        return None
    keyed = [(sequence, gtid) for gtid in present
             if (sequence := _sequence(gtid)) is not None]
    if len(keyed) == len(present):
        return min(keyed)[1]
    return min(present, key=len)


def last_gtid_of(position: str, first_gtid: str | None) -> str | None:
    """The last GTID of the run, from the server's position read after every worker ended.

    On MariaDB the position holds one GTID per domain; the one in the domain of the run's
    first GTID has the same form as a one-connection run's last GTID. MySQL's
    ``gtid_executed`` set is taken whole, as a one-connection run does.
    """
    if first_gtid is None:
        return None
    match = _MARIADB_GTID.match(first_gtid.strip())
    if match is None:
        return position or None
    domain = match.group(1)
    for gtid in position.split(","):
        found = _MARIADB_GTID.match(gtid.strip())
        if found is not None and found.group(1) == domain:
            return gtid.strip()
    return position or None  # not expected: the domain's GTID cannot have gone


def _sequence(gtid: str) -> int | None:
    match = _MARIADB_GTID.match(gtid.strip())
    return int(match.group(3)) if match is not None else None


def _stopped_by(parts: Sequence[RunSummary], interrupted: bool) -> StopReason:
    if interrupted or any(part.stopped_by is StopReason.INTERRUPTED for part in parts):
        return StopReason.INTERRUPTED
    return parts[0].stopped_by
