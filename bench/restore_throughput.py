"""Restore throughput, side by side with the servers' own tools, on the same data in the
same run.

``python -m bench.restore_throughput [--rows N] [--changes M] [--runs R] [--json]`` (or
``make bench-restore``) fills a payments table of N rows and writes a payments workload of
about M row changes on the source while capture runs, with a snapshot of each taken before
the workload. Then R rounds, each running ours and the anchor one after the other on the
same data:

- load into MariaDB: ``replayer restore`` of the table's snapshot into an empty server,
  against ``mariadb < dump.sql`` of a ``mariadb-dump --single-transaction`` of the same table;
- load into PostgreSQL: ``replayer restore --target postgresql://...`` of the same snapshot,
  against ``psql`` running ``\\copy`` of the same rows (table without keys, rows, primary key,
  indexes: pg_dump's order). Reported as unavailable while the replayer cannot restore into
  PostgreSQL;
- replay: from the workload's snapshot loaded in an empty server (untimed), ``replayer
  restore --resume`` to the workload's last transaction, against ``mariadb-binlog | mariadb``
  of the same binlog range applied to the same starting state.

Every run is checked against the source (row counts and CHECKSUM TABLE in MariaDB; counts
and sums in PostgreSQL, plus a hash of every row between the two PostgreSQL copies). The
MariaDB restores go to a throwaway server set up like the stack's target (``--target stack``
uses the stack's own, dropping every database on it between runs). The source databases, the
topics and the files are deleted at the end unless --keep, or a run failed.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import click

from bench.harness import machine
from bench.harness.capture_follow import FollowingCapture
from bench.harness.changelog_count import count_committed
from bench.harness.copy_load import export_copy_file, load_script
from bench.harness.gtid_range import GtidRange
from bench.harness.kafka_topics import delete_topics
from bench.harness.mariadb_binlog import find_binary
from bench.harness.mariadb_dump import dump_database
from bench.harness.mariadb_target import drop_databases, empty_server, query, table_checks
from bench.harness.payments_table import fill_statement, payments_ddl
from bench.harness.postgres_target import create_database, drop_database, server_version
from bench.harness.restore_config import RestoreBenchConfig, command_environment, write_config
from bench.harness.restore_report import format_json, format_text
from bench.harness.restore_result import (
    MARIADB_LOAD,
    POSTGRES_LOAD,
    REPLAY,
    Comparison,
    DataFacts,
    RestoreBenchResult,
)
from bench.harness.restore_rounds import (
    Inputs,
    RunCheckError,
    Series,
    mariadb_load_round,
    postgres_load_round,
    replay_round,
)
from bench.harness.snapshot_take import take_snapshot
from bench.harness.stack_env import StackSettings
from bench.harness.table_fingerprint import aggregates_sql, normalised
from bench.harness.throwaway_target import throwaway_target
from bench.workload import RunOptions, RunSummary, connect, read_gtid_position, run_workload
from bench.workload import setup_database as setup_workload
from bench.workload.connection import MySQLConnection, server_version_at
from cdc.cli_errors import run_reporting_errors
from cdc.dsn import Dsn, parse_dsn
from cdc.errors import CdcError

# A payments workload transaction changes about 4.65 rows (BENCHMARKS.md).
ROWS_PER_TRANSACTION = 4.65
WARMUP_TRANSACTIONS = 500  # before the replay snapshot, so that it holds accounts and payments
MEASUREMENTS = {"mariadb-load": MARIADB_LOAD, "postgres-load": POSTGRES_LOAD, "replay": REPLAY}
# (title, unit, ours, anchor, the least ratio of ours to the anchor the issue asks for)
COMPARISONS = {
    MARIADB_LOAD: ("load into MariaDB", "rows/s", "replayer restore (snapshot)",
                   "mariadb < dump.sql (mariadb-dump)", 1.2),
    POSTGRES_LOAD: ("load into PostgreSQL", "rows/s", "replayer restore (snapshot)",
                    "psql \\copy, then keys and indexes", 0.8),
    REPLAY: ("replay", "row changes/s", "replayer restore --resume",
             "mariadb-binlog | mariadb", 1.5),
}
ROUNDS: dict[str, Callable[[Inputs, Series, Series], None]] = {
    MARIADB_LOAD: mariadb_load_round, POSTGRES_LOAD: postgres_load_round, REPLAY: replay_round,
}


@dataclass(frozen=True)
class Plan:
    rows: int
    changes: int
    runs: int
    seed: int
    keep: bool
    target: str  # "throwaway" or "stack"
    measure: frozenset[str]


@dataclass(frozen=True)
class Stack:
    admin: Dsn
    capture: Dsn
    bootstrap: str
    postgres: Dsn
    target: Dsn  # the stack's own MariaDB target
    stack_dir: Path


def say(message: str) -> None:
    click.echo(f"[bench] {message}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"],
                                 "max_content_width": 100})
@click.option("--rows", type=click.IntRange(min=1000), default=1_000_000, show_default=True,
              help="Rows of the payments table loaded into MariaDB and PostgreSQL.")
@click.option("--changes", type=click.IntRange(min=100), default=100_000, show_default=True,
              help="Row changes to replay (about: the workload writes whole transactions).")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Rounds of ours and the anchor; medians are reported.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the workload.")
@click.option("--only", "only", type=click.Choice(sorted(MEASUREMENTS)), multiple=True,
              help="Measure only this (repeatable); all three by default.")
@click.option("--target", "target", type=click.Choice(["throwaway", "stack"]),
              default="throwaway", show_default=True,
              help="Restore into a throwaway MariaDB set up like the stack's target, or into "
                   "the stack's target itself: then EVERY database on it is dropped between "
                   "runs.")
@click.option("--keep", is_flag=True,
              help="Keep the source databases, the topics and the files afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def main(*, rows: int, changes: int, runs: int, seed: int, only: tuple[str, ...], target: str,
         keep: bool, as_json: bool) -> None:
    """Restore throughput next to mariadb < dump.sql, psql \\copy and mariadb-binlog | mariadb,
    on the same data, side by side. Needs the local stack ('make up')."""
    settings = StackSettings(os.environ)
    stack = Stack(parse_dsn(settings["CDC_SOURCE_ADMIN_DSN"]),
                  parse_dsn(settings["CDC_SOURCE_CAPTURE_DSN"]),
                  settings["CDC_KAFKA_BOOTSTRAP"], parse_dsn(settings["CDC_POSTGRES_DSN"]),
                  parse_dsn(settings["CDC_TARGET_MARIADB_DSN"]), settings.stack_dir)
    measure = frozenset(MEASUREMENTS[name] for name in only) or frozenset(MEASUREMENTS.values())
    plan = Plan(rows, changes, runs, seed, keep, target, measure)
    result = benchmark(plan, stack, shlex.join(["python", "-m", "bench.restore_throughput",
                                                *sys.argv[1:]]))
    click.echo(format_json(result) if as_json else format_text(result))
    if result.failed:
        sys.exit(1)


def benchmark(plan: Plan, stack: Stack, command: str) -> RestoreBenchResult:
    run_id = secrets.token_hex(4)
    database = f"bench_restore_{run_id}"
    folder = Path(tempfile.mkdtemp(prefix="cdc-bench-restore-"))
    config = RestoreBenchConfig(
        source=stack.capture, server_id=40_000 + secrets.randbelow(1_000_000),
        name=f"bench-restore-{run_id}", bootstrap_servers=stack.bootstrap,
        topic_prefix=f"bench.restore.{run_id}", include=(f"{database}.*", f"{database}_w.*"),
        start="current", store=folder / "store")
    keep = plan.keep
    try:
        with _mariadb_target(plan, stack, run_id) as target:
            postgres = stack.postgres
            if POSTGRES_LOAD in plan.measure:
                postgres = create_database(stack.postgres, database)
            inputs = Inputs(folder / "bench.toml", {}, stack.capture, target, postgres,
                            database, f"{database}_w", rows=plan.rows)
            summary = _prepare(plan, stack, config, folder, inputs)
            comparisons = _measure(plan, inputs)
        if any(side.failed for c in comparisons for side in (c.ours, c.anchor)):
            keep = True  # the evidence stays for whoever looks into it
    except BaseException:
        keep = True
        say(f"kept for inspection: source databases {database} and {database}_w, topics "
            f"{config.topic_prefix}.*, PostgreSQL database {database} (if created), {folder}")
        raise
    finally:
        _clean_up(plan, stack, config, folder, database, keep=keep)
    facts = machine.collect(server_version_at(stack.admin), stack.stack_dir, find_binary())
    return RestoreBenchResult(
        command, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), facts,
        server_version(stack.postgres), _facts(plan, inputs, summary), comparisons,
        tuple(_notes(plan, inputs, summary, folder if keep else None)))


@contextmanager
def _mariadb_target(plan: Plan, stack: Stack, run_id: str) -> Iterator[Dsn]:
    if not plan.measure & {MARIADB_LOAD, REPLAY}:
        yield stack.target  # not written to
        return
    if plan.target == "stack":
        dropped = empty_server(stack.target)
        if dropped:
            say(f"dropped every database on the stack's target: {', '.join(dropped)}")
        yield stack.target
        return
    say("starting a throwaway MariaDB target")
    with throwaway_target(f"bench-restore-{run_id}") as target:
        yield target


def _prepare(plan: Plan, stack: Stack, config: RestoreBenchConfig, folder: Path,
             inputs: Inputs) -> RunSummary | None:
    """The data, the snapshots, the changelog and the anchors' inputs (all untimed)."""
    loads = bool(plan.measure & {MARIADB_LOAD, POSTGRES_LOAD})
    summary = None
    connection = connect(stack.admin)
    try:
        if loads:
            say(f"filling {inputs.database}.payments with {plan.rows:,} rows")
            _fill(connection, inputs.database, plan.rows)
        if REPLAY in plan.measure:
            say(f"setting up {inputs.workload_database} ({WARMUP_TRANSACTIONS} workload "
                "transactions)")
            setup_workload(connection, inputs.workload_database)
            run_workload(connection, RunOptions(database=inputs.workload_database,
                                                seed=plan.seed + 1000,
                                                transactions=WARMUP_TRANSACTIONS))
        # Capture starts here: the fill and the set-up are in the snapshots, not the changelog.
        config = replace(config, start=f"gtid:{read_gtid_position(connection)}")
        write_config(config, inputs.config)
        inputs.env = command_environment(config)
        with FollowingCapture(inputs.config, inputs.env, folder / "capture.log",
                              bootstrap_servers=config.bootstrap_servers,
                              changelog_topic=config.changelog_topic) as capture:
            capture.wait_until_streaming()
            # A heartbeat first, so that the changelog does not begin with a row change and
            # each snapshot's replay start (anchor_wait) is found past offset 0. Today the
            # replayer records offset 0 as applied after a load with nothing to replay, and
            # refuses a changelog that begins, at an unknown replay start, after a GTID jump
            # (other sessions' transactions on the shared source).
            capture.wait_for_first_record()
            if loads:
                inputs.load_snapshot = take_snapshot(inputs.config, f"{inputs.database}.payments",
                                                     inputs.env)
                say(f"snapshot {inputs.load_snapshot.snapshot_id} of {inputs.database}.payments")
            if REPLAY in plan.measure:
                summary = _write_replay_range(plan, connection, capture, inputs)
    finally:
        connection.close()
    _check_changelog(config, summary)
    _prepare_anchors(plan, stack, config, folder, inputs)
    return summary


