"""The restore plan, as a pure function (Litestream's ``CalcRestorePlan``): which snapshot to
load and which run of the changelog to replay on top of it. No I/O: the caller hands in the
snapshots, a summary of the changelog and the marks; applying the plan is another module's job.

How a point resolves (design §6): to the last source transaction committed at or before it;
a transaction is never split.

- ``latest``: the last transaction in the changelog.
- ``time:T``: the last transaction before the first one committed after T (commit times are
  compared in microseconds; on MariaDB they are whole seconds, so T = 10:41:07 takes every
  transaction of that second). Commit times normally rise in log order; should one go back,
  the point still stops before the first transaction stamped after T, so nothing later than T
  is ever applied. A T after the last captured commit resolves to the last transaction (capture
  may lag: ``cdc window`` shows by how much); a T after ``now`` is refused.
- ``gtid:G``: the transaction G in the changelog; or, when G is not in it (older than the
  changelog, say), the oldest snapshot whose anchor ends exactly at G in G's domain.
- ``offset:N``: the last transaction whose last record is at or before offset N; a
  transaction still open at N is left out.
- ``name:L``: the last transaction the mark's GTID position contains.

The snapshot is the newest one whose anchor holds no transaction after the resolved one (its
state is not ahead of the point); the replay runs from its replay start (``anchor_offset``, or
the first transaction after the anchor when that is unknown) through the resolved
transaction's last record. "Newest" is measured along the changelog, then by ``created_at``.

A snapshot whose changelog offset is unknown and whose anchor holds a transaction the changelog
does not have yet (capture had not reached it) is skipped: it may be ahead of any point the
changelog can name.

Gaps fail loudly (as ``cdc.snapshot.coverage`` judges them): records deleted from the changelog
before the replay start, a replay start that skips or repeats a transaction, a changelog that
begins after the anchor with a transaction that is not the anchor's direct successor, GTID
sequence numbers that repeat or go back within a domain. A jump in sequence numbers is not a
gap by itself: capture records nothing for transactions that touch only tables it leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from cdc.errors import ConfigError
from cdc.position import Gtid, GtidPosition
from replayer.errors import (
    ChangelogGapError,
    GtidNotFoundError,
    NoSnapshotError,
    PointOutsideWindowError,
    UnknownMarkError,
)
from replayer.restore_point import (
    GtidPoint,
    LatestPoint,
    NamedPoint,
    OffsetPoint,
    RestorePoint,
    TimePoint,
)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SnapshotInfo:
    """What planning needs of a snapshot's manifest."""

    snapshot_id: str
    created_at: datetime
    anchor: GtidPosition
    anchor_offset: int | None
    """The changelog offset replay starts from (the first record after the anchor); None when
    capture had not reached the anchor when the snapshot was taken."""
    rows: int

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError(f"snapshot {self.snapshot_id}: created_at must be aware")


@dataclass(frozen=True)
class TransactionInfo:
    """One source transaction in the changelog: its records are offsets first..last."""

    offset_first: int
    offset_last: int
    gtid: Gtid
    commit_time_us: int
    rows: int


@dataclass(frozen=True)
class ChangelogSummary:
    """The changelog's transactions in log order (heartbeats left out) and its bounds: Kafka's
    low and high watermarks, the first offset still held and the offset the next record gets."""

    transactions: tuple[TransactionInfo, ...]
    log_start_offset: int
    log_end_offset: int
    begins_after: GtidPosition | None = None
    """Where the changelog begins, from its start record; None when it has none (written
    before start records existed, or empty)."""


@dataclass(frozen=True)
class RestoreWindow:
    """From the oldest snapshot to the last transaction captured."""

    oldest_snapshot: SnapshotInfo | None
    last_transaction: TransactionInfo | None

    def __str__(self) -> str:
        oldest, last = self.oldest_snapshot, self.last_transaction
        earliest = "no snapshot" if oldest is None else (
            f"{_time_text(oldest.created_at)} (snapshot {oldest.snapshot_id}, GTID position "
            f"{oldest.anchor or '(empty)'})")
        latest = "the changelog holds no transaction" if last is None else (
            f"{_commit_time_text(last.commit_time_us)} (GTID {last.gtid}, changelog offset "
            f"{last.offset_last})")
        return f"restorable window: from {earliest} to {latest}"


