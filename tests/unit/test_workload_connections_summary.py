"""A run over several connections, summarised: merging the workers' summaries, saying it in
text and JSON, the options that go with it, and the command the benchmarks build."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from bench.harness.workload_process import parse_summary, workload_command
from bench.workload.cli import main
from bench.workload.limits import StopReason
from bench.workload.merge import MergeContext, earliest_gtid, last_gtid_of, merge_summaries
from bench.workload.provision import SetupReport
from bench.workload.report import format_json, format_run
from bench.workload.summary import RunSummary, TableChanges
from bench.workload.types import OperationKind

CONTEXT = MergeContext(database="payments", seed=7, target_rate=1000.0,
                       last_gtid="0-1001-90", marks_written=2, marks_file="/tmp/m.jsonl",
                       interrupted=False)


def part(transactions: int, elapsed: float, first_gtid: str | None,
         stopped_by: StopReason = StopReason.DURATION) -> RunSummary:
    kinds = {kind.value: 0 for kind in OperationKind}
    kinds["payment"] = transactions - 1
    kinds["open_account"] = 1
    return RunSummary(
        database="payments", seed=123, target_rate=250.0, transactions=transactions,
        transactions_by_kind=kinds,
        row_changes_by_table={"accounts": TableChanges(1, 2 * (transactions - 1), 0),
                              "payments": TableChanges(transactions - 1, transactions - 1, 0)},
        elapsed_seconds=elapsed, first_gtid=first_gtid, last_gtid="0-1001-1",
        marks_written=0, marks_file=None, stopped_by=stopped_by)


def test_counts_add_up_and_the_longest_worker_gives_the_time() -> None:
    merged = merge_summaries([part(10, 2.0, "0-1001-12"), part(30, 2.5, "0-1001-11"),
                              part(20, 2.4, "0-1001-15")], CONTEXT)
    assert merged.transactions == 60
    assert merged.transactions_by_kind["payment"] == 57
    assert merged.transactions_by_kind["open_account"] == 3
    assert list(merged.transactions_by_kind) == [kind.value for kind in OperationKind]
    assert merged.row_changes_by_table == {"accounts": TableChanges(3, 114, 0),
                                           "payments": TableChanges(57, 57, 0)}
    assert merged.elapsed_seconds == 2.5
    assert merged.achieved_rate == 24.0
    assert (merged.first_gtid, merged.last_gtid) == ("0-1001-11", "0-1001-90")
    assert (merged.seed, merged.target_rate, merged.connections) == (7, 1000.0, 3)
    assert (merged.marks_written, merged.marks_file) == (2, "/tmp/m.jsonl")
    assert merged.stopped_by is StopReason.DURATION


def test_a_stop_request_or_an_interrupted_worker_means_interrupted() -> None:
    parts = [part(5, 1.0, None, StopReason.TRANSACTIONS)] * 2
    assert merge_summaries(parts, CONTEXT).stopped_by is StopReason.TRANSACTIONS
    asked = replace(CONTEXT, interrupted=True)
    assert merge_summaries(parts, asked).stopped_by is StopReason.INTERRUPTED
    mixed = [parts[0], part(5, 1.0, None, StopReason.INTERRUPTED)]
    assert merge_summaries(mixed, CONTEXT).stopped_by is StopReason.INTERRUPTED


def test_merging_nothing_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="at least one"):
        merge_summaries([], CONTEXT)


def test_the_earliest_gtid_is_the_lowest_sequence_not_the_lowest_text() -> None:
    assert earliest_gtid(["0-1001-100", None, "0-1001-99"]) == "0-1001-99"
    assert earliest_gtid([None, None]) is None
    # MySQL's gtid_executed only grows: the earliest is the shortest set.
    assert earliest_gtid(["uuid:1-100", "uuid:1-99"]) == "uuid:1-99"


def test_the_last_gtid_is_the_runs_domain_of_the_final_position() -> None:
    assert last_gtid_of("0-1001-500,1-7-20", "0-1001-400") == "0-1001-500"
    assert last_gtid_of("0-1001-500, 3-1001-9", "3-1001-2") == "3-1001-9"
    assert last_gtid_of("0-1001-500", None) is None
    assert last_gtid_of("uuid:1-500", "uuid:1-400") == "uuid:1-500"


def test_the_summary_says_how_many_connections_wrote() -> None:
    merged = merge_summaries([part(10, 2.0, "0-1001-12")] * 4, CONTEXT)
    document = json.loads(format_json(SetupReport("payments", False, False, (), 0), merged))
    assert document["run"]["connections"] == 4
    assert "over 4 connections" in format_run(merged)
    alone = part(10, 2.0, "0-1001-12")
    assert alone.to_dict()["connections"] == 1
    assert "connections" not in format_run(alone)


def test_the_benchmarks_read_the_merged_summary() -> None:
    merged = merge_summaries([part(10, 2.0, "0-1001-12"), part(30, 2.5, "0-1001-11")],
                             CONTEXT)
    stdout = json.dumps({"setup": {}, "run": merged.to_dict()})
    run = parse_summary(stdout)
    assert (run.transactions, run.elapsed_s, run.connections) == (40, 2.5, 2)
    assert run.row_changes == merged.row_changes.total
    assert run.last_gtid == "0-1001-90"
    assert run.to_dict()["connections"] == 2


def test_the_workload_command_asks_for_connections() -> None:
    command = workload_command("db", rate=1000, seed=3, duration_s=12, connections=8,
                               python="py")
    assert command[command.index("--connections") + 1] == "8"
    assert "--connections" not in workload_command("db", rate=0, seed=1, transactions=5,
                                                   python="py")
    with pytest.raises(ValueError, match="at least one connection"):
        workload_command("db", rate=0, seed=1, transactions=5, connections=0)


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"CDC_SOURCE_ADMIN_DSN": ""})
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), f"unexpected exception: {result.exception!r}"
    return result.exit_code, result.output


def test_periodic_marks_need_one_connection() -> None:
    code, output = run_cli("--dsn", "mysql://u:p@127.0.0.1:1/", "--connections", "2",
                           "--marks-file", "/tmp/m.jsonl", "--mark-every", "1")
    assert code == 2
    assert "--mark-every needs --connections 1" in output
    assert "consistent point" in output


def test_connections_must_be_at_least_one_and_are_explained() -> None:
    code, output = run_cli("--dsn", "mysql://u:p@127.0.0.1:1/", "--connections", "0")
    assert code == 2
    assert "--connections" in output
    code, output = run_cli("--help")
    assert code == 0
    assert "--connections" in output
