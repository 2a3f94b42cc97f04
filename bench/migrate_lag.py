"""Live migration: sync-mode lag at given workload rates, and async-mode throughput.

``python -m bench.migrate_lag [--target mariadb|postgresql]... [--seconds S] [--json]`` (or
``make bench-migrate``). For each target (MariaDB first, then PostgreSQL):

1. a fresh source database gets the payments workload's tables, a probe table
   (``migrate_probe``: one row, ``sent_us``) and a warm-up of workload transactions; capture
   starts on it into topics of its own, and ``cdc snapshot`` takes a snapshot of it;
2. ``replayer migrate --mode sync`` loads the snapshot into an empty target (a throwaway
   MariaDB set up like the stack's target, or a fresh database on the stack's PostgreSQL,
   following the payments tables only: ``type_torture`` holds zero dates PostgreSQL cannot)
   and follows the changelog; a first probe reaching the target says it has caught up;
3. for each ``--rate`` (1,000 tx/s and 0 = as fast as the workload can, by default), the
   workload runs in a process of its own (over ``--connections`` sessions, one worker
   process each, sharing the rate) for ``--settle`` + ``--seconds``; from ``--settle``
   seconds after its first transaction until it ends, this process UPDATEs the probe row
   every ``--probe-interval-ms`` on the source (autocommit, the value a growing microsecond
   clock) while a thread polls the target every ``--poll-ms`` and notes when each value
   appears. A probe's lag is the time from just before its UPDATE until the target shows it
   (or a later value): MariaDB's whole-second commit times play no part. After the workload
   ends, one more probe reaching the target gives the drain time;
4. async: the migrate is stopped (SIGTERM), the workload writes about ``--backlog`` row
   changes as fast as it can, capture gets all of them into the changelog, then
   ``replayer migrate --mode async`` starts and is timed until the target's applied GTID is
   the backlog's last; ``replayer status`` then must say 0 transactions behind, and the row
   changes the migrate says it applied must be the workload's (in the tables migrated).

Processes are stopped with SIGTERM; the topics, the databases, the throwaway server and the
files are deleted at the end, unless --keep or a run failed.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import click

from bench.harness import machine
from bench.harness.capture_follow import FollowingCapture
from bench.harness.kafka_topics import delete_topics
from bench.harness.mariadb_binlog import find_binary
from bench.harness.mariadb_target import drop_databases, query
from bench.harness.migrate_config import MigrateBenchConfig, command_environment, write_config
from bench.harness.migrate_process import (
    MigrateProcess,
    MigrateProcessError,
    lag_transactions,
    migrate_command,
    replayer_status,
)
from bench.harness.migrate_report import format_json, format_text
from bench.harness.migrate_result import (
    AsyncThroughput,
    MigrateBenchResult,
    Settings,
    SyncLag,
    TargetResult,
)
from bench.harness.pipeline_sampler import PipelineSampler
from bench.harness.postgres_target import create_database, drop_database, server_version
from bench.harness.probe_lag import PROBE_TABLE, LagStats, probe_lags
from bench.harness.probe_run import ProbeSession, create_probe_table
from bench.harness.restore_rounds import dsn_text
from bench.harness.snapshot_take import take_snapshot
from bench.harness.stack_env import StackSettings
from bench.harness.target_session import TargetSession
from bench.harness.throwaway_target import free_port, throwaway_target
from bench.harness.workload_process import WorkloadProcess, WorkloadRun, workload_command
from bench.workload import RunOptions, connect, read_gtid_position, run_workload
from bench.workload import setup_database as setup_workload
from bench.workload.connection import server_version_at
from bench.workload.schema import PAYMENT_TABLES
from cdc.cli_errors import run_reporting_errors
from cdc.dsn import Dsn, parse_dsn
from cdc.errors import CdcError
from cdc.kafka.reader import watermarks
from cdc.position import GtidPosition, parse_gtid

ROWS_PER_TRANSACTION = 4.65  # of a payments workload transaction (BENCHMARKS.md)
WARMUP_TRANSACTIONS = 500  # before the snapshot, so that it holds accounts and payments
# The workload alone (15 s runs, no capture) on the 2-CPU stack machine: about 545 tx/s over
# 1 connection, 780 over 2, 840-940 over 4 and 815-900 over 8 (the same within the noise),
# 780-820 over 16. From 4 on both CPUs are busy, the server taking about half, so more
# connections only add switching. 1,000 tx/s is out of this machine's reach either way.
DEFAULT_CONNECTIONS = 8
POSTGRES_TABLES = tuple(name for name, _ in PAYMENT_TABLES)  # not type_torture: zero dates
TARGETS = ("mariadb", "postgresql")
_CATCH_UP_TIMEOUT_S = 1800.0


class MigrateBenchError(CdcError):
    """A step of the benchmark did not give what it must."""


@dataclass(frozen=True)
class Plan:
    targets: tuple[str, ...]
    rates: tuple[float, ...]
    seconds: float
    idle_seconds: float
    settle_s: float
    backlog: int
    probe_interval_s: float
    poll_s: float
    seed: int
    connections: int
    drain_timeout_s: float
    kafka_commit_interval_ms: int | None
    keep: bool

    @property
    def settings(self) -> Settings:
        return Settings(self.seconds, self.settle_s, self.probe_interval_s, self.poll_s,
                        self.backlog, self.kafka_commit_interval_ms, self.idle_seconds)


@dataclass(frozen=True)
class Stack:
    admin: Dsn
    admin_text: str  # as the workload takes it (in its environment)
    capture: Dsn
    bootstrap: str
    postgres: Dsn
    stack_dir: Path


@dataclass
class Run:
    """One target's run as it goes: what the steps found so far."""

    kind: str
    run_id: str
    database: str
    folder: Path
    config: MigrateBenchConfig
    tables: str
    domain: int = 0  # the GTID domain the workload commits in
    description: str = ""
    version: str = ""
    snapshot_rows: int = 0
    initial_catch_up_s: float | None = None
    sync: list[SyncLag] = field(default_factory=list)
    async_run: AsyncThroughput | None = None
    log_problems: list[str] = field(default_factory=list)
    watch_errors_after_catch_up: int = 0

    @property
    def config_path(self) -> Path:
        return self.folder / "bench.toml"

    @property
    def environment(self) -> dict[str, str]:
        return command_environment(self.config)

    @property
    def tables_migrated(self) -> frozenset[str] | None:
        return None if self.kind == "mariadb" else frozenset(POSTGRES_TABLES)

    def result(self, problem: str | None) -> TargetResult:
        tables = ("all of the database" if self.tables == "*" else
                  ", ".join(pattern.split(".", 1)[1] for pattern in self.tables.split(",")))
        return TargetResult(self.kind, self.description, self.version, tables,
                            self.snapshot_rows, self.initial_catch_up_s, tuple(self.sync),
                            self.async_run, problem, tuple(self.log_problems))