@dataclass(frozen=True)
class RestorePlan:
    snapshot_id: str
    snapshot_rows: int
    replay_from_offset: int | None
    """First changelog offset to read; None (with ``replay_to_offset``) when nothing is
    replayed: the snapshot is the point."""
    replay_to_offset: int | None
    """Last offset to apply, inclusive: the resolved transaction's last record."""
    snapshot_through_offset: int
    """The last changelog offset the snapshot holds: the target's applied position once the
    snapshot is loaded, whether or not anything is replayed now (a later ``--resume``
    continues right after it)."""
    transactions: int
    rows_to_replay: int
    target_gtid: str
    """The resolved transaction's GTID; the snapshot's anchor (or the GTID asked for) when the
    point resolves to no transaction in the changelog."""
    target_commit_time_us: int | None
    """None when the point resolves to no transaction in the changelog."""

    def estimated_seconds(self, *, load_rows_per_s: float, replay_rows_per_s: float) -> float:
        """How long loading the snapshot and replaying should take at the given rates."""
        if load_rows_per_s <= 0 or replay_rows_per_s <= 0:
            raise ConfigError(f"rates must be above 0 rows/s, not {load_rows_per_s} and "
                              f"{replay_rows_per_s}", "give measured rates, for example 50000")
        return self.snapshot_rows / load_rows_per_s + self.rows_to_replay / replay_rows_per_s


def restorable_window(snapshots: Sequence[SnapshotInfo],
                      changelog: ChangelogSummary) -> RestoreWindow:
    oldest = min(snapshots, key=lambda s: (s.created_at, s.snapshot_id), default=None)
    last = changelog.transactions[-1] if changelog.transactions else None
    return RestoreWindow(oldest, last)


@dataclass(frozen=True)
class _Target:
    index: int
    """The last transaction to apply (its index in the changelog); -1: none of them."""
    gtid: str | None
    commit_time_us: int | None
    not_before: datetime | None = None
    """For a time point that resolves to no transaction: only a snapshot taken by then."""
    mark: GtidPosition | None = None
    """For a named point: only a snapshot whose anchor is within the mark."""
    exact: SnapshotInfo | None = None
    """For a GTID that is a snapshot's anchor but not in the changelog: that snapshot."""


def calc_restore_plan(point: RestorePoint, snapshots: Sequence[SnapshotInfo],
                      changelog: ChangelogSummary, marks: Mapping[str, GtidPosition], *,
                      now: datetime) -> RestorePlan:
    """The plan restoring to ``point``; a RestorePlanError subclass if there is none."""
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    if not snapshots:
        raise NoSnapshotError("there is no snapshot to restore from",
                              "take one with 'cdc snapshot': the changelog alone cannot "
                              "restore, it is replayed on top of a snapshot")
    _check_order(changelog)
    window = restorable_window(snapshots, changelog)
    target = _resolve(point, snapshots, changelog, marks, now=now, window=window)
    txs = changelog.transactions
    _check_sequences(txs[: target.index + 1])
    snapshot = target.exact or _choose(point, target, snapshots, changelog, window)
    cut = _first_after(snapshot.anchor, txs)
    replay = txs[cut: target.index + 1]
    if replay or (cut == 0 and target.exact is None):
        _check_replay_start(snapshot, cut, replay, changelog)
    return RestorePlan(
        snapshot_id=snapshot.snapshot_id, snapshot_rows=snapshot.rows,
        replay_from_offset=_replay_from(snapshot, replay),
        replay_to_offset=replay[-1].offset_last if replay else None,
        snapshot_through_offset=_held_through(snapshot, cut, txs, changelog),
        transactions=len(replay), rows_to_replay=sum(tx.rows for tx in replay),
        target_gtid=target.gtid or str(snapshot.anchor),
        target_commit_time_us=target.commit_time_us)


# --- resolving the point ---------------------------------------------------------------------

