"""Where a changelog begins: the rule of capture's first start, and its start record. Pure.

The first start on an empty changelog decides once where the changelog begins, and commits
that decision as the changelog's first record (``Operation.START``) in a Kafka transaction of
its own, before it streams anything. Every later start resumes from the committed tail, which
then always exists: ``capture.start`` is read only while no start record has been committed,
so restarts in the first minutes of a deployment can never move the beginning forward and
leave transactions in no backup.

The rule:

- ``capture.start`` gives the base: ``current`` the source's position when this start began,
  ``earliest`` the oldest position the binlog still holds in full, ``gtid:<position>`` that
  position.
- A snapshot of this source that the binlog can still continue (it holds every transaction
  after the snapshot's anchor) must stay restorable: a changelog that began after its anchor
  would leave a gap no restore could cross. ``current`` then begins at the oldest such anchor
  instead (per replication domain, the lowest). An explicit ``gtid:`` or ``earliest`` start
  past such an anchor is refused, naming the snapshots and the fix: the operator asked for it,
  so capture does not quietly choose otherwise.
- A snapshot the binlog can no longer continue is unusable whatever capture does; a warning
  names it and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cdc.changes import ChangeRecord, Operation, SourcePosition
from cdc.errors import ConfigError
from cdc.position import GtidPosition

Rule = Literal["current", "earliest", "gtid", "snapshot", "unknown"]
_RULES: dict[str, Rule] = {"current": "current", "earliest": "earliest", "gtid": "gtid",
                           "snapshot": "snapshot"}


class StartGapError(ConfigError):
    """A first start would begin after a snapshot that could otherwise be restored."""


@dataclass(frozen=True)
class SnapshotAnchor:
    """A snapshot of this source, as the first start sees it."""

    snapshot_id: str
    anchor: GtidPosition
    unavailable: str | None = None
    """Why the source's binlog can no longer continue it (None: it can)."""


@dataclass(frozen=True)
class StartDecision:
    """Where the changelog begins (after ``position``) and why."""

    position: GtidPosition
    rule: Rule
    configured: str
    """``capture.start`` as it was configured when the decision was made."""
    snapshot_ids: tuple[str, ...] = ()
    """With rule ``snapshot``: the snapshots whose anchors moved the start back."""
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.rule == "snapshot":
            return (f"the anchor of snapshot(s) {', '.join(self.snapshot_ids)} (capture.start "
                    f"= {self.configured!r} would have begun after it)")
        if self.rule == "current":
            return "the source's position at capture's first start (capture.start = 'current')"
        if self.rule == "earliest":
            return "the oldest position the binlog held (capture.start = 'earliest')"
        if self.rule == "gtid":
            return f"capture.start = {self.configured!r}"
        return "a rule this version cannot read"

    def statement(self) -> str:
        """What the start record carries, besides the position."""
        body: dict[str, object] = {"rule": self.rule, "configured": self.configured}
        if self.snapshot_ids:
            body["snapshots"] = list(self.snapshot_ids)
        return json.dumps(body, sort_keys=True)


def decide_first_start(configured: str, base: GtidPosition,
                       snapshots: Sequence[SnapshotAnchor]) -> StartDecision:
    """The start of an empty changelog. ``base`` is the position ``configured`` names
    (``current``, ``earliest`` or ``gtid:...``), as read from the source."""
    rule: Rule = "gtid" if configured.startswith("gtid:") else (
        "earliest" if configured == "earliest" else "current")
    warnings = tuple(
        f"snapshot {s.snapshot_id} (anchor {s.anchor or '(empty)'}) can never be restored: "
        f"{s.unavailable}; take a new snapshot once capture runs, and prune this one"
        for s in snapshots if s.unavailable is not None)
    usable = [s for s in snapshots if s.unavailable is None]
    left_behind = [s for s in usable if not base.at_or_before(s.anchor)]
    if not left_behind:
        return StartDecision(base, rule, configured, warnings=warnings)
    names = ", ".join(f"{s.snapshot_id} (anchor {s.anchor or '(empty)'})" for s in left_behind)
    position = base
    for snapshot in left_behind:
        position = position.meet(snapshot.anchor)
    if rule != "current":
        raise StartGapError(
            f"capture.start = {configured!r} begins after snapshot(s) {names}: the "
            "transactions in between would be in no backup, and those snapshots could never "
            "be restored",
            f"set capture.start = 'gtid:{position}' (or 'current', which begins there by "
            "itself), or delete those snapshots if they are not wanted ('cdc backups prune')")
    moved = (f"capture.start = 'current' ({base or '(empty)'}) would begin after snapshot(s) "
             f"{names}; the changelog begins at {position or '(empty)'} instead, so they stay "
             "restorable")
    return StartDecision(position, "snapshot", configured,
                         tuple(s.snapshot_id for s in left_behind), (*warnings, moved))


def start_record(decision: StartDecision, now_us: int) -> ChangeRecord:
    """The changelog's first record: changes nothing, says where the changelog begins."""
    return ChangeRecord(
        operation=Operation.START, database="", table="", schema_version=0, before=None,
        after=None, statement=decision.statement(),
        position=SourcePosition("", str(decision.position), 0, "", 0),
        commit_time_us=now_us, transaction_index=0, transaction_last=True)


def decision_of(record: ChangeRecord) -> StartDecision:
    """The decision a start record carries (its rule as far as it can be read)."""
    if record.operation is not Operation.START:
        raise ValueError(f"a {record.operation.value} record is not a start record")
    try:
        body = json.loads(record.statement or "{}")
    except json.JSONDecodeError:
        body = {}
    written = body.get("rule") if isinstance(body, dict) else None
    rule = _RULES.get(str(written), "unknown")
    snapshots = body.get("snapshots", []) if isinstance(body, dict) else []
    configured = body.get("configured", "") if isinstance(body, dict) else ""
    return StartDecision(GtidPosition.parse(record.position.gtid_position), rule,
                         str(configured), tuple(str(s) for s in snapshots))
