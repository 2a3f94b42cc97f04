"""Whether the changelog continues a snapshot: from its anchor on, every transaction whole,
once, in order. Pure: the records are handed in.

What can be proven from the changelog alone: it reaches back to the anchor (a record before
the replay start shows capture was reading at or before the anchor, or the log's first record
is the anchor's direct successor);
GTIDs only grow within a replication domain; a transaction's records are numbered 0, 1, ...
and end with the one marked last; no transaction appears twice. A jump in sequence numbers
between transactions is not a gap by itself: capture records nothing for transactions that
touch only tables it leaves out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cdc.changes import ChangeRecord
from cdc.position import Gtid, GtidPosition, parse_gtid
from cdc.snapshot.anchor_offset import reached_only_up_to

MAX_PROBLEMS = 20


@dataclass
class CoverageReport:
    records: int = 0
    transactions: int = 0
    first_gtid: str | None = None
    last_gtid: str | None = None
    last_commit_time_us: int | None = None
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


def check_coverage(anchor: GtidPosition, before_start: ChangeRecord | None,
                   records: Iterable[tuple[int, ChangeRecord]]) -> CoverageReport:
    """``before_start`` is the last record before the replay start (None at the log's start);
    ``records`` are (offset, record) from the replay start to the end of the changelog."""
    report = CoverageReport()
    last_by_domain: dict[int, int] = {}
    open_gtid: Gtid | None = None
    expected_index = 0
    first = True
    for offset, record in records:
        report.records += 1
        if record.operation.is_marker:
            continue
        gtid = parse_gtid(record.position.gtid)
        if first:
            first = False
            report.first_gtid = str(gtid)
            _check_start(anchor, before_start, gtid, offset, report)
        if gtid != open_gtid:
            if open_gtid is not None:
                report.problem(f"offset {offset}: transaction {open_gtid} ends without its "
                               "last record")
            previous = last_by_domain.get(gtid.domain)
            if previous is not None and gtid.sequence <= previous:
                report.problem(f"offset {offset}: transaction {gtid} comes after "
                               f"{gtid.domain}-*-{previous} (repeated or out of order)")
            if anchor.contains(gtid):
                report.problem(f"offset {offset}: transaction {gtid} is already in the "
                               f"snapshot (anchor {anchor})")
            last_by_domain[gtid.domain] = max(gtid.sequence, previous or 0)
            report.transactions += 1
            open_gtid, expected_index = gtid, 0
        if record.transaction_index != expected_index:
            report.problem(f"offset {offset}: record {record.transaction_index} of transaction "
                           f"{gtid} where record {expected_index} was due")
        expected_index = record.transaction_index + 1
        report.last_gtid = str(gtid)
        report.last_commit_time_us = record.commit_time_us
        if record.transaction_last:
            open_gtid = None
    if open_gtid is not None:
        report.problem(f"transaction {open_gtid} at the end of the changelog has no last "
                       "record")
    return report


def _check_start(anchor: GtidPosition, before_start: ChangeRecord | None, gtid: Gtid,
                 offset: int, report: CoverageReport) -> None:
    if before_start is not None:
        # Capture wrote it while reading at or before the anchor, and has not missed anything
        # since (the changelog is contiguous); unless it is already past the anchor.
        if not reached_only_up_to(before_start, anchor):
            report.problem(f"the record before offset {offset} is already after the anchor "
                           f"{anchor}: the replay start is wrong")
        return
    known = anchor.sequence_in(gtid.domain)
    if gtid.sequence != (known or 0) + 1:
        report.problem(
            f"the changelog begins at transaction {gtid}, and the snapshot's anchor is "
            f"{anchor or '(empty)'}: the transactions between them are not in the changelog "
            "(capture started after the snapshot); take a new snapshot")
