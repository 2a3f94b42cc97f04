"""The workload against the stack's real MariaDB source: invariants, counts, marks, types."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.workload import (
    TORTURE_ROWS,
    TORTURE_TABLE,
    WORKLOAD_TABLES,
    RunOptions,
    RunSummary,
    connect,
    read_gtid_position,
    read_marks,
    read_torture_rows,
    run_workload,
    setup_database,
    write_mark,
)
from bench.workload.connection import MySQLConnection
from cdc.dsn import Dsn, parse_dsn
from tests.stack import REPO_ROOT, StackEnv

pytestmark = pytest.mark.integration

TRANSACTIONS = 200


class SteppingClock:
    """Real wall-clock time, but a monotonic clock that steps 10 ms per reading, so the
    number of periodic marks does not depend on how fast this machine is."""

    def __init__(self) -> None:
        self._now = 0.0

    def monotonic(self) -> float:
        self._now += 0.01
        return self._now

    def utc_now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        self._now += seconds


def fresh_database_name() -> str:
    return f"wl_test_{secrets.token_hex(4)}"


def drop_database(dsn: Dsn, name: str) -> None:
    connection = connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        connection.close()


def query(connection: MySQLConnection, sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = list(cursor.fetchall())
    connection.rollback()
    return rows


def row_counts(connection: MySQLConnection, database: str) -> dict[str, int]:
    return {
        table: int(query(connection, f"SELECT COUNT(*) FROM `{database}`.`{table}`")[0][0])
        for table, _ in WORKLOAD_TABLES
    }


def gtid_sequence(position: str, domain: int = 0) -> int:
    """The sequence number of ``domain`` in a MariaDB GTID position like 0-1001-35,1-7-2."""
    for gtid in position.split(","):
        gtid_domain, _, sequence = gtid.strip().split("-")
        if int(gtid_domain) == domain:
            return int(sequence)
    raise AssertionError(f"no domain {domain} in GTID position {position!r}")


@dataclass(frozen=True)
class CompletedRun:
    dsn: Dsn
    database: str
    summary: RunSummary
    counts_before: dict[str, int]
    counts_after: dict[str, int]
    marks_file: Path


@pytest.fixture(scope="module")
def source_dsn(stack_env: StackEnv) -> Dsn:
    return parse_dsn(stack_env["CDC_SOURCE_ADMIN_DSN"])


@pytest.fixture(scope="module")
def completed_run(source_dsn: Dsn, tmp_path_factory: pytest.TempPathFactory,
                  ) -> Iterator[CompletedRun]:
    database = fresh_database_name()
    marks_file = tmp_path_factory.mktemp("marks") / "marks.jsonl"
    connection = connect(source_dsn)
    try:
        setup_database(connection, database)
        before = row_counts(connection, database)
        options = RunOptions(database=database, seed=1234, rate=0, transactions=TRANSACTIONS,
                             marks_file=marks_file, mark_every=0.5)
        summary = run_workload(connection, options, clock=SteppingClock())
        after = row_counts(connection, database)
        yield CompletedRun(source_dsn, database, summary, before, after, marks_file)
    finally:
        connection.close()
        drop_database(source_dsn, database)


@pytest.fixture
def session(source_dsn: Dsn) -> Iterator[MySQLConnection]:
    connection = connect(source_dsn)
    yield connection
    connection.close()


def test_the_run_did_what_was_asked(completed_run: CompletedRun) -> None:
    summary = completed_run.summary
    assert summary.transactions == TRANSACTIONS
    assert sum(summary.transactions_by_kind.values()) == TRANSACTIONS
    assert summary.stopped_by.value == "transactions"
    # The mix really happened: money moved, refunds, deletes and torture writes ran.
    for kind in ("payment", "refund", "purge_failed_payment", "torture_rewrite"):
        assert summary.transactions_by_kind[kind] > 0, kind


def test_money_is_conserved_and_balances_match_the_ledger(
        completed_run: CompletedRun, session: MySQLConnection) -> None:
    database = completed_run.database
    total, nonzero = query(session, f"SELECT SUM(balance), SUM(balance <> 0) "
                                    f"FROM `{database}`.accounts")[0]
    assert total == Decimal("0.0000")
    assert int(str(nonzero)) > 0
    mismatched = query(session, f"""
        SELECT a.id, a.balance, COALESCE(SUM(CASE l.direction WHEN 'credit' THEN l.amount
                                                               ELSE -l.amount END), 0) AS net
        FROM `{database}`.accounts a LEFT JOIN `{database}`.ledger_entries l
             ON l.account_id = a.id
        GROUP BY a.id, a.balance HAVING a.balance <> net""")
    assert mismatched == []


def test_row_counts_match_the_summary(completed_run: CompletedRun,
                                      session: MySQLConnection) -> None:
    summary = completed_run.summary
    for table, changes in summary.row_changes_by_table.items():
        delta = completed_run.counts_after[table] - completed_run.counts_before[table]
        assert delta == changes.inserts - changes.deletes, table
    kinds = summary.transactions_by_kind
    after = completed_run.counts_after
    assert after["accounts"] == kinds["open_account"]
    assert after["refunds"] == kinds["refund"]
    assert after["ledger_entries"] == 2 * (kinds["payment"] + kinds["refund"])
    assert after["payments"] == (kinds["payment"] + kinds["failed_payment"]
                                 - kinds["purge_failed_payment"])
    statuses: dict[str, int] = dict(query(session, f"SELECT status, COUNT(*) FROM "
                                   f"`{completed_run.database}`.payments GROUP BY status"))
    assert statuses.get("refunded", 0) == kinds["refund"]
    assert statuses.get("settled", 0) == kinds["payment"] - kinds["refund"]
    assert statuses.get("failed", 0) == kinds["failed_payment"] - kinds["purge_failed_payment"]
    assert "pending" not in statuses
    assert summary.row_changes.total > 3 * TRANSACTIONS


def test_marks_record_advancing_gtids(completed_run: CompletedRun) -> None:
    summary = completed_run.summary
    marks = read_marks(completed_run.marks_file)
    assert len(marks) == summary.marks_written
    assert (marks[0].label, marks[0].transactions) == ("start", 0)
    assert (marks[-1].label, marks[-1].transactions) == ("end", TRANSACTIONS)
    periodic = marks[1:-1]
    assert periodic, "mark_every produced no periodic marks"
    assert [m.label for m in periodic] == [f"mark-{i}" for i in range(1, len(periodic) + 1)]
    assert [m.transactions for m in marks] == sorted(m.transactions for m in marks)
    assert [m.time for m in marks] == sorted(m.time for m in marks)
    sequences = [gtid_sequence(m.gtid) for m in marks]
    for earlier, later, seq_before, seq_after in zip(marks, marks[1:], sequences,
                                                     sequences[1:], strict=False):
        if later.transactions > earlier.transactions:
            # Each of our transactions has its own GTID; other sessions can only add more.
            assert seq_after - seq_before >= later.transactions - earlier.transactions
    assert summary.first_gtid is not None
    assert summary.last_gtid is not None
    assert sequences[0] < gtid_sequence(summary.first_gtid)
    assert gtid_sequence(summary.last_gtid) <= sequences[-1]
    lines = completed_run.marks_file.read_text().splitlines()
    assert all(json.loads(line)["time"].endswith("+00:00") for line in lines)


def test_torture_rows_read_back_equal_the_pure_data(completed_run: CompletedRun,
                                                    session: MySQLConnection) -> None:
    rewrites = completed_run.summary.transactions_by_kind["torture_rewrite"]
    assert rewrites > 0  # the rows went through updates, not only the initial insert
    actual = read_torture_rows(session, completed_run.database)
    assert sorted(actual) == [row.row_id for row in TORTURE_ROWS]
    for row in TORTURE_ROWS:
        for column, expected in row.values.items():
            got = actual[row.row_id][column]
            where = f"row {row.name}, column {column}"
            assert type(got) is type(expected), where
            assert got == expected, where
            if isinstance(expected, Decimal):
                assert str(got) == str(expected), f"{where}: scale differs"


def test_write_mark_on_demand_reads_the_current_gtid_position(
        session: MySQLConnection, tmp_path: Path) -> None:
    before = read_gtid_position(session)
    mark = write_mark(session, tmp_path / "m.jsonl", "manual", 0)
    after = read_gtid_position(session)
    assert gtid_sequence(before) <= gtid_sequence(mark.gtid) <= gtid_sequence(after)
    assert read_marks(tmp_path / "m.jsonl") == [mark]


def test_setup_is_idempotent_and_restores_missing_torture_rows(
        completed_run: CompletedRun, session: MySQLConnection) -> None:
    database = completed_run.database
    again = setup_database(session, database)
    assert not again.database_created
    assert again.tables_created == ()
    assert again.torture_rows_inserted == 0
    with session.cursor() as cursor:
        cursor.execute(f"DELETE FROM `{database}`.`{TORTURE_TABLE}` WHERE id = 6")
    session.commit()
    assert setup_database(session, database).torture_rows_inserted == 1
    assert read_torture_rows(session, database)[6] == dict(TORTURE_ROWS[5].values)


def test_same_seed_on_the_same_start_gives_the_same_transactions(source_dsn: Dsn) -> None:
    contents = []
    for _ in range(2):
        database = fresh_database_name()
        connection = connect(source_dsn)
        try:
            setup_database(connection, database)
            summary = run_workload(connection, RunOptions(database=database, seed=77,
                                                          transactions=120))
            payments = query(connection, f"SELECT id, reference, from_account_id, "
                                         f"to_account_id, amount, status, metadata "
                                         f"FROM `{database}`.payments ORDER BY id")
            contents.append((summary.transactions_by_kind, payments))
        finally:
            connection.close()
            drop_database(source_dsn, database)
    assert contents[0] == contents[1]
    assert len(contents[0][1]) > 10


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.workload", *args],
        capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        check=False,
    )


def test_cli_json_output_parses_and_reset_starts_over(source_dsn: Dsn, stack_env: StackEnv,
                                                      tmp_path: Path) -> None:
    database = fresh_database_name()
    dsn = stack_env["CDC_SOURCE_ADMIN_DSN"]
    marks_file = tmp_path / "marks.jsonl"
    try:
        first = run_cli("--dsn", dsn, "--database", database, "--transactions", "40",
                        "--seed", "5", "--json", "--marks-file", str(marks_file))
        assert first.returncode == 0, first.stderr
        document = json.loads(first.stdout)
        assert document["setup"]["database_created"] is True
        assert document["setup"]["torture_rows_inserted"] == len(TORTURE_ROWS)
        assert document["run"]["transactions"] == 40
        assert document["run"]["marks_written"] == 2
        assert gtid_sequence(document["run"]["last_gtid"]) - gtid_sequence(
            document["run"]["first_gtid"]) >= 39
        second = run_cli("--dsn", dsn, "--database", database, "--reset", "--setup-only",
                         "--json")
        assert second.returncode == 0, second.stderr
        reset = json.loads(second.stdout)
        assert reset["setup"]["reset"] is True
        assert reset["setup"]["database_created"] is True
        assert reset["run"] is None
        connection = connect(source_dsn)
        try:
            assert row_counts(connection, database)["payments"] == 0
        finally:
            connection.close()
    finally:
        drop_database(source_dsn, database)


def test_cli_text_summary_and_rate(stack_env: StackEnv, source_dsn: Dsn) -> None:
    database = fresh_database_name()
    try:
        result = run_cli("--dsn", stack_env["CDC_SOURCE_ADMIN_DSN"], "--database", database,
                         "--rate", "50", "--duration", "1")
        assert result.returncode == 0, result.stderr
        assert f"setup: database {database} created" in result.stdout
        assert "stopped after the requested duration" in result.stdout
        first_line = next(line for line in result.stdout.splitlines()
                          if line.startswith("run: "))
        transactions = int(first_line.split()[1])
        assert 40 <= transactions <= 51  # paced at 50/s for one second
    finally:
        drop_database(source_dsn, database)


def test_cli_refuses_to_reset_a_database_it_did_not_create(stack_env: StackEnv,
                                                           source_dsn: Dsn) -> None:
    database = fresh_database_name()
    connection = connect(source_dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{database}`")
            cursor.execute(f"CREATE TABLE `{database}`.customers (id INT PRIMARY KEY)")
        result = run_cli("--dsn", stack_env["CDC_SOURCE_ADMIN_DSN"], "--database", database,
                         "--reset", "--setup-only")
        assert result.returncode == 2
        assert "refusing to reset" in result.stderr
        assert "customers" in result.stderr
        assert "Traceback" not in result.stderr
        assert query(connection, f"SHOW TABLES FROM `{database}`") == [("customers",)]
    finally:
        connection.close()
        drop_database(source_dsn, database)


def test_cli_reports_access_denied_with_a_hint(stack_env: StackEnv) -> None:
    dsn = parse_dsn(stack_env["CDC_SOURCE_ADMIN_DSN"])
    wrong = f"mysql://{dsn.user}:not-the-password@{dsn.host}:{dsn.port}/"
    result = run_cli("--dsn", wrong, "--setup-only")
    assert result.returncode == 2
    assert "(1045)" in result.stderr
    assert "hint: check the user and password" in result.stderr
    assert "not-the-password" not in result.stderr
    assert result.stderr.strip().count("\n") == 0



def test_several_connections_write_disjoint_rows_and_add_up(
        stack_env: StackEnv, source_dsn: Dsn, session: MySQLConnection, tmp_path: Path) -> None:
    database = fresh_database_name()
    dsn = stack_env["CDC_SOURCE_ADMIN_DSN"]
    marks_file = tmp_path / "marks.jsonl"
    try:
        # One connection first, so the workers start from accounts and payments that cross
        # their partitions, as a benchmark's warm-up leaves them.
        warm_up = run_cli("--dsn", dsn, "--database", database, "--transactions", "150",
                          "--seed", "3", "--json")
        assert warm_up.returncode == 0, warm_up.stderr
        before = row_counts(session, database)
        result = run_cli("--dsn", dsn, "--database", database, "--connections", "4",
                         "--transactions", "600", "--seed", "4", "--json",
                         "--marks-file", str(marks_file))
        assert result.returncode == 0, result.stderr
        run = json.loads(result.stdout)["run"]
        assert (run["connections"], run["transactions"]) == (4, 600)
        assert run["stopped_by"] == "transactions"
        kinds = run["transactions_by_kind"]
        assert sum(kinds.values()) == 600
        after = row_counts(session, database)
        for table, changes in run["row_changes_by_table"].items():
            assert after[table] - before[table] == changes["inserts"] - changes["deletes"]
        assert after["payments"] - before["payments"] == (
            kinds["payment"] + kinds["failed_payment"] - kinds["purge_failed_payment"])
        assert after["ledger_entries"] - before["ledger_entries"] == 2 * (
            kinds["payment"] + kinds["refund"])
        assert after["refunds"] - before["refunds"] == kinds["refund"] > 0
        payments, references = query(session, f"SELECT COUNT(*), COUNT(DISTINCT reference) "
                                              f"FROM `{database}`.payments")[0]
        assert payments == references == after["payments"]
        total, = query(session, f"SELECT SUM(balance) FROM `{database}`.accounts")[0]
        assert total == Decimal("0.0000")
        assert query(session, f"SELECT COUNT(*) FROM `{database}`.payments "
                              f"WHERE status = 'pending'") == [(0,)]
        marks = read_marks(marks_file)
        assert [(m.label, m.transactions) for m in marks] == [("start", 0), ("end", 600)]
        first, last = run["first_gtid"], run["last_gtid"]
        assert gtid_sequence(marks[0].gtid) < gtid_sequence(first)
        assert gtid_sequence(last) - gtid_sequence(first) >= 599
        assert gtid_sequence(last) <= gtid_sequence(marks[1].gtid)
        assert read_torture_rows(session, database) == {
            row.row_id: dict(row.values) for row in TORTURE_ROWS}
    finally:
        drop_database(source_dsn, database)


def test_sigterm_stops_every_connection_after_its_transaction(
        stack_env: StackEnv, source_dsn: Dsn, session: MySQLConnection, tmp_path: Path) -> None:
    database = fresh_database_name()
    marks_file = tmp_path / "marks.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.workload", "--dsn", stack_env["CDC_SOURCE_ADMIN_DSN"],
         "--database", database, "--connections", "3", "--rate", "150", "--json",
         "--marks-file", str(marks_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not (marks_file.exists() and marks_file.read_text()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no start mark within 60 s"
            time.sleep(0.05)
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        run = json.loads(stdout)["run"]
        assert run["stopped_by"] == "interrupted"
        assert run["transactions"] > 0
        kinds = run["transactions_by_kind"]
        payments = row_counts(session, database)["payments"]
        assert payments == (kinds["payment"] + kinds["failed_payment"]
                            - kinds["purge_failed_payment"])
        assert [m.label for m in read_marks(marks_file)] == ["start", "end"]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        drop_database(source_dsn, database)