def _fill(connection: MySQLConnection, database: str, rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{database}`")
        cursor.execute(f"USE `{database}`")
        cursor.execute(payments_ddl())
        cursor.execute(fill_statement(rows))
    connection.commit()


def _write_replay_range(plan: Plan, connection: MySQLConnection, capture: FollowingCapture,
                        inputs: Inputs) -> RunSummary:
    snapshot = take_snapshot(inputs.config, inputs.workload_database, inputs.env)
    inputs.replay_snapshot = snapshot
    transactions = max(1, round(plan.changes / ROWS_PER_TRANSACTION))
    say(f"snapshot {snapshot.snapshot_id} of {inputs.workload_database}; writing "
        f"{transactions:,} workload transactions")
    summary = run_workload(connection, RunOptions(database=inputs.workload_database,
                                                  seed=plan.seed, transactions=transactions))
    inputs.replay_stop = read_gtid_position(connection)
    if summary.last_gtid is None:
        raise RunCheckError("the workload committed nothing", "check the source")
    inputs.replay_last_gtid = summary.last_gtid
    inputs.row_changes = summary.row_changes.total
    say(f"{inputs.row_changes:,} row changes written in {summary.elapsed_seconds:.1f} s; "
        "waiting for capture to catch up")
    capture.wait_until_captured(summary.last_gtid, timeout_s=3600)
    return summary


def _check_changelog(config: RestoreBenchConfig, summary: RunSummary | None) -> None:
    """The changelog holds exactly the workload's row changes, each once."""
    counted = count_committed(config.bootstrap_servers, config.changelog_topic)
    expected = summary.row_changes.total if summary is not None else 0
    if counted.row_changes != expected or counted.duplicates:
        raise RunCheckError(
            f"the changelog holds {counted.row_changes:,} row changes "
            f"({counted.duplicates} twice); the workload wrote {expected:,}",
            "capture must write every row change of the benchmark's databases exactly once")


def _prepare_anchors(plan: Plan, stack: Stack, config: RestoreBenchConfig, folder: Path,
                     inputs: Inputs) -> None:
    """The anchors' inputs, and what each run is checked against."""
    if MARIADB_LOAD in plan.measure:
        inputs.dump = folder / "dump.sql"
        say("dumping the table with mariadb-dump --single-transaction")
        inputs.dump_bytes = dump_database(stack.admin, inputs.database, inputs.dump)
    if plan.measure & {MARIADB_LOAD, POSTGRES_LOAD}:
        inputs.load_checks = table_checks(stack.admin, inputs.database)
    if POSTGRES_LOAD in plan.measure and inputs.load_snapshot is not None:
        say("writing the snapshot's rows as COPY text")
        copy = export_copy_file(str(config.store), inputs.load_snapshot.snapshot_id,
                                inputs.database, "payments", folder / "payments.copy")
        inputs.copy_bytes = copy.path.stat().st_size
        inputs.copy_script = folder / "load.sql"
        inputs.copy_script.write_text(load_script(copy))
        [values] = query(stack.admin, aggregates_sql(f"`{inputs.database}`.payments"))
        inputs.aggregates = normalised(values)
    if REPLAY in plan.measure:
        inputs.replay_checks = table_checks(stack.admin, inputs.workload_database)


def _measure(plan: Plan, inputs: Inputs) -> tuple[Comparison, ...]:
    """``plan.runs`` rounds, each running every comparison's ours then its anchor."""
    keys = [key for key in COMPARISONS if key in plan.measure]
    series = {key: (Series(COMPARISONS[key][2]), Series(COMPARISONS[key][3])) for key in keys}
    for number in range(1, plan.runs + 1):
        say(f"round {number} of {plan.runs}")
        for key in keys:
            ours, anchor = series[key]
            ROUNDS[key](inputs, ours, anchor)
            say(f"  {COMPARISONS[key][0]}: ours {_seconds(ours.seconds[-1])}, anchor "
                f"{_seconds(anchor.seconds[-1])}")
    counts = {MARIADB_LOAD: plan.rows, POSTGRES_LOAD: plan.rows, REPLAY: inputs.row_changes}
    return tuple(
        Comparison(key, COMPARISONS[key][0], COMPARISONS[key][1], counts[key],
                   series[key][0].side(), series[key][1].side(), COMPARISONS[key][4],
                   tuple(zip(series[key][0].seconds, series[key][1].seconds, strict=True)))
        for key in keys)


def _facts(plan: Plan, inputs: Inputs, summary: RunSummary | None) -> DataFacts:
    totals = summary.row_changes if summary is not None else None
    load, replay = inputs.load_snapshot, inputs.replay_snapshot
    return DataFacts(
        database=inputs.database, rows=plan.rows,
        dump_bytes=inputs.dump_bytes,
        snapshot_bytes=load.bytes if load else 0,
        copy_bytes=inputs.copy_bytes,
        workload_database=inputs.workload_database,
        workload_transactions=summary.transactions if summary else 0,
        row_changes=inputs.row_changes,
        row_changes_by_kind={"inserts": totals.inserts, "updates": totals.updates,
                             "deletes": totals.deletes} if totals else {},
        replay_start=replay.anchor_gtid_position if replay else "",
        replay_end=inputs.replay_last_gtid,
        replay_snapshot_rows=replay.rows if replay else 0,
        target=("a throwaway MariaDB set up like the stack's target" if plan.target ==
                "throwaway" else "the stack's target"))


def _notes(plan: Plan, inputs: Inputs, summary: RunSummary | None,
           kept: Path | None) -> list[str]:
    notes = ["ours is the whole 'python -m replayer restore' process: start-up, reading the "
             "snapshot catalog and the changelog to plan, the load or replay, exit"]
    if POSTGRES_LOAD in plan.measure:
        notes.append("psql \\copy: one psql -f script creating the schema and the table "
                     "without keys (its CHECKs inline), \\copy of the rows from a file of COPY "
                     "text, then ADD PRIMARY KEY and the secondary indexes, pg_dump's order")
    replay = inputs.replay_snapshot
    if summary is not None and replay is not None and inputs.replay_stop:
        others = GtidRange.parse(replay.anchor_gtid_position, inputs.replay_stop).transactions \
            - summary.transactions
        if others > 0:
            notes.append(f"{others:,} transaction(s) of other sessions were committed on the "
                         "source inside the replay range; mariadb-binlog leaves them out "
                         "(--database), capture never recorded them")
    notes += inputs.notes
    if kept is not None:
        notes.append(f"kept for inspection: source databases {inputs.database} and "
                     f"{inputs.workload_database}, the topics, PostgreSQL database "
                     f"{inputs.database}, and {kept}")
    return notes


def _clean_up(plan: Plan, stack: Stack, config: RestoreBenchConfig, folder: Path,
              database: str, *, keep: bool) -> None:
    if keep:
        return
    problems = delete_topics(stack.bootstrap, config.topics)
    for name in (database, f"{database}_w"):
        try:
            drop_databases(stack.admin, [name])
        except CdcError as exc:
            problems.append(exc.message)
    if POSTGRES_LOAD in plan.measure:
        try:
            drop_database(stack.postgres, database)
        except CdcError as exc:
            problems.append(exc.message)
    shutil.rmtree(folder, ignore_errors=True)
    for problem in problems:
        say(f"clean-up: {problem}")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    run_reporting_errors(main)
