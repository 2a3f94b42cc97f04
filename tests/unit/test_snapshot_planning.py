"""Pure parts of snapshots: the replay start search, the changelog coverage check, retention,
and reading values and shapes the way the binlog reader does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cdc.changes import ChangeRecord, Column, Operation, SourcePosition
from cdc.position import GtidPosition
from cdc.snapshot.anchor_offset import first_offset_after
from cdc.snapshot.coverage import check_coverage
from cdc.snapshot.manifest import Anchor, Manifest, SourceInfo
from cdc.snapshot.retention import plan_prune
from cdc.snapshot.source_tables import ColumnFacts, column_from_information_schema
from cdc.snapshot.text_values import (
    TextValueError,
    converter_for,
    parse_set,
    parse_time,
    parse_timestamp,
    select_expression,
)
from cdc.values import ZERO_DATETIME, ZeroDate, ZeroDateTime


def record(sequence: int, index: int = 0, last: bool = True,
           operation: Operation = Operation.INSERT) -> ChangeRecord:
    gtid = "" if operation is Operation.HEARTBEAT else f"0-1-{sequence}"
    return ChangeRecord(operation=operation, database="d", table="t", schema_version=1,
                        before=None, after={"id": sequence}, statement=None,
                        position=SourcePosition(gtid, f"0-1-{sequence}", 1, "f", 4),
                        commit_time_us=sequence, transaction_index=index,
                        transaction_last=last)


# --- the replay start ------------------------------------------------------------------------

def log_with_gaps() -> dict[int, ChangeRecord]:
    """Offsets 0..29 with holes (transaction markers, aborted records) every few offsets."""
    log: dict[int, ChangeRecord] = {}
    sequence = 10
    for offset in range(30):
        if offset % 4 == 3:
            continue
        log[offset] = record(sequence)
        sequence += 1
    return log


def probe_of(log: dict[int, ChangeRecord]):  # type: ignore[no-untyped-def]
    def probe(offset: int) -> tuple[int, ChangeRecord] | None:
        later = [o for o in sorted(log) if o >= offset]
        return (later[0], log[later[0]]) if later else None
    return probe


@pytest.mark.parametrize("anchor_sequence", [5, 9, 10, 11, 15, 20, 31, 40])
def test_the_replay_start_is_the_first_record_after_the_anchor(anchor_sequence: int) -> None:
    log = log_with_gaps()
    anchor = GtidPosition.parse(f"0-1-{anchor_sequence}")
    found = first_offset_after(anchor, 0, 30, probe_of(log))
    after = [o for o in sorted(log) if int(log[o].position.gtid.split("-")[2]) > anchor_sequence]
    if after:
        assert found <= after[0]
        assert all(int(log[o].position.gtid.split("-")[2]) <= anchor_sequence
                   for o in log if o < found)
    else:
        assert all(o < found for o in log)


def test_heartbeats_count_by_the_position_they_carry() -> None:
    log = {0: record(1), 1: record(2, operation=Operation.HEARTBEAT), 2: record(3)}
    assert first_offset_after(GtidPosition.parse("0-1-1"), 0, 3, probe_of(log)) == 1
    assert first_offset_after(GtidPosition.parse("0-1-2"), 0, 3, probe_of(log)) == 2


# --- coverage ---------------------------------------------------------------------------------

def test_a_contiguous_changelog_covers_the_snapshot() -> None:
    anchor = GtidPosition.parse("0-1-5")
    records = [(6, record(6, 0, False)), (7, record(6, 1, True)), (8, record(9))]
    report = check_coverage(anchor, record(5), records)
    assert report.problems == []
    assert (report.transactions, report.records, report.last_gtid) == (2, 3, "0-1-9")


def test_a_changelog_that_starts_after_the_anchor_is_a_gap() -> None:
    report = check_coverage(GtidPosition.parse("0-1-5"), None, [(0, record(8))])
    assert any("not in the changelog" in p for p in report.problems)
    assert check_coverage(GtidPosition.parse("0-1-5"), None, [(0, record(6))]).problems == []


def test_repeats_disorder_and_cut_transactions_are_reported() -> None:
    anchor = GtidPosition.parse("0-1-5")
    repeated = check_coverage(anchor, record(5), [(1, record(6)), (2, record(6))])
    assert any("repeated or out of order" in p for p in repeated.problems)
    cut = check_coverage(anchor, record(5), [(1, record(6, 0, False)), (2, record(7))])
    assert any("ends without its last record" in p for p in cut.problems)
    skipped = check_coverage(anchor, record(5), [(1, record(6, 0, False)),
                                                 (2, record(6, 2, True))])
    assert any("record 1 was due" in p for p in skipped.problems)
    stale = check_coverage(anchor, record(5), [(1, record(4))])
    assert any("already in the snapshot" in p for p in stale.problems)
    wrong_start = check_coverage(anchor, record(7), [(1, record(8))])
    assert any("replay start is wrong" in p for p in wrong_start.problems)


# --- retention --------------------------------------------------------------------------------

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def manifest(hours_ago: int) -> Manifest:
    created = NOW - timedelta(hours=hours_ago)
    return Manifest(snapshot_id=f"s{hours_ago:03d}", created_at=created, finished_at=created,
                    source=SourceInfo(name="s", host="h", port=1, server_id=1,
                                      flavor="mariadb", version="10.11"),
                    anchor=Anchor(gtid_position="0-1-1", binlog_file="f", binlog_position=4,
                                  changelog_offset=0),
                    compression="zstandard", encryption=None, tables=())


def test_keep_within_keeps_the_snapshot_that_anchors_the_oldest_point() -> None:
    snapshots = tuple(manifest(h) for h in (100, 50, 30, 20, 10, 1))
    plan = plan_prune(snapshots, keep_last=None, keep_within=timedelta(hours=24), now=NOW)
    kept = [m.snapshot_id for m in plan.keep]
    # 20, 10 and 1 hours old are inside the window; 30 is needed to restore to 24 hours ago.
    assert kept == ["s030", "s020", "s010", "s001"]
    assert [m.snapshot_id for m in plan.delete] == ["s100", "s050"]


def test_keep_last_and_never_everything() -> None:
    snapshots = tuple(manifest(h) for h in (30, 20, 10))
    assert [m.snapshot_id for m in plan_prune(snapshots, keep_last=2, keep_within=None,
                                              now=NOW).delete] == ["s030"]
    plan = plan_prune(snapshots, keep_last=None, keep_within=timedelta(hours=1), now=NOW)
    assert [m.snapshot_id for m in plan.keep] == ["s010"]


# --- values and shapes as the binlog reader gives them -----------------------------------------

def test_text_values_keep_zero_dates_fractions_and_empty_sets() -> None:
    assert converter_for(Column("d", "date"))("0000-00-00") == ZeroDate(0, 0, 0)
    assert converter_for(Column("d", "date"))("2024-02-29") == date(2024, 2, 29)
    assert converter_for(Column("t", "datetime"))("2024-00-15 10:00:00.5") == \
        ZeroDateTime(2024, 0, 15, 10, 0, 0, 500000)
    assert parse_timestamp("0000-00-00 00:00:00") == ZERO_DATETIME
    assert parse_timestamp("2024-01-02 03:04:05.000006") == \
        datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert parse_time("-838:59:59.000000") == -timedelta(hours=838, minutes=59, seconds=59)
    assert parse_time("-00:00:01.5") == -timedelta(seconds=1, microseconds=500000)
    assert parse_set("") == frozenset()
    assert parse_set("a,b") == frozenset({"a", "b"})
    assert converter_for(Column("b", "bit", precision=10))(b"\x03\xff") == 1023
    assert converter_for(Column("m", "decimal"))(Decimal("-0.00")) == Decimal("0.00")
    with pytest.raises(TextValueError):
        parse_time("839:00:00")


def test_float_columns_are_read_widened() -> None:
    assert select_expression(Column("f", "float"), "`f`") == "CAST(`f` AS DOUBLE)"
    assert select_expression(Column("d", "double"), "`d`") == "`d`"


def facts(data_type: str, column_type: str, **extra: object) -> ColumnFacts:
    values: dict[str, object] = {
        "name": "c", "data_type": data_type, "column_type": column_type, "nullable": True,
        "character_maximum_length": None, "numeric_precision": None, "numeric_scale": None,
        "datetime_precision": None, "character_set": None, **extra}
    return ColumnFacts(**values)  # type: ignore[arg-type]


def test_information_schema_shapes_match_the_binlog_readers() -> None:
    def column(f: ColumnFacts) -> Column:
        return column_from_information_schema("d.t", f)

    assert column(facts("bigint", "bigint(20) unsigned")) == Column("c", "bigint", unsigned=True)
    assert column(facts("decimal", "decimal(65,30)", numeric_precision=65,
                        numeric_scale=30)) == Column("c", "decimal", precision=65, scale=30)
    assert column(facts("varchar", "varchar(64)", character_maximum_length=64,
                        character_set="utf8mb4")) == \
        Column("c", "varchar", precision=64, charset="utf8mb4")
    assert column(facts("datetime", "datetime(6)", datetime_precision=6)) == \
        Column("c", "datetime", scale=6)
    assert column(facts("enum", "enum('new','it''s')", character_set="latin1")) == \
        Column("c", "enum", charset="latin1", members=("new", "it's"))
    assert column(facts("point", "point")) == Column("c", "geometry")
    assert column(facts("longblob", "longblob")) == Column("c", "longblob")
    with pytest.raises(Exception, match="cannot carry"):
        column(facts("uuid", "uuid"))