def say(message: str) -> None:
    click.echo(f"[bench] {message}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"],
                                 "max_content_width": 100})
@click.option("--target", "targets", type=click.Choice(TARGETS), multiple=True,
              help="Migrate into this (repeatable); MariaDB then PostgreSQL by default.")
@click.option("--rate", "rates", type=click.FloatRange(min=0), multiple=True,
              help="Workload transactions/s of a sync-mode lag run (repeatable); 0 = as fast "
                   "as it can. Default: 1000 and 0.")
@click.option("--seconds", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="How long probes measure the lag at each rate.")
@click.option("--idle-seconds", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="First, probes alone for this long (no workload): the pipeline's own "
                   "latency. 0 skips it.")
@click.option("--settle", "settle_s", type=click.FloatRange(min=0), default=2.0,
              show_default=True, help="Seconds of workload before the probes start.")
@click.option("--backlog", type=click.IntRange(min=100), default=50_000, show_default=True,
              help="Row changes (about: whole transactions) the async migrate applies.")
@click.option("--probe-interval-ms", type=click.IntRange(min=10), default=100,
              show_default=True, help="One probe UPDATE on the source this often.")
@click.option("--poll-ms", type=click.IntRange(min=1), default=5, show_default=True,
              help="The target's probe row is read this often.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the workload.")
@click.option("--connections", type=click.IntRange(min=1), default=DEFAULT_CONNECTIONS,
              show_default=True,
              help="Connections the workload writes over in the rate runs (each its own "
                   "process, on rows of its own, at rate / N): 1,000 tx/s is asked of all of "
                   "them together, and 'max' is what they drive together. The async "
                   "backlog is written over one.")
