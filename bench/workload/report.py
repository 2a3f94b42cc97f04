"""Renders the setup report and the run summary for people (text) and programs (JSON)."""

from __future__ import annotations

import json

from bench.workload.limits import StopReason
from bench.workload.provision import SetupReport
from bench.workload.summary import RunSummary

_STOPPED_BY = {
    StopReason.TRANSACTIONS: "after the requested number of transactions",
    StopReason.DURATION: "after the requested duration",
    StopReason.INTERRUPTED: "when interrupted",
}


def setup_to_dict(report: SetupReport) -> dict[str, object]:
    return {
        "database": report.database,
        "reset": report.was_reset,
        "database_created": report.database_created,
        "tables_created": list(report.tables_created),
        "torture_rows_inserted": report.torture_rows_inserted,
    }


def format_json(setup: SetupReport, run: RunSummary | None) -> str:
    return json.dumps({"setup": setup_to_dict(setup),
                       "run": run.to_dict() if run is not None else None},
                      ensure_ascii=False)


def format_setup(report: SetupReport) -> str:
    if report.database_created:
        verb = "dropped and recreated" if report.was_reset else "created"
        database = f"database {report.database} {verb}"
    else:
        database = f"database {report.database} already existed"
    tables = ", ".join(report.tables_created) if report.tables_created else "none (all existed)"
    return (f"setup: {database}; tables created: {tables}; "
            f"type-torture rows inserted: {report.torture_rows_inserted}")


def format_run(summary: RunSummary) -> str:
    target = (f"{summary.target_rate:g} tx/s" if summary.target_rate > 0
              else "as fast as possible")
    lines = [
        f"run: {summary.transactions} transactions on {summary.database} in "
        f"{summary.elapsed_seconds:.3f} s = {summary.achieved_rate:.1f} tx/s "
        f"(target {target}){_over(summary.connections)}, seed {summary.seed}, "
        f"stopped {_STOPPED_BY[summary.stopped_by]}",
        "transactions by kind:",
    ]
    lines += [f"  {kind:<24}{count:>10}" for kind, count in summary.transactions_by_kind.items()]
    totals = summary.row_changes
    lines.append(f"row changes: {totals.total} (inserts {totals.inserts}, updates "
                 f"{totals.updates}, deletes {totals.deletes})")
    lines.append(f"  {'table':<24}{'inserts':>10}{'updates':>10}{'deletes':>10}")
    lines += [
        f"  {table:<24}{c.inserts:>10}{c.updates:>10}{c.deletes:>10}"
        for table, c in summary.row_changes_by_table.items()
    ]
    lines.append(f"GTIDs: first {summary.first_gtid or '-'}, last {summary.last_gtid or '-'}")
    if summary.marks_file is not None:
        lines.append(f"marks: {summary.marks_written} written to {summary.marks_file}")
    else:
        lines.append("marks: none (no --marks-file)")
    return "\n".join(lines)


def _over(connections: int) -> str:
    return f" over {connections} connections" if connections > 1 else ""