def _resolve(point: RestorePoint, snapshots: Sequence[SnapshotInfo], changelog: ChangelogSummary,
             marks: Mapping[str, GtidPosition], *, now: datetime,
             window: RestoreWindow) -> _Target:
    txs = changelog.transactions
    match point:
        case LatestPoint():
            return _at(txs, len(txs) - 1)
        case TimePoint():
            if point.at > now:
                raise PointOutsideWindowError(
                    f"restore point {point} is in the future (now is {_time_text(now)}); "
                    f"{window}", "give a time up to now, or latest for the newest state")
            later = (i for i, tx in enumerate(txs) if tx.commit_time_us > point.epoch_us)
            index = next(later, len(txs)) - 1
            target = _at(txs, index)
            return target if index >= 0 else _Target(-1, None, None, not_before=point.at)
        case GtidPoint():
            return _resolve_gtid(point, snapshots, txs)
        case OffsetPoint():
            if point.offset >= changelog.log_end_offset:
                raise PointOutsideWindowError(
                    f"restore point {point} is past the end of the changelog (its next offset "
                    f"is {changelog.log_end_offset}); {window}",
                    f"give an offset below {changelog.log_end_offset}, or latest")
            if point.offset < changelog.log_start_offset:
                raise PointOutsideWindowError(
                    f"restore point {point} is before the changelog's first offset "
                    f"{changelog.log_start_offset} (older records were deleted); {window}",
                    "choose a point inside the window")
            ended = [i for i, tx in enumerate(txs) if tx.offset_last <= point.offset]
            return _at(txs, ended[-1] if ended else -1)
        case NamedPoint():
            return _resolve_mark(point, txs, marks)


def _at(txs: Sequence[TransactionInfo], index: int) -> _Target:
    if index < 0:
        return _Target(-1, None, None)
    return _Target(index, str(txs[index].gtid), txs[index].commit_time_us)


def _resolve_gtid(point: GtidPoint, snapshots: Sequence[SnapshotInfo],
                  txs: Sequence[TransactionInfo]) -> _Target:
    wanted = point.gtid
    for index, tx in enumerate(txs):
        if tx.gtid == wanted:
            return _at(txs, index)
    anchored = [s for s in snapshots if wanted in s.anchor.by_domain]
    if anchored:
        exact = min(anchored, key=lambda s: (s.created_at, s.snapshot_id))
        return _Target(_last_within(exact.anchor, txs), str(wanted), None, exact=exact)
    same = [tx for tx in txs if (tx.gtid.domain, tx.gtid.sequence)
            == (wanted.domain, wanted.sequence)]
    in_domain = [tx.gtid for tx in txs if tx.gtid.domain == wanted.domain]
    if same:
        hint = (f"the changelog has {same[0].gtid} at that sequence number (offset "
                f"{same[0].offset_first}): check the server id")
    elif in_domain and wanted.sequence > in_domain[-1].sequence:
        hint = (f"the last transaction captured in domain {wanted.domain} is {in_domain[-1]}: "
                "capture has not reached the GTID yet; wait, or give latest")
    else:
        hint = ("capture records nothing for a transaction that touches only tables it leaves "
                "out; give the GTID of the transaction before it, or a time: or offset: point "
                "('cdc tail' lists the changelog's GTIDs)")
    raise GtidNotFoundError(f"restore point {point}: GTID {wanted} is neither in the changelog "
                            "nor a snapshot's anchor", hint)


def _resolve_mark(point: NamedPoint, txs: Sequence[TransactionInfo],
                  marks: Mapping[str, GtidPosition]) -> _Target:
    mark = marks.get(point.label)
    if mark is None:
        known = ", ".join(sorted(marks)) or "none yet"
        raise UnknownMarkError(f"restore point {point}: there is no mark {point.label!r}",
                               f"known marks: {known}; record one with 'cdc mark LABEL'")
    index = _first_after(mark, txs) - 1
    stray = next((tx for tx in txs[index + 1:] if mark.contains(tx.gtid)), None)
    if stray is not None:
        raise ChangelogGapError(
            f"mark {point.label!r} ({mark}) holds transaction {stray.gtid} at offset "
            f"{stray.offset_first} but not {txs[index + 1].gtid} before it at offset "
            f"{txs[index + 1].offset_first}: the changelog is not in the source's order",
            "restore to a time: or gtid: point instead, and check the changelog with "
            "'cdc backups verify'")
    return _Target(index, None if index < 0 else str(txs[index].gtid),
                   None if index < 0 else txs[index].commit_time_us, mark=mark)