@click.option("--drain-timeout", "drain_timeout_s", type=click.FloatRange(min=1),
              default=600.0, show_default=True,
              help="Longest wait, after a workload run, for the target to catch up.")
@click.option("--kafka-commit-interval-ms", type=click.IntRange(min=1),
              help="Capture's Kafka commit interval; capture's default when not given.")
@click.option("--keep", is_flag=True,
              help="Keep the source databases, the topics, the PostgreSQL databases and the "
                   "files afterwards (the throwaway MariaDB always goes).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def main(*, targets: tuple[str, ...], rates: tuple[float, ...], seconds: float,
         idle_seconds: float, settle_s: float, backlog: int, probe_interval_ms: int,
         poll_ms: int, seed: int, connections: int, drain_timeout_s: float,
         kafka_commit_interval_ms: int | None, keep: bool, as_json: bool) -> None:
    """Sync-mode lag (p50/p99, by probes) at 1,000 tx/s and at the workload's highest rate,
    and async-mode throughput in row changes/s, of replayer migrate into MariaDB and
    PostgreSQL. Needs the local stack ('make up')."""
    settings = StackSettings(os.environ)
    admin_text = settings["CDC_SOURCE_ADMIN_DSN"]
    stack = Stack(parse_dsn(admin_text), admin_text,
                  parse_dsn(settings["CDC_SOURCE_CAPTURE_DSN"]),
                  settings["CDC_KAFKA_BOOTSTRAP"], parse_dsn(settings["CDC_POSTGRES_DSN"]),
                  settings.stack_dir)
    chosen = tuple(kind for kind in TARGETS if kind in targets) or TARGETS
    plan = Plan(chosen, rates or (1000.0, 0.0), seconds, idle_seconds, settle_s, backlog,
                probe_interval_ms / 1000, poll_ms / 1000, seed, connections, drain_timeout_s,
                kafka_commit_interval_ms, keep)
    result = benchmark(plan, stack, shlex.join(["python", "-m", "bench.migrate_lag",
                                                *sys.argv[1:]]))
    click.echo(format_json(result) if as_json else format_text(result))
    if result.failed:
        sys.exit(1)


def benchmark(plan: Plan, stack: Stack, command: str) -> MigrateBenchResult:
    results = [_target_run(plan, stack, kind) for kind in plan.targets]
    facts = machine.collect(server_version_at(stack.admin), stack.stack_dir, find_binary())
    return MigrateBenchResult(command, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                              facts, plan.settings, tuple(r for r, _ in results),
                              tuple(_notes(plan, results)))


def _target_run(plan: Plan, stack: Stack, kind: str) -> tuple[TargetResult, Run]:
    run_id = secrets.token_hex(4)
    database = f"bench_migrate_{run_id}"
    folder = Path(tempfile.mkdtemp(prefix="cdc-bench-migrate-"))
    config = MigrateBenchConfig(
        source=stack.capture, server_id=40_000 + secrets.randbelow(1_000_000),
        name=f"bench-migrate-{run_id}", bootstrap_servers=stack.bootstrap,
        topic_prefix=f"bench.migrate.{run_id}", include=(f"{database}.*",), start="current",
        store=folder / "store", kafka_commit_interval_ms=plan.kafka_commit_interval_ms,
        metrics_address=f"127.0.0.1:{free_port()}")
    tables = "*" if kind == "mariadb" else ",".join(
        f"{database}.{table}" for table in (*POSTGRES_TABLES, PROBE_TABLE))
    run = Run(kind, run_id, database, folder, config, tables)
    say(f"{kind}: source database {database}, topics {config.topic_prefix}.*, files {folder}")
    problem: str | None = None
    keep = plan.keep
    try:
        _measure(plan, stack, run)
    except CdcError as exc:
        problem = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
        say(f"{kind}: FAILED: {problem}")
        keep = True
    except BaseException:
        _say_kept(run, stack)
        raise
    finally:
        if not keep:
            _clean_up(stack, run)
    if keep:
        _say_kept(run, stack)
    return run.result(problem), run


