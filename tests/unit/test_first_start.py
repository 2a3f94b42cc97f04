"""The first-start rule: where an empty changelog begins, and its start record."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cdc.avro.codec import decode_record, encode_record
from cdc.changelog_view import record_as_line
from cdc.changes import Operation, TableSchema
from cdc.errors import ConfigError
from cdc.first_start import (
    SnapshotAnchor,
    StartDecision,
    StartGapError,
    decide_first_start,
    decision_of,
    start_record,
)
from cdc.position import GtidPosition

P = GtidPosition.parse


def snap(snapshot_id: str, anchor: str, unavailable: str | None = None) -> SnapshotAnchor:
    return SnapshotAnchor(snapshot_id, P(anchor), unavailable)


@pytest.mark.parametrize(("configured", "rule"), [
    ("current", "current"), ("earliest", "earliest"), ("gtid:0-1-3", "gtid")])
def test_without_snapshots_the_configured_rule_decides(configured: str, rule: str) -> None:
    decision = decide_first_start(configured, P("0-1-40"), [])
    assert (decision.position, decision.rule, decision.configured) == (P("0-1-40"), rule,
                                                                        configured)
    assert decision.snapshot_ids == ()
    assert decision.warnings == ()


def test_snapshots_at_or_after_the_start_change_nothing() -> None:
    decision = decide_first_start("current", P("0-1-40"),
                                  [snap("a", "0-1-40"), snap("b", "0-1-55")])
    assert (decision.position, decision.rule) == (P("0-1-40"), "current")


def test_current_begins_at_the_oldest_snapshot_it_would_leave_behind() -> None:
    # The bad-input report's case: a snapshot at 0-1001-5587, capture first started at 5597.
    decision = decide_first_start("current", P("0-1001-5597"),
                                  [snap("new", "0-1001-5596"), snap("old", "0-1001-5587"),
                                   snap("later", "0-1001-5600")])
    assert decision.position == P("0-1001-5587")
    assert decision.rule == "snapshot"
    assert decision.snapshot_ids == ("new", "old")
    assert any("would begin after snapshot(s) new (anchor 0-1001-5596), old" in w
               for w in decision.warnings)
    assert "snapshot(s) new, old" in decision.describe()


def test_several_domains_begin_at_the_lowest_per_domain() -> None:
    decision = decide_first_start("current", P("0-1-50,1-2-20"),
                                  [snap("a", "0-1-45,1-2-20"), snap("b", "0-1-48,1-2-10")])
    assert decision.position == P("0-1-45,1-2-10")


def test_an_explicit_start_past_a_snapshot_is_refused_naming_it_and_the_fix() -> None:
    with pytest.raises(StartGapError) as refused:
        decide_first_start("gtid:0-1-50", P("0-1-50"), [snap("s1", "0-1-44")])
    assert isinstance(refused.value, ConfigError)
    assert refused.value.exit_status == 2
    assert "capture.start = 'gtid:0-1-50' begins after snapshot(s) s1 (anchor 0-1-44)" in \
        refused.value.message
    assert "set capture.start = 'gtid:0-1-44'" in refused.value.hint
    assert "cdc backups prune" in refused.value.hint


def test_a_snapshot_the_binlog_can_no_longer_continue_is_named_not_followed() -> None:
    decision = decide_first_start("current", P("0-1-50"),
                                  [snap("dead", "0-1-3", "the binlog after 0-1-3 was purged")])
    assert decision.position == P("0-1-50")
    assert decision.rule == "current"
    assert decision.warnings == (
        "snapshot dead (anchor 0-1-3) can never be restored: the binlog after 0-1-3 was "
        "purged; take a new snapshot once capture runs, and prune this one",)


def test_an_explicit_start_is_not_refused_for_an_unusable_snapshot() -> None:
    decision = decide_first_start("earliest", P("0-1-20"),
                                  [snap("dead", "0-1-3", "purged")])
    assert (decision.position, decision.rule) == (P("0-1-20"), "earliest")
    assert len(decision.warnings) == 1


def _lookup(database: str, table: str, version: int) -> TableSchema:
    raise AssertionError("a start record has no row image")


def test_the_start_record_round_trips_through_the_changelog_encoding() -> None:
    decision = StartDecision(P("0-1001-5587"), "snapshot", "current", ("old",))
    record = start_record(decision, 1_780_000_000_000_000)
    assert record.operation is Operation.START
    assert record.operation.is_marker
    assert record.transaction_last
    assert record.position.gtid == ""
    assert json.loads(record.statement or "") == {"rule": "snapshot", "configured": "current",
                                                  "snapshots": ["old"]}
    decoded = decode_record(encode_record(record, None), _lookup)
    assert decoded == record
    again = decision_of(decoded)
    assert (again.position, again.rule, again.configured, again.snapshot_ids) == (
        P("0-1001-5587"), "snapshot", "current", ("old",))


def test_a_start_record_whose_rule_cannot_be_read_keeps_its_position() -> None:
    record = start_record(StartDecision(P("0-1-9"), "current", "current"), 0)
    odd = replace(record, statement="not json")
    assert (decision_of(odd).position, decision_of(odd).rule) == (P("0-1-9"), "unknown")
    with pytest.raises(ValueError, match="not a start record"):
        decision_of(replace(record, operation=Operation.HEARTBEAT))


def test_cdc_tail_shows_the_start_record_as_the_changelogs_beginning() -> None:
    record = start_record(StartDecision(P("0-1001-5587"), "snapshot", "current", ("old",)),
                          1_780_000_000_000_000)
    line = record_as_line(record, 0)
    assert line.endswith("start: the changelog begins after position 0-1001-5587, chosen by "
                         "the anchor of snapshot(s) old (capture.start = 'current' would have "
                         "begun after it)")
