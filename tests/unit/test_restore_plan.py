"""The restore plan: how each kind of point resolves, which snapshot is chosen, what is replayed,
and every refusal (with the restorable window where the point is outside it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdc.errors import ConfigError
from cdc.position import GtidPosition, parse_gtid
from replayer.errors import (
    ChangelogGapError,
    GtidNotFoundError,
    NoSnapshotError,
    PointOutsideWindowError,
    RestorePlanError,
    UnknownMarkError,
)
from replayer.restore_plan import (
    ChangelogSummary,
    RestorePlan,
    SnapshotInfo,
    TransactionInfo,
    calc_restore_plan,
    restorable_window,
)
from replayer.restore_point import parse_restore_point

T0 = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)


def us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def tx(gtid: str, first: int, last: int | None = None, *, second: int, rows: int = 1
       ) -> TransactionInfo:
    """A transaction committed ``second`` whole seconds after T0 (MariaDB: whole seconds)."""
    return TransactionInfo(first, first if last is None else last, parse_gtid(gtid),
                           us(T0 + timedelta(seconds=second)), rows)


def snap(snapshot_id: str, anchor: str, anchor_offset: int | None, *, created: float,
         rows: int = 100) -> SnapshotInfo:
    return SnapshotInfo(snapshot_id, T0 + timedelta(seconds=created), GtidPosition.parse(anchor),
                        anchor_offset, rows)


# Records with a Kafka commit marker after each transaction (offsets 2, 6, 8, 12, 14, 17).
TX1 = tx("0-1-1", 0, 1, second=1, rows=2)
TX2 = tx("0-1-2", 3, 5, second=2, rows=3)
TX3 = tx("0-1-3", 7, second=2, rows=1)
TX4 = tx("0-1-4", 9, 11, second=5, rows=3)
TX5 = tx("0-1-5", 13, second=7, rows=1)
TX6 = tx("0-1-6", 15, 16, second=9, rows=2)
LOG = ChangelogSummary((TX1, TX2, TX3, TX4, TX5, TX6), log_start_offset=0, log_end_offset=18)
S1 = snap("s1", "0-1-1", 3, created=1.5, rows=100)
S2 = snap("s2", "0-1-4", 13, created=6.0, rows=130)


def plan(point: str, snapshots: Sequence[SnapshotInfo] = (S1, S2),
         changelog: ChangelogSummary = LOG, marks: Mapping[str, GtidPosition] | None = None,
         now: datetime = NOW) -> RestorePlan:
    return calc_restore_plan(parse_restore_point(point), snapshots, changelog, marks or {},
                             now=now)


def window_text() -> str:
    return str(restorable_window((S1, S2), LOG))


# --- resolving points ------------------------------------------------------------------------

def test_latest_replays_the_newest_snapshot_to_the_last_transaction() -> None:
    assert plan("latest") == RestorePlan(
        snapshot_id="s2", snapshot_rows=130, replay_from_offset=13, replay_to_offset=16,
        snapshot_through_offset=12, transactions=2, rows_to_replay=3, target_gtid="0-1-6",
        target_commit_time_us=TX6.commit_time_us)


def test_a_point_exactly_at_a_snapshots_anchor_replays_nothing() -> None:
    result = plan("gtid:0-1-4")
    assert (result.snapshot_id, result.transactions, result.rows_to_replay) == ("s2", 0, 0)
    assert (result.replay_from_offset, result.replay_to_offset) == (None, None)
    assert (result.target_gtid, result.target_commit_time_us) == ("0-1-4", TX4.commit_time_us)
    # Loaded, the target stands just before the first transaction the snapshot lacks, so a
    # later --resume replays exactly from there.
    assert result.snapshot_through_offset == 12


def test_a_time_between_two_transactions_resolves_to_the_earlier_one() -> None:
    result = plan("time:2026-11-24T10:00:04Z")
    assert (result.snapshot_id, result.target_gtid) == ("s1", "0-1-3")
    assert (result.replay_from_offset, result.replay_to_offset) == (3, 7)
    assert (result.transactions, result.rows_to_replay) == (2, 4)


def test_a_time_equal_to_a_commit_second_takes_every_transaction_of_that_second() -> None:
    result = plan("time:2026-11-24T10:00:02Z")
    assert result.target_gtid == "0-1-3"
    assert (result.transactions, result.replay_to_offset) == (2, 7)
    before = plan("time:2026-11-24T10:00:01.999999Z")
    assert (before.snapshot_id, before.target_gtid, before.transactions) == ("s1", "0-1-1", 0)


def test_a_time_after_the_last_commit_but_not_in_the_future_resolves_to_the_last() -> None:
    result = plan("time:2026-11-24T10:04:00Z")
    assert (result.target_gtid, result.replay_to_offset) == ("0-1-6", 16)


def test_a_time_in_the_future_is_refused_with_the_window() -> None:
    with pytest.raises(PointOutsideWindowError) as caught:
        plan("time:2026-11-24T10:05:00.000001Z")
    assert "in the future" in caught.value.message
    assert "now is 2026-11-24T10:05:00Z" in caught.value.message
    assert window_text() in caught.value.message
    assert caught.value.exit_status == 2
    assert plan("time:2026-11-24T10:05:00Z").target_gtid == "0-1-6"  # now itself is allowed


def test_a_time_stops_before_the_first_transaction_stamped_after_it() -> None:
    # Commit times out of log order: 0-1-3 is stamped earlier than 0-1-2 before it.
    changelog = ChangelogSummary((tx("0-1-1", 0, second=5), tx("0-1-2", 2, second=8),
                                  tx("0-1-3", 4, second=6)), 0, 6)
    result = plan("time:2026-11-24T10:00:07Z", [snap("s", "0-1-1", 1, created=5.5)], changelog)
    assert (result.target_gtid, result.transactions) == ("0-1-1", 0)


def test_an_offset_inside_a_transaction_resolves_to_the_last_one_ended_by_then() -> None:
    inside = plan("offset:10")  # 0-1-4 spans offsets 9..11
    assert (inside.snapshot_id, inside.target_gtid, inside.replay_to_offset) == ("s1", "0-1-3", 7)
    at_its_end = plan("offset:11")
    assert (at_its_end.snapshot_id, at_its_end.target_gtid) == ("s2", "0-1-4")
    assert at_its_end.transactions == 0
    on_a_marker = plan("offset:8")
    assert (on_a_marker.target_gtid, on_a_marker.replay_to_offset) == ("0-1-3", 7)


def test_an_offset_past_the_end_or_before_the_start_of_the_changelog_is_refused() -> None:
    with pytest.raises(PointOutsideWindowError) as after:
        plan("offset:18")
    assert "past the end of the changelog" in after.value.message
    assert "below 18" in after.value.hint
    assert window_text() in after.value.message
    assert plan("offset:17").target_gtid == "0-1-6"
    trimmed = ChangelogSummary((TX4, TX5, TX6), log_start_offset=9, log_end_offset=18)
    with pytest.raises(PointOutsideWindowError) as before:
        plan("offset:8", [S2], trimmed)
    assert "before the changelog's first offset 9" in before.value.message


def test_a_named_mark_resolves_to_the_last_transaction_it_holds() -> None:
    marks = {"before-deploy": GtidPosition.parse("0-1-3"), "z": GtidPosition.parse("0-1-4")}
    result = plan("name:before-deploy", marks=marks)
    assert (result.snapshot_id, result.target_gtid, result.replay_to_offset) == ("s1", "0-1-3", 7)
    at_anchor = plan("name:z", marks=marks)
    assert (at_anchor.snapshot_id, at_anchor.transactions) == ("s2", 0)


def test_a_mark_only_takes_a_snapshot_within_it() -> None:
    # The mark and the snapshot hold the same captured transactions, but the snapshot is past
    # the mark in domain 1 (transactions capture left out): it would be after the mark.
    changelog = ChangelogSummary((tx("0-1-1", 0, second=1), tx("0-1-2", 2, second=2)), 0, 4)
    early = snap("early", "0-1-1,1-1-5", 1, created=1.5)
    late = snap("late", "0-1-1,1-1-9", 1, created=1.8)
    marks = {"m": GtidPosition.parse("0-1-1,1-1-7")}
    result = plan("name:m", [early, late], changelog, marks)
    assert (result.snapshot_id, result.transactions) == ("early", 0)
    assert plan("gtid:0-1-1", [early, late], changelog).snapshot_id == "late"


def test_an_unknown_mark_is_refused_listing_the_known_ones() -> None:
    marks = {"zeta": GtidPosition.parse("0-1-3"), "alpha": GtidPosition.parse("0-1-2")}
    with pytest.raises(UnknownMarkError) as caught:
        plan("name:beta", marks=marks)
    assert "'beta'" in caught.value.message
    assert "alpha, zeta" in caught.value.hint
    assert caught.value.exit_status == 2
    with pytest.raises(UnknownMarkError) as none:
        plan("name:beta")
    assert "none yet" in none.value.hint
    assert "cdc mark" in none.value.hint


def test_a_mark_out_of_step_with_the_changelog_order_is_refused() -> None:
    changelog = ChangelogSummary((tx("0-1-1", 0, second=1), tx("1-1-1", 2, second=1),
                                  tx("0-1-2", 4, second=2)), 0, 6)
    marks = {"m": GtidPosition.parse("0-1-2")}  # holds 0-1-2 but not 1-1-1 logged before it
    with pytest.raises(ChangelogGapError) as caught:
        plan("name:m", [snap("s", "", 0, created=0)], changelog, marks)
    assert "offset 4" in caught.value.message
    assert "offset 2" in caught.value.message


@pytest.mark.parametrize(("gtid", "hint"), [("0-1-99", "not reached the GTID yet"),
                                             ("0-2-3", "has 0-1-3 at that sequence number"),
                                             ("5-1-1", "tables it leaves out")])
def test_a_gtid_in_neither_the_changelog_nor_an_anchor_is_refused(gtid: str, hint: str) -> None:
    with pytest.raises(GtidNotFoundError) as caught:
        plan(f"gtid:{gtid}")
    assert f"GTID {gtid}" in caught.value.message
    assert hint in caught.value.hint
    assert caught.value.exit_status == 2


def test_a_gtid_older_than_the_changelog_that_is_a_snapshots_anchor_is_that_snapshot() -> None:
    trimmed = ChangelogSummary((TX4, TX5, TX6), log_start_offset=9, log_end_offset=18)
    older = snap("s0", "0-1-1", 3, created=0.5)
    result = plan("gtid:0-1-1", [older, S1, S2], trimmed)
    assert result == RestorePlan("s0", 100, None, None, 2, 0, 0, "0-1-1", None)


# --- choosing the snapshot -------------------------------------------------------------------

def test_the_newest_snapshot_at_or_before_the_point_is_chosen_not_a_newer_one() -> None:
    s3 = snap("s3", "0-1-6", 18, created=10)
    assert plan("time:2026-11-24T10:00:05Z", [S1, S2, s3]).snapshot_id == "s2"
    assert plan("time:2026-11-24T10:00:04Z", [S1, S2, s3]).snapshot_id == "s1"
    assert plan("gtid:0-1-5", [s3, S2, S1]).snapshot_id == "s2"
    newest = plan("latest", [S1, S2, s3])
    assert (newest.snapshot_id, newest.transactions, newest.replay_from_offset) == ("s3", 0, None)


def test_a_snapshot_with_an_unknown_offset_replays_from_the_first_transaction_after_it() -> None:
    unknown = snap("s2", "0-1-4", None, created=6)
    result = plan("latest", [S1, unknown])
    assert (result.snapshot_id, result.replay_from_offset, result.replay_to_offset) == (
        "s2", 13, 16)
    assert result.snapshot_through_offset == 12
    # A known offset may point at a heartbeat before that transaction: replay starts there.
    on_heartbeat = plan("latest", [S1, snap("s2", "0-1-4", 12, created=6)])
    assert on_heartbeat.replay_from_offset == 12


def test_a_snapshot_capture_has_not_reached_is_skipped() -> None:
    ahead = snap("ahead", "0-1-9", None, created=20)
    assert plan("latest", [S1, S2, ahead]).snapshot_id == "s2"
    with pytest.raises(PointOutsideWindowError) as caught:
        plan("latest", [ahead])
    assert "capture has not reached the anchor of snapshot(s) ahead" in caught.value.hint
    at_the_end = snap("end", "0-1-6", None, created=20)  # offset unknown, but no further
    at_end = plan("latest", [S1, at_the_end])
    assert at_end.snapshot_id == "end"
    assert at_end.snapshot_through_offset == 17  # everything captured so far


def test_a_point_before_the_oldest_snapshot_is_refused_with_the_window() -> None:
    with pytest.raises(PointOutsideWindowError) as caught:
        plan("time:2026-11-24T10:00:00.5Z")
    message = caught.value.message
    assert "no snapshot is at or before restore point time:2026-11-24T10:00:00.500000Z" in message
    assert ("restorable window: from 2026-11-24T10:00:01.500000Z (snapshot s1, GTID position "
            "0-1-1) to 2026-11-24T10:00:09Z (GTID 0-1-6, changelog offset 16)") in message
    assert "cdc window" in caught.value.hint
    with pytest.raises(PointOutsideWindowError):
        plan("gtid:0-1-1", [S2])
    with pytest.raises(PointOutsideWindowError):
        plan("offset:1", [S2])


def test_a_time_before_every_transaction_takes_a_snapshot_taken_by_then() -> None:
    changelog = ChangelogSummary((TX3, TX4), log_start_offset=7, log_end_offset=13)
    snapshot = snap("s", "0-1-2", 7, created=1.5)
    result = plan("time:2026-11-24T10:00:01.8Z", [snapshot], changelog)
    assert result == RestorePlan("s", 100, None, None, 6, 0, 0, "0-1-2", None)
    with pytest.raises(PointOutsideWindowError):
        plan("time:2026-11-24T10:00:01.2Z", [snapshot], changelog)
    # Nothing to replay, yet the state at that time is the snapshot only if the changelog
    # continues it: here 0-1-2 is missing between the anchor and the changelog's start.
    with pytest.raises(ChangelogGapError) as caught:
        plan("time:2026-11-24T10:00:01.8Z", [snap("s", "0-1-1", None, created=1.5)], changelog)
    assert "begins at transaction 0-1-3 (offset 7)" in caught.value.message


def test_latest_on_an_empty_changelog_is_the_snapshot() -> None:
    empty = ChangelogSummary((), log_start_offset=0, log_end_offset=4)
    result = plan("latest", [snap("s", "0-1-7", 4, created=1)], empty)
    assert (result.snapshot_id, result.transactions, result.target_gtid) == ("s", 0, "0-1-7")
    assert result.target_commit_time_us is None


def test_no_snapshot_at_all_is_refused() -> None:
    with pytest.raises(NoSnapshotError) as caught:
        plan("latest", [])
    assert "cdc snapshot" in caught.value.hint
    assert caught.value.exit_status == 1


def test_the_window_with_nothing_in_it() -> None:
    window = restorable_window((), ChangelogSummary((), 0, 0))
    assert str(window) == ("restorable window: from no snapshot to the changelog holds no "
                           "transaction")


# --- gaps --------------------------------------------------------------------------------------

def test_records_deleted_before_the_replay_start_are_a_gap() -> None:
    trimmed = ChangelogSummary((TX4, TX5, TX6), log_start_offset=9, log_end_offset=18)
    with pytest.raises(ChangelogGapError) as caught:
        plan("latest", [S1], trimmed)
    assert "replays from changelog offset 3" in caught.value.message
    assert "offsets 3..8 are gone" in caught.value.message
    assert caught.value.exit_status == 1


def test_a_replay_start_after_the_first_transaction_past_the_anchor_is_a_gap() -> None:
    with pytest.raises(ChangelogGapError) as caught:
        plan("latest", [snap("s", "0-1-3", 10, created=3)])
    assert "replays from offset 10, which skips transaction 0-1-4 at offset 9" in (
        caught.value.message)


def test_a_replay_start_inside_a_transaction_the_anchor_holds_is_refused() -> None:
    with pytest.raises(ChangelogGapError) as caught:
        plan("latest", [snap("s", "0-1-2", 5, created=3)])
    assert "would apply transaction 0-1-2 (offsets 3..5) again" in caught.value.message


@pytest.mark.parametrize(("gtids", "expected"), [
    (("0-1-1", "0-1-2", "0-1-2"), "GTID 0-1-2 at offset 4 repeats 0-1-2 at offset 2"),
    (("0-1-1", "0-1-3", "0-1-2"), "GTID 0-1-2 at offset 4 goes back from 0-1-3 at offset 2"),
])
def test_repeated_or_backward_sequence_numbers_are_a_gap(gtids: tuple[str, ...],
                                                         expected: str) -> None:
    changelog = ChangelogSummary(
        tuple(tx(g, 2 * i, second=i) for i, g in enumerate(gtids)), 0, 6)
    with pytest.raises(ChangelogGapError) as caught:
        plan("latest", [snap("s", "0-1-0", 0, created=0)], changelog)
    assert expected in caught.value.message


def test_a_sequence_jump_is_not_a_gap() -> None:
    changelog = ChangelogSummary((tx("0-1-1", 0, second=1), tx("0-1-7", 2, second=2)), 0, 4)
    assert plan("latest", [snap("s", "0-1-0", 0, created=0)], changelog).transactions == 2


def test_a_changelog_that_begins_after_the_anchors_successor_is_a_gap() -> None:
    late = ChangelogSummary((TX3, TX4), log_start_offset=0, log_end_offset=13)
    with pytest.raises(ChangelogGapError) as caught:
        plan("latest", [snap("s", "0-1-1", None, created=1)], late)
    assert "begins at transaction 0-1-3 (offset 7)" in caught.value.message
    assert "capture started after the snapshot" in caught.value.message
    direct = plan("latest", [snap("s", "0-1-2", None, created=1)], late)
    assert (direct.replay_from_offset, direct.replay_to_offset) == (7, 11)


def test_an_anchor_holding_a_transaction_after_one_it_lacks_is_refused() -> None:
    changelog = ChangelogSummary((tx("0-1-2", 0, second=1), tx("1-1-9", 2, second=1)), 0, 4)
    with pytest.raises(ChangelogGapError) as caught:
        plan("latest", [snap("s", "0-1-1,1-1-9", 0, created=0)], changelog)
    assert "transaction 1-1-9 at offset 2" in caught.value.message


@pytest.mark.parametrize("transactions", [(TX2, TX1), (tx("0-1-1", 3, 2, second=1),),
                                          (tx("0-1-1", 18, second=1),)])
def test_a_summary_out_of_order_or_outside_the_changelog_is_refused(
        transactions: tuple[TransactionInfo, ...]) -> None:
    with pytest.raises(ChangelogGapError) as caught:
        plan("latest", [S1], ChangelogSummary(transactions, 0, 18))
    assert "out of order or outside the changelog" in caught.value.message


# --- the estimate ----------------------------------------------------------------------------

def test_the_estimate_adds_loading_and_replaying() -> None:
    result = plan("time:2026-11-24T10:00:04Z")  # 100 snapshot rows, 4 to replay
    assert result.estimated_seconds(load_rows_per_s=50, replay_rows_per_s=2) == 4.0
    with pytest.raises(ConfigError):
        result.estimated_seconds(load_rows_per_s=0, replay_rows_per_s=2)


def test_every_plan_error_is_a_restore_plan_error() -> None:
    for error in (NoSnapshotError, PointOutsideWindowError, UnknownMarkError, GtidNotFoundError,
                  ChangelogGapError):
        assert issubclass(error, RestorePlanError)


# --- properties ------------------------------------------------------------------------------

@st.composite
def histories(draw: st.DrawFn) -> tuple[ChangelogSummary, list[SnapshotInfo]]:
    """A single-domain changelog (multi-record transactions, markers and heartbeats between,
    sequence jumps, several transactions per second) and snapshots anchored between its
    transactions, with their offset known or not."""
    offset, sequence, second = draw(st.integers(0, 3)), draw(st.integers(1, 5)), 0
    start, base = offset, sequence - 1
    txs = []
    for _ in range(draw(st.integers(0, 12))):
        records = draw(st.integers(1, 3))
        txs.append(tx(f"0-1-{sequence}", offset, offset + records - 1, second=second,
                      rows=records))
        offset += records + draw(st.integers(0, 2))
        sequence += draw(st.integers(1, 3))
        second += draw(st.integers(0, 2))
    end = offset + 1
    snapshots = []
    for n, cut in enumerate(draw(st.lists(st.integers(0, len(txs)), min_size=1, max_size=4))):
        held = txs[cut - 1].gtid.sequence if cut else base
        replay_start = txs[cut].offset_first if cut < len(txs) else end
        known = draw(st.booleans())
        created = (txs[cut - 1].commit_time_us - us(T0)) / 1e6 + 0.5 if cut else -1.0
        snapshots.append(snap(f"s{n}", f"0-1-{held}", replay_start if known else None,
                              created=created))
    return ChangelogSummary(tuple(txs), start, end), snapshots


@given(histories(), st.data())
def test_the_plan_replays_from_the_newest_eligible_snapshot_to_the_resolved_transaction(
        history: tuple[ChangelogSummary, list[SnapshotInfo]], data: st.DataObject) -> None:
    changelog, snapshots = history
    txs = changelog.transactions
    kinds = ["latest", "offset", "time"] + (["gtid"] if txs else [])
    kind = data.draw(st.sampled_from(kinds))
    moment: datetime | None = None
    if kind == "latest":
        point, resolved = "latest", len(txs) - 1
    elif kind == "offset":
        at = data.draw(st.integers(changelog.log_start_offset, changelog.log_end_offset - 1))
        point = f"offset:{at}"
        resolved = max((i for i, t in enumerate(txs) if t.offset_last <= at), default=-1)
    elif kind == "gtid":
        resolved = data.draw(st.integers(0, len(txs) - 1))
        point = f"gtid:{txs[resolved].gtid}"
    else:
        moment = T0 + timedelta(microseconds=data.draw(st.integers(-2_000_000, 30_000_000)))
        point = f"time:{moment.isoformat()}"
        resolved = max((i for i, t in enumerate(txs) if t.commit_time_us <= us(moment)),
                       default=-1)

    def cut(snapshot: SnapshotInfo) -> int:
        return sum(1 for t in txs if snapshot.anchor.contains(t.gtid))

    def eligible(snapshot: SnapshotInfo) -> bool:
        # Offset unknown and nothing in the changelog after the anchor: capture may not have
        # reached it (the generator anchors such snapshots at the last transaction, if any).
        unreached = snapshot.anchor_offset is None and not txs
        # A time before every transaction: only a snapshot taken by then.
        too_young = resolved < 0 and moment is not None and snapshot.created_at > moment
        return cut(snapshot) <= resolved + 1 and not unreached and not too_young

    candidates = [s for s in snapshots if eligible(s)]
    if not candidates:
        with pytest.raises(PointOutsideWindowError):
            plan(point, snapshots, changelog)
        return
    result = plan(point, snapshots, changelog)
    chosen = next(s for s in snapshots if s.snapshot_id == result.snapshot_id)
    assert chosen in candidates
    assert cut(chosen) == max(cut(s) for s in candidates)
    assert all(not chosen.anchor.contains(t.gtid) for t in txs[resolved + 1:])
    replayed = txs[cut(chosen): resolved + 1]
    assert result.transactions == len(replayed)
    assert result.rows_to_replay == sum(t.rows for t in replayed)
    if replayed:
        assert result.replay_to_offset == txs[resolved].offset_last
        assert result.replay_from_offset == (chosen.anchor_offset
                                             if chosen.anchor_offset is not None
                                             else replayed[0].offset_first)
    else:
        assert result.replay_from_offset is result.replay_to_offset is None
    if resolved >= 0:
        assert result.target_gtid == str(txs[resolved].gtid)


# --- the changelog's start record --------------------------------------------------------------

def test_a_snapshot_before_the_changelogs_beginning_is_named_as_never_restorable() -> None:
    # The bad-input report's case: capture first started past the snapshot's anchor (before the
    # start record existed), so the anchor's successors are in no backup; "wait for capture to
    # catch up" would never come true.
    began_late = ChangelogSummary((TX4, TX5, TX6), log_start_offset=8, log_end_offset=18,
                                  begins_after=GtidPosition.parse("0-1-3"))
    early = snap("early", "0-1-1", None, created=0.5)
    with pytest.raises(PointOutsideWindowError) as caught:
        plan("latest", [early], began_late)
    assert "snapshot(s) early can never be restored: the changelog begins after GTID " \
           "position 0-1-3, past their anchors" in caught.value.hint
    assert "wait for it to catch up" not in caught.value.hint
    later = snap("later", "0-1-3", 8, created=3)
    result = plan("latest", [early, later], began_late)
    assert (result.snapshot_id, result.replay_from_offset) == ("later", 8)


def test_with_a_start_record_a_first_transaction_past_the_anchors_successor_is_no_gap() -> None:
    # 0-1-4 touched only tables capture leaves out, so the changelog (begun after 0-1-3, the
    # snapshot's anchor) has 0-1-5 first: without the start record this looked like a gap.
    began = ChangelogSummary((TX5, TX6), log_start_offset=12, log_end_offset=18,
                             begins_after=GtidPosition.parse("0-1-3"))
    snapshot = snap("s", "0-1-3", None, created=3)
    result = plan("latest", [snapshot], began)
    assert (result.snapshot_id, result.transactions, result.target_gtid) == ("s", 2, "0-1-6")
    with pytest.raises(ChangelogGapError, match="begins at transaction 0-1-5"):
        plan("latest", [snapshot], ChangelogSummary((TX5, TX6), 12, 18))