def _measure(plan: Plan, stack: Stack, run: Run) -> None:
    with ExitStack() as stop_at_the_end:
        run.config = replace(run.config, start=f"gtid:{_prepare_source(stack, run)}")
        write_config(run.config, run.config_path)
        say(f"{run.kind}: starting capture")
        capture = stop_at_the_end.enter_context(FollowingCapture(
            run.config_path, run.environment, run.folder / "capture.log",
            bootstrap_servers=run.config.bootstrap_servers,
            changelog_topic=run.config.changelog_topic))
        capture.wait_until_streaming()
        capture.wait_for_first_record()
        snapshot = take_snapshot(run.config_path, run.database, run.environment)
        run.snapshot_rows = snapshot.rows
        say(f"{run.kind}: snapshot {snapshot.snapshot_id} ({snapshot.rows:,} rows)")
        target = stop_at_the_end.enter_context(_target(run, stack))
        target_text = dsn_text(target)
        migrate = stop_at_the_end.enter_context(MigrateProcess(
            _migrate_command(run, target_text, "sync"), run.environment,
            run.folder / "migrate-sync.log"))
        with ProbeSession(stack.admin, target, run.database, poll_s=plan.poll_s) as probes:
            say(f"{run.kind}: migrate --mode sync started; waiting for it to load the "
                "snapshot and catch up")
            first = probes.send()
            seen = _wait_seen(probes, migrate, first.value, _CATCH_UP_TIMEOUT_S,
                              "the snapshot load and catch-up")
            run.initial_catch_up_s = seen - migrate.started_at
            errors_before = probes.watch_errors
            if plan.idle_seconds > 0:
                run.sync.append(_idle_lag(plan, stack, run, probes, migrate))
                _say_sync(run, run.sync[-1])
            for index, rate in enumerate(plan.rates):
                run.sync.append(_sync_lag(plan, stack, run, probes, migrate, rate=rate,
                                          index=index))
                _say_sync(run, run.sync[-1])
            run.watch_errors_after_catch_up = probes.watch_errors - errors_before
        migrate.stop()
        run.log_problems += migrate.problems()
        run.async_run = _async_throughput(plan, stack, run, capture, target=target,
                                          target_text=target_text)


def _prepare_source(stack: Stack, run: Run) -> str:
    """The workload's tables, the probe table and a warm-up, before capture starts (they are
    in the snapshot, not the changelog); the source's GTID position afterwards."""
    connection = connect(stack.admin)
    try:
        setup_workload(connection, run.database)
        create_probe_table(connection, run.database)
        say(f"warm-up: {WARMUP_TRANSACTIONS} workload transactions on {run.database}")
        summary = run_workload(connection, RunOptions(database=run.database, seed=10_000,
                                                      transactions=WARMUP_TRANSACTIONS))
        position = read_gtid_position(connection)
        connection.rollback()  # nothing is left open on the source
    finally:
        connection.close()
    if summary.last_gtid is None:
        raise MigrateBenchError("the warm-up committed nothing", "check the source")
    run.domain = parse_gtid(summary.last_gtid).domain
    return position


@contextmanager
def _target(run: Run, stack: Stack) -> Iterator[Dsn]:
    if run.kind == "mariadb":
        say("starting a throwaway MariaDB target")
        with throwaway_target(f"bench-migrate-{run.run_id}") as target:
            [(version,)] = query(target, "SELECT VERSION()")
            run.description = "a throwaway MariaDB set up like the stack's target"
            run.version = f"MariaDB {version}"
            yield target
        return
    target = create_database(stack.postgres, run.database)
    run.description = "a fresh database on the stack's PostgreSQL (shared)"
    run.version = f"PostgreSQL {server_version(stack.postgres)}"
    yield target


def _migrate_command(run: Run, target_text: str, mode: str) -> list[str]:
    return migrate_command(run.config_path, target_text, mode,
                           tables=None if run.tables == "*" else run.tables)