# --- choosing the snapshot -------------------------------------------------------------------

def _choose(point: RestorePoint, target: _Target, snapshots: Sequence[SnapshotInfo],
            changelog: ChangelogSummary, window: RestoreWindow) -> SnapshotInfo:
    txs, begins_after = changelog.transactions, changelog.begins_after
    eligible, unreached, cut_off = [], [], []
    for snapshot in snapshots:
        if _last_within(snapshot.anchor, txs) > target.index:
            continue
        if target.not_before is not None and snapshot.created_at > target.not_before:
            continue
        if target.mark is not None and not _within(snapshot.anchor, target.mark):
            continue
        if begins_after is not None and not begins_after.at_or_before(snapshot.anchor):
            cut_off.append(snapshot.snapshot_id)
            continue
        if _beyond_changelog(snapshot, txs):
            unreached.append(snapshot.snapshot_id)
            continue
        eligible.append(snapshot)
    if not eligible:
        hint = "choose a point inside the window ('cdc window' shows it)"
        if cut_off:
            hint += (f"; snapshot(s) {', '.join(sorted(cut_off))} can never be restored: the "
                     f"changelog begins after GTID position {begins_after}, past their "
                     "anchors, so the transactions between are in no backup (take a new "
                     "snapshot, and prune those)")
        if unreached:
            hint += (f"; capture has not reached the anchor of snapshot(s) "
                     f"{', '.join(sorted(unreached))} yet: wait for it to catch up")
        raise PointOutsideWindowError(
            f"no snapshot is at or before restore point {point}; {window}", hint)
    return max(eligible, key=lambda s: (_last_within(s.anchor, txs), s.created_at,
                                        s.snapshot_id))


def _within(anchor: GtidPosition, mark: GtidPosition) -> bool:
    return all(mark.contains(gtid) for gtid in anchor.by_domain)


def _last_within(position: GtidPosition, txs: Sequence[TransactionInfo]) -> int:
    """The index of the last transaction ``position`` holds; -1 if it holds none."""
    return max((i for i, tx in enumerate(txs) if position.contains(tx.gtid)), default=-1)


def _first_after(position: GtidPosition, txs: Sequence[TransactionInfo]) -> int:
    """The index of the first transaction ``position`` does not hold; len(txs) if none."""
    return next((i for i, tx in enumerate(txs) if not position.contains(tx.gtid)), len(txs))


def _beyond_changelog(snapshot: SnapshotInfo, txs: Sequence[TransactionInfo]) -> bool:
    """Whether the snapshot's offset is unknown and its anchor holds more than the changelog
    in some domain: it may be ahead of everything the changelog can name."""
    if snapshot.anchor_offset is not None:
        return False
    if not txs:
        return True
    if _first_after(snapshot.anchor, txs) < len(txs):
        return False
    last = {tx.gtid.domain: tx.gtid.sequence for tx in txs}
    return any(gtid.domain in last and gtid.sequence > last[gtid.domain]
               for gtid in snapshot.anchor.by_domain)


# --- gaps ------------------------------------------------------------------------------------

_GAP_HINT = ("restore to an earlier point or from another snapshot; 'cdc backups verify' "
             "checks the snapshots against the changelog")


def _check_order(changelog: ChangelogSummary) -> None:
    start, end = changelog.log_start_offset, changelog.log_end_offset
    if not 0 <= start <= end:
        raise ChangelogGapError(f"the changelog's offsets run from {start} to {end}",
                                "the changelog summary is wrong; this is a bug")
    previous_last = start - 1
    for tx in changelog.transactions:
        if not previous_last < tx.offset_first <= tx.offset_last < end:
            raise ChangelogGapError(
                f"transaction {tx.gtid} at offsets {tx.offset_first}..{tx.offset_last} is out "
                f"of order or outside the changelog (offsets {start}..{end - 1}; the one before "
                f"ends at {previous_last})", _GAP_HINT)
        previous_last = tx.offset_last


