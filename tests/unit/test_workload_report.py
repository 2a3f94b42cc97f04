"""Counting what a run did, and saying it in text and JSON."""

from __future__ import annotations

import json

from bench.workload.limits import StopReason
from bench.workload.provision import SetupReport
from bench.workload.report import format_json, format_run, format_setup
from bench.workload.summary import RunSummary, TableChanges, Tally
from bench.workload.types import ChangeKind, OperationKind, RowChange


def payment_changes() -> list[RowChange]:
    return [
        RowChange("payments", ChangeKind.INSERT, 1),
        RowChange("ledger_entries", ChangeKind.INSERT, 2),
        RowChange("accounts", ChangeKind.UPDATE, 1),
        RowChange("accounts", ChangeKind.UPDATE, 1),
        RowChange("payments", ChangeKind.UPDATE, 1),
    ]


def summary_of(tally: Tally) -> RunSummary:
    return RunSummary(
        database="payments", seed=7, target_rate=0.0, transactions=tally.transactions,
        transactions_by_kind=tally.kinds_in_order(), row_changes_by_table=tally.tables_in_order(),
        elapsed_seconds=2.0, first_gtid="0-1-10", last_gtid="0-1-13", marks_written=2,
        marks_file="/tmp/marks.jsonl", stopped_by=StopReason.TRANSACTIONS,
    )


def test_tally_counts_transactions_by_kind_and_rows_by_table() -> None:
    tally = Tally()
    tally.record(OperationKind.PAYMENT, payment_changes())
    tally.record(OperationKind.PAYMENT, payment_changes())
    tally.record(OperationKind.PURGE_FAILED_PAYMENT, [RowChange("payments", ChangeKind.DELETE, 1)])
    assert tally.transactions == 3
    assert tally.kinds_in_order()["payment"] == 2
    assert tally.kinds_in_order()["refund"] == 0
    assert list(tally.kinds_in_order()) == [kind.value for kind in OperationKind]
    assert tally.by_table["payments"] == TableChanges(inserts=2, updates=2, deletes=1)
    assert tally.by_table["accounts"] == TableChanges(updates=4)
    assert tally.by_table["ledger_entries"] == TableChanges(inserts=4)


def test_summary_totals_and_rate() -> None:
    tally = Tally()
    for _ in range(4):
        tally.record(OperationKind.PAYMENT, payment_changes())
    summary = summary_of(tally)
    assert summary.row_changes == TableChanges(inserts=12, updates=12, deletes=0)
    assert summary.achieved_rate == 2.0


def test_json_output_is_one_object_with_setup_and_run() -> None:
    tally = Tally()
    tally.record(OperationKind.PAYMENT, payment_changes())
    setup = SetupReport("payments", was_reset=True, database_created=True,
                        tables_created=("accounts",), torture_rows_inserted=10)
    document = json.loads(format_json(setup, summary_of(tally)))
    assert document["setup"]["torture_rows_inserted"] == 10
    assert document["setup"]["reset"] is True
    run = document["run"]
    assert run["transactions"] == 1
    assert run["transactions_by_kind"]["payment"] == 1
    assert run["row_changes"] == {"inserts": 3, "updates": 3, "deletes": 0, "total": 6}
    assert run["row_changes_by_table"]["ledger_entries"]["inserts"] == 2
    assert run["first_gtid"] == "0-1-10"
    assert run["last_gtid"] == "0-1-13"
    assert run["marks_written"] == 2
    assert run["achieved_rate"] == 0.5
    assert run["stopped_by"] == "transactions"
    assert json.loads(format_json(setup, None))["run"] is None


def test_text_output_says_what_happened() -> None:
    tally = Tally()
    tally.record(OperationKind.PAYMENT, payment_changes())
    text = format_run(summary_of(tally))
    assert "run: 1 transactions on payments in 2.000 s = 0.5 tx/s" in text
    assert "as fast as possible" in text
    assert "row changes: 6 (inserts 3, updates 3, deletes 0)" in text
    assert "GTIDs: first 0-1-10, last 0-1-13" in text
    assert "marks: 2 written to /tmp/marks.jsonl" in text
    assert "stopped after the requested number of transactions" in text


def test_setup_text_distinguishes_created_reset_and_existing() -> None:
    created = SetupReport("wl", False, True, ("accounts", "payments"), 10)
    reset = SetupReport("wl", True, True, ("accounts",), 10)
    existing = SetupReport("wl", False, False, (), 0)
    assert "database wl created; tables created: accounts, payments" in format_setup(created)
    assert "dropped and recreated" in format_setup(reset)
    assert "already existed; tables created: none" in format_setup(existing)
    assert "type-torture rows inserted: 0" in format_setup(existing)