def _sync_lag(plan: Plan, stack: Stack, run: Run, probes: ProbeSession,
              migrate: MigrateProcess, *, rate: float, index: int) -> SyncLag:
    label = f"{rate:,.0f} tx/s" if rate else "as fast as it can"
    say(f"{run.kind}: sync mode, workload at {label} over {plan.connections} connection(s) "
        f"for {plan.settle_s + plan.seconds:g} s")
    marks = run.folder / f"marks-{index}.jsonl"
    command = workload_command(run.database, rate=rate, seed=plan.seed + index,
                               duration_s=plan.settle_s + plan.seconds, marks_file=marks,
                               connections=plan.connections)
    with WorkloadProcess(command, stack.admin_text, run.folder / "workload.log",
                         os.environ) as workload:
        workload.wait_for_mark(marks, "start")
        settled = time.monotonic() + plan.settle_s
        while time.monotonic() < settled:
            migrate.check_alive()
            time.sleep(0.1)
        window_start = time.monotonic()
        with PipelineSampler(stack.admin, probes.target,
                             capture_metrics=run.config.metrics_address,
                             source_name=run.config.name, domain=run.domain) as sampler:
            sent = probes.send_every(plan.probe_interval_s, lambda: not workload.running())
        window = time.monotonic() - window_start
        summary = workload.finish(timeout_s=120)
    ended = time.monotonic()
    backlogs = sampler.backlogs()
    fence = probes.send()
    try:
        seen = _wait_seen(probes, migrate, fence.value, plan.drain_timeout_s,
                          "the end of the workload")
    except MigrateBenchError:
        lags = LagStats.of(probe_lags(sent, probes.observations(window_start)))
        run.sync.append(SyncLag(rate, summary, plan.probe_interval_s, window, lags, None,
                                backlogs))
        raise
    lags = LagStats.of(probe_lags(sent, probes.observations(window_start)))
    return SyncLag(rate, summary, plan.probe_interval_s, window, lags, max(0.0, seen - ended),
                   backlogs)


def _idle_lag(plan: Plan, stack: Stack, run: Run, probes: ProbeSession,
              migrate: MigrateProcess) -> SyncLag:
    """Probes alone, no workload: the latency the pipeline adds by itself."""
    say(f"{run.kind}: sync mode, probes only for {plan.idle_seconds:g} s")
    window_start = time.monotonic()
    with PipelineSampler(stack.admin, probes.target,
                         capture_metrics=run.config.metrics_address,
                         source_name=run.config.name, domain=run.domain) as sampler:
        sent = probes.send_every(
            plan.probe_interval_s,
            lambda: time.monotonic() - window_start >= plan.idle_seconds)
    window = time.monotonic() - window_start
    ended = time.monotonic()
    fence = probes.send()
    seen = _wait_seen(probes, migrate, fence.value, plan.drain_timeout_s, "the probes")
    lags = LagStats.of(probe_lags(sent, probes.observations(window_start)))
    nothing = WorkloadRun(0.0, 0, window, 0)
    return SyncLag(0.0, nothing, plan.probe_interval_s, window, lags, max(0.0, seen - ended),
                   sampler.backlogs(), idle=True)


def _wait_seen(probes: ProbeSession, migrate: MigrateProcess, value: int, timeout_s: float,
               what: str) -> float:
    """Until the target shows probe ``value``, checking that migrate still runs."""
    deadline = time.monotonic() + timeout_s
    while True:
        migrate.check_alive()
        seen = probes.wait_seen(value, min(1.0, max(0.0, deadline - time.monotonic())))
        if seen is not None:
            return seen
        if time.monotonic() >= deadline:
            raise MigrateBenchError(f"the target did not catch up with {what} within "
                                    f"{timeout_s:.0f} s", f"see {migrate.log_path}")


def _async_throughput(plan: Plan, stack: Stack, run: Run, capture: FollowingCapture, *,
                      target: Dsn, target_text: str) -> AsyncThroughput:
    transactions = max(1, round(plan.backlog / ROWS_PER_TRANSACTION))
    say(f"{run.kind}: async mode; writing a backlog of {transactions:,} workload transactions "
        "with the migrate stopped")
    command = workload_command(run.database, rate=0, seed=plan.seed + 1000,
                               transactions=transactions)
    with WorkloadProcess(command, stack.admin_text, run.folder / "workload.log",
                         os.environ) as workload:
        summary = workload.finish(timeout_s=7200)
    if summary.last_gtid is None:
        raise MigrateBenchError("the backlog's workload committed nothing", "check the source")
    say(f"{run.kind}: {summary.row_changes:,} row changes written in "
        f"{summary.elapsed_s:.1f} s; waiting for capture to have them all")
    capture.wait_until_captured(summary.last_gtid, timeout_s=7200)
    say(f"{run.kind}: migrate --mode async started on the backlog")
    session = TargetSession(target)
    try:
        with MigrateProcess(_migrate_command(run, target_text, "async"), run.environment,
                            run.folder / "migrate-async.log") as migrate:
            following = migrate.wait_following(timeout_s=300)
            caught_up = _wait_applied(session, run.config.name, summary.last_gtid, migrate)
            asked = time.monotonic()
            status = replayer_status(run.config_path, target_text, run.environment)
            status_s = time.monotonic() - asked
            behind = lag_transactions(status, run.config.name)
            applied = migrate.stop()
            run.log_problems += migrate.problems()
    finally:
        session.close()
    if applied is None:
        raise MigrateProcessError("replayer migrate did not say what it applied when stopped",
                                  f"see {run.folder / 'migrate-async.log'}")
    return AsyncThroughput(summary, applied.row_changes,
                           summary.row_changes_in(run.tables_migrated),
                           caught_up - migrate.started_at, caught_up - following, behind,
                           status_s, watermarks(run.config.bootstrap_servers,
                                                run.config.changelog_topic)[1])