def _check_sequences(txs: Sequence[TransactionInfo]) -> None:
    last: dict[int, TransactionInfo] = {}
    for tx in txs:
        before = last.get(tx.gtid.domain)
        if before is not None and tx.gtid.sequence <= before.gtid.sequence:
            how = "repeats" if tx.gtid.sequence == before.gtid.sequence else "goes back from"
            raise ChangelogGapError(
                f"GTID {tx.gtid} at offset {tx.offset_first} {how} {before.gtid} at offset "
                f"{before.offset_first}: sequence numbers in domain {tx.gtid.domain} must grow",
                _GAP_HINT)
        last[tx.gtid.domain] = tx


def _check_replay_start(snapshot: SnapshotInfo, cut: int, replay: Sequence[TransactionInfo],
                        changelog: ChangelogSummary) -> None:
    """The changelog continues the snapshot: from its anchor to the point, nothing missing and
    nothing the snapshot already holds."""
    txs, name, start = changelog.transactions, snapshot.snapshot_id, snapshot.anchor_offset
    if start is not None and start < changelog.log_start_offset:
        raise ChangelogGapError(
            f"snapshot {name} replays from changelog offset {start}, but the changelog now "
            f"begins at {changelog.log_start_offset}: offsets {start}.."
            f"{changelog.log_start_offset - 1} are gone", _GAP_HINT)
    if start is not None and replay:
        if cut > 0 and txs[cut - 1].offset_last >= start:
            raise ChangelogGapError(
                f"snapshot {name} replays from offset {start}, which would apply transaction "
                f"{txs[cut - 1].gtid} (offsets {txs[cut - 1].offset_first}.."
                f"{txs[cut - 1].offset_last}) again: its anchor {snapshot.anchor} holds it",
                _GAP_HINT)
        if replay[0].offset_first < start:
            raise ChangelogGapError(
                f"snapshot {name} replays from offset {start}, which skips transaction "
                f"{replay[0].gtid} at offset {replay[0].offset_first}: its anchor "
                f"{snapshot.anchor} does not hold it", _GAP_HINT)
    begins_after = changelog.begins_after
    if begins_after is not None and not begins_after.at_or_before(snapshot.anchor):
        raise ChangelogGapError(
            f"the changelog begins after GTID position {begins_after}, past snapshot {name}'s "
            f"anchor {snapshot.anchor or '(empty)'}: the transactions between them are in no "
            "backup", _GAP_HINT)
    if begins_after is None and cut == 0 and txs and (
            start is None or start <= changelog.log_start_offset):
        # Without a start record, only the first transaction tells where capture began.
        first = txs[0]
        held = snapshot.anchor.sequence_in(first.gtid.domain) or 0
        if first.gtid.sequence != held + 1:
            raise ChangelogGapError(
                f"the changelog begins at transaction {first.gtid} (offset "
                f"{first.offset_first}) and snapshot {name}'s anchor is "
                f"{snapshot.anchor or '(empty)'}: the transactions between them are not in the "
                "changelog (capture started after the snapshot, or they were deleted)",
                _GAP_HINT)
    for tx in replay:
        if snapshot.anchor.contains(tx.gtid):
            raise ChangelogGapError(
                f"transaction {tx.gtid} at offset {tx.offset_first} comes after the first one "
                f"the snapshot {name} lacks, yet its anchor {snapshot.anchor} holds it",
                _GAP_HINT)


def _held_through(snapshot: SnapshotInfo, cut: int, txs: Sequence[TransactionInfo],
                  changelog: ChangelogSummary) -> int:
    if snapshot.anchor_offset is not None:
        return snapshot.anchor_offset - 1
    if cut < len(txs):
        return txs[cut].offset_first - 1
    return changelog.log_end_offset - 1  # capture has not passed the anchor yet


def _replay_from(snapshot: SnapshotInfo, replay: Sequence[TransactionInfo]) -> int | None:
    if not replay:
        return None
    return replay[0].offset_first if snapshot.anchor_offset is None else snapshot.anchor_offset


def _time_text(moment: datetime) -> str:
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def _commit_time_text(commit_time_us: int) -> str:
    return _time_text(_EPOCH + timedelta(microseconds=commit_time_us))