def _wait_applied(session: TargetSession, source: str, last_gtid: str,
                  migrate: MigrateProcess, timeout_s: float = 7200) -> float:
    """Until the target's applied GTID is ``last_gtid`` or later; the monotonic time."""
    wanted = parse_gtid(last_gtid)
    deadline = time.monotonic() + timeout_s
    while True:
        applied = session.applied_gtid(source)
        now = time.monotonic()
        if applied is not None and GtidPosition.parse(applied).contains(wanted):
            return now
        migrate.check_alive()
        if now >= deadline:
            raise MigrateBenchError(f"the async migrate did not apply the backlog within "
                                    f"{timeout_s:.0f} s (applied: {applied})",
                                    f"see {migrate.log_path}")
        time.sleep(0.02)


def _say_sync(run: Run, lag: SyncLag) -> None:
    s = lag.stats
    p99 = "-" if s.p99_s is None else f"{s.p99_s:.3f} s"
    b = lag.backlogs
    behind = ("" if b is None else f"; behind at most: capture {b.capture_max}, migrate "
              f"{b.migrate_max} transactions ({b.samples} samples)")
    say(f"{run.kind}: {lag.workload.achieved_rate:,.1f} tx/s reached; probes {s.seen}/{s.sent}"
        f", lag p99 {p99}{behind}")


def _notes(plan: Plan, results: list[tuple[TargetResult, Run]]) -> list[str]:
    notes = [
        f"the probes add {1 / plan.probe_interval_s:g} transactions/s (one row change each) "
        "to the workload's rate; 'reached tx/s' and 'row changes/s' are the workload's own, "
        "from its summary (its whole run, settling included)",
        "a probe's lag counts from just before its UPDATE is sent, so it includes the "
        "source's own statement and commit; it is read to within the poll interval plus "
        "one SELECT on the target",
        "'last s' is the lag of the last probe of the window (near 'max s' when the lag "
        "grows through the run); 'drain s' is from the workload's end until a probe sent "
        "then reached the target",
        f"the workload writes over {plan.connections} connection(s) in the rate runs, one "
        "process each on rows of its own, the rate shared among them: 'max' is the rate they "
        "drive together on this machine while everything else runs on it; the async "
        "backlog is written over one connection",
    ]
    for result, run in results:
        if run.watch_errors_after_catch_up:
            notes.append(f"{result.title}: {run.watch_errors_after_catch_up} failed poll(s) "
                         "of the target after the first catch-up")
    return notes


def _say_kept(run: Run, stack: Stack) -> None:
    postgres = f", PostgreSQL database {run.database}" if run.kind == "postgresql" else ""
    say(f"kept for inspection: source database {run.database}, topics "
        f"{run.config.topic_prefix}.*{postgres}, {run.folder} (on {stack.admin.redacted()})")


def _clean_up(stack: Stack, run: Run) -> None:
    problems = delete_topics(stack.bootstrap, run.config.topics)
    try:
        drop_databases(stack.admin, [run.database])
    except CdcError as exc:
        problems.append(exc.message)
    if run.kind == "postgresql":
        try:
            drop_database(stack.postgres, run.database)
        except CdcError as exc:
            problems.append(exc.message)
    shutil.rmtree(run.folder, ignore_errors=True)
    for problem in problems:
        say(f"clean-up: {problem}")


if __name__ == "__main__":
    run_reporting_errors(main)
