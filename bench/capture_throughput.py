"""Capture throughput, side by side with its baselines, on one binlog range.

``python -m bench.capture_throughput [--transactions N] [--runs R] [--json]`` (or
``make bench``) writes the payments workload into a fresh database, then reads the binlog
range it wrote R times with each of:

- ``mariadb-binlog`` decoding the rows to text (the server's own tool, in C);
- the binlog library (mysql-replication) decoding every row, and nothing more: as shipped,
  and with its table-map cache on (``freeze_schema``, which capture's reader uses);
- ``cdc capture --until-caught-up``: binlog to committed Kafka transactions, end to end;
- ``cdc capture`` on an empty range: its fixed cost of starting and stopping.

The runs are interleaved (one of each, R times), so a noisy neighbour slows all of them
alike, and the table gives medians and the ratios between them. Every reader must see
exactly the row changes the workload wrote; capture's are counted by reading its changelog
back with read_committed (untimed), which also finds any row change written twice. The
database and the topics are deleted at the end unless --keep is given.
"""

from __future__ import annotations

import os
import random
import secrets
import shlex
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from bench.harness import machine
from bench.harness.capture_config import CaptureRunConfig
from bench.harness.capture_run import (
    CaptureOutcome,
    CaptureRunError,
    check_capture_available,
    run_capture,
)
from bench.harness.changelog_count import count_committed
from bench.harness.kafka_topics import delete_topics
from bench.harness.mariadb_binlog import (
    BinlogRead,
    MariadbBinlogError,
    find_binary,
    run_counting_rows,
    run_to_devnull,
)
from bench.harness.raw_decode import RawDecodeError, decode_range
from bench.harness.report import format_json, format_text
from bench.harness.result import (
    CAPTURE,
    CAPTURE_STARTUP,
    MARIADB_BINLOG,
    RAW_DECODE,
    RAW_DECODE_CACHED,
    WORKLOAD,
    BenchResult,
    Measurement,
    RangeFacts,
    workers_key,
    workers_of,
)
from bench.harness.stack_env import StackSettings
from bench.harness.timing import time_call
from bench.harness.workload_range import WrittenRange, drop_database, write_range
from cdc.cli_errors import run_reporting_errors
from cdc.dsn import Dsn, parse_dsn
from cdc.errors import CdcError
from cdc.kafka.errors import KafkaUnavailableError
from cdc.position import GtidPosition

# A payments workload transaction changes 4.6 rows on average (most are payments: a
# payment row, two ledger entries, two balances, the payment settled), so this gives
# about 100,000 row changes.
DEFAULT_TRANSACTIONS = 21_600
DEFAULT_RUNS = 3

LABELS = {
    WORKLOAD: "workload generation (writing the range, 1 run)",
    MARIADB_BINLOG: "mariadb-binlog -R --base64-output=decode-rows -v",
    RAW_DECODE: "binlog library raw decode (mysql-replication)",
    RAW_DECODE_CACHED: "binlog library raw decode, table maps cached",
    CAPTURE: "cdc capture --until-caught-up (binlog -> Kafka), default workers",
    CAPTURE_STARTUP: "cdc capture start-up and exit (empty range)",
}


class RangeMismatchError(CdcError):
    """A reader saw a different number of row changes than the workload wrote."""


class InterruptedRunError(CdcError):
    """A run was disturbed (capture restarted after losing a server): its time is void."""


# A run that fails with one of these lost a server midway; the round is run again.
INTERRUPTIONS = (InterruptedRunError, MariadbBinlogError, RawDecodeError, CaptureRunError,
                 KafkaUnavailableError)
ROUND_ATTEMPTS = 3


@dataclass(frozen=True)
class Plan:
    transactions: int
    runs: int
    seed: int
    with_capture: bool
    keep: bool
    capture_timeout_s: float
    scaling: tuple[int, ...] = ()
    """Worker counts capture also runs with, beside its default (the cores)."""


@dataclass(frozen=True)
class Stack:
    admin: Dsn
    capture: Dsn
    bootstrap: str
    stack_dir: Path


def say(message: str) -> None:
    click.echo(f"[bench] {message}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"],
                                 "max_content_width": 100})
@click.option("--transactions", type=click.IntRange(min=1), default=DEFAULT_TRANSACTIONS,
              show_default=True, metavar="N",
              help="Workload transactions to write (about 4.6 row changes each).")
@click.option("--runs", type=click.IntRange(min=1), default=DEFAULT_RUNS, show_default=True,
              metavar="R", help="Runs of each reader over the same range; medians are reported.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the workload.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--skip-capture", is_flag=True,
              help="Leave out the capture measurements (when 'cdc capture' is not available).")
@click.option("--keep", is_flag=True,
              help="Keep the benchmark database and the capture topics afterwards.")
@click.option("--capture-timeout", type=click.FloatRange(min=1), default=1800.0,
              show_default=True, metavar="SECONDS", help="Give up on a capture run after this.")
@click.option("--scaling", default="0,1", show_default=True, metavar="COUNTS",
              help="Worker counts capture also runs with in each round, beside its default "
                   "(the cores): 0 decodes in the capture process; '' for none.")
def main(*, transactions: int, runs: int, seed: int, as_json: bool, skip_capture: bool,
         keep: bool, capture_timeout: float, scaling: str) -> None:
    """Measure capture's throughput against mariadb-binlog and the binlog library's raw
    decode, on the same binlog range, side by side, and capture's scaling with its decoding
    workers. Needs the local stack ('make up')."""
    counts = tuple(int(part) for part in scaling.split(",") if part.strip())
    plan = Plan(transactions, runs, seed, not skip_capture, keep, capture_timeout, counts)
    settings = StackSettings(os.environ)
    stack = Stack(parse_dsn(settings["CDC_SOURCE_ADMIN_DSN"]),
                  parse_dsn(settings["CDC_SOURCE_CAPTURE_DSN"]),
                  settings["CDC_KAFKA_BOOTSTRAP"], settings.stack_dir)
    if plan.with_capture:
        check_capture_available()
    result = benchmark(plan, stack, command=_command_line())
    click.echo(format_json(result) if as_json else format_text(result))


def benchmark(plan: Plan, stack: Stack, command: str) -> BenchResult:
    run_id = secrets.token_hex(4)
    database = f"bench_capture_{run_id}"
    binary = find_binary()
    topics: list[str] = []
    keep = plan.keep
    say(f"writing {plan.transactions:,} workload transactions into {database}")
    try:
        written = write_range(stack.admin, database, plan.transactions, plan.seed)
        say(f"range after {written.range.start} up to {written.range.end}: "
            f"{written.summary.row_changes.total:,} row changes written in "
            f"{written.summary.elapsed_seconds:.1f} s")
        read = BinlogRead(stack.capture, written.start.file, written.range, database, binary)
        _expect("mariadb-binlog", run_counting_rows(read), written)  # untimed check
        series, notes = _measure(plan, stack, written, read, run_id=run_id, topics=topics)
    except RangeMismatchError as exc:
        keep = True  # the evidence stays for whoever looks into it
        raise RangeMismatchError(exc.message, f"{exc.hint}; kept for that: database "
                                 f"{database}, topics {', '.join(topics) or '(none)'}") from None
    finally:
        if not keep:
            _clean_up(stack, database, topics)
    expected = written.summary.row_changes.total
    measurements = [Measurement(WORKLOAD, LABELS[WORKLOAD], expected,
                                (written.summary.elapsed_seconds,))]
    measurements += [Measurement(key, _label(key), 0 if key == CAPTURE_STARTUP else expected,
                                 tuple(values)) for key, values in series.items() if values]
    facts = machine.collect(written.server_version, stack.stack_dir, binary)
    return BenchResult(command, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), facts,
                       _range_facts(written, database), tuple(measurements), tuple(notes))


def _measure(plan: Plan, stack: Stack, written: WrittenRange, read: BinlogRead, *,
             run_id: str, topics: list[str]) -> tuple[dict[str, list[float]], list[str]]:
    """Run every reader once per round, ``plan.runs`` rounds; check each saw the range.

    A round cut short by a lost server (a neighbour restarting the stack) is run again, up
    to ``ROUND_ATTEMPTS`` times, and said so in the notes: its timings would mean nothing.
    """
    series: dict[str, list[float]] = {key: [] for key in LABELS if key != WORKLOAD}
    series.update({workers_key(count): [] for count in plan.scaling})
    notes: list[str] = []
    transactions_seen = 0
    for number in range(1, plan.runs + 1):
        for attempt in range(1, ROUND_ATTEMPTS + 1):
            say(f"run {number} of {plan.runs}" + (f", attempt {attempt}" if attempt > 1 else ""))
            tag = str(number) if attempt == 1 else f"{number}{'abcdefgh'[attempt - 1]}"
            try:
                seconds, round_notes, transactions_seen = _round(
                    plan, stack, written, read, run_id=run_id, tag=tag, topics=topics)
            except INTERRUPTIONS as exc:
                if attempt == ROUND_ATTEMPTS:
                    raise
                notes.append(f"run {number} was repeated after: {exc.message}")
                say(f"  interrupted, running it again: {exc.message}")
                continue
            for key, value in seconds.items():
                series[key].append(value)
            notes += round_notes
            say("  " + ", ".join(f"{key} {value:.2f} s" for key, value in seconds.items()))
            break
    return series, notes + _range_notes(written, transactions_seen)


def _round(plan: Plan, stack: Stack, written: WrittenRange, read: BinlogRead, *,
           run_id: str, tag: str, topics: list[str]) -> tuple[dict[str, float], list[str], int]:
    """One run of each reader: their seconds, notes, and the transactions in the range."""
    seconds: dict[str, float] = {MARIADB_BINLOG: time_call(lambda: run_to_devnull(read))[1]}
    decoded, seconds[RAW_DECODE] = time_call(lambda: decode_range(
        stack.capture, _server_id(), written.range, read.database))
    _expect("the binlog library", decoded.row_changes, written)
    cached, seconds[RAW_DECODE_CACHED] = time_call(lambda: decode_range(
        stack.capture, _server_id(), written.range, read.database, cache_table_maps=True))
    _expect("the binlog library (table maps cached)", cached.row_changes, written)
    notes: list[str] = []
    if plan.with_capture:
        config = _capture_config(stack, read, f"gtid:{written.range.start}", run_id, f"r{tag}")
        outcome, seconds[CAPTURE] = _capture(plan, config, topics)
        notes += _check_capture(tag, config, outcome, written)
        for count in plan.scaling:
            scaled = _capture_config(stack, read, f"gtid:{written.range.start}", run_id,
                                     f"w{count}r{tag}", workers=count)
            outcome, seconds[workers_key(count)] = _capture(plan, scaled, topics)
            notes += _check_capture(f"{tag} with {count} workers", scaled, outcome, written)
        empty = _capture_config(stack, read, "current", run_id, f"e{tag}")
        startup, seconds[CAPTURE_STARTUP] = _capture(plan, empty, topics)
        _refuse_restarts(f"{tag} (empty range)", startup)
    return seconds, notes, decoded.transactions


def _refuse_restarts(tag: str, outcome: CaptureOutcome) -> None:
    restarts = [line for line in outcome.log_problems if "restart" in line]
    if restarts:
        raise InterruptedRunError(f"capture run {tag} restarted: {restarts[0]}")


def _check_capture(tag: str, config: CaptureRunConfig, outcome: CaptureOutcome,
                   written: WrittenRange) -> list[str]:
    """Check that the changelog holds every row change exactly once (read back, untimed);
    return notes on anything else worth knowing about the run."""
    _refuse_restarts(tag, outcome)
    committed = count_committed(config.bootstrap_servers, config.topics[0])
    _expect(f"the changelog of capture run {tag} (committed records with a key)",
            committed.row_changes, written)
    if committed.duplicates:
        raise RangeMismatchError(
            f"the changelog of capture run {tag} holds {committed.duplicates} row "
            "change(s) twice", "capture must write every row change exactly once")
    notes = [f"capture run {tag} logged: {line}" for line in outcome.log_problems[:5]]
    expected = written.summary.row_changes.total
    if outcome.records != expected:
        notes.append(f"capture run {tag} reported {outcome.records:,} records written, the "
                     f"changelog holds {committed.row_changes:,} committed row changes (each "
                     "once); capture's counter also counts the records of Kafka transactions "
                     "that were aborted and written again after a restart")
    beyond = written.range.transactions_beyond(GtidPosition.parse(outcome.gtid_position))
    if beyond:
        notes.append(f"capture run {tag} read {beyond} transaction(s) of other sessions "
                     "past the range before it was caught up")
    return notes


def _capture_config(stack: Stack, read: BinlogRead, start: str, run_id: str,
                    tag: str, *, workers: int | None = None) -> CaptureRunConfig:
    return CaptureRunConfig(
        source=stack.capture, server_id=_server_id(), name=f"bench-{run_id}-{tag}",
        bootstrap_servers=stack.bootstrap, topic_prefix=f"bench.{run_id}.{tag}",
        include=(f"{read.database}.*",), start=start, workers=workers)


def _label(key: str) -> str:
    count = workers_of(key)
    if count is None:
        return LABELS[key]
    if count == 0:
        return "cdc capture --workers 0 (decoding in the capture process)"
    return f"cdc capture --workers {count}"


def _capture(plan: Plan, config: CaptureRunConfig,
             topics: list[str]) -> tuple[CaptureOutcome, float]:
    topics.extend(config.topics)
    with tempfile.TemporaryDirectory(prefix="cdc-bench-") as folder:
        return time_call(lambda: run_capture(config, Path(folder), plan.capture_timeout_s))


def _server_id() -> int:
    """A replica server id no other reader uses (two readers with one id kick each other
    off): 40000 plus a random number."""
    return 40_000 + random.SystemRandom().randrange(1_000_000)


def _expect(reader: str, seen: int, written: WrittenRange) -> None:
    expected = written.summary.row_changes.total
    if seen != expected:
        raise RangeMismatchError(
            f"{reader} saw {seen:,} row changes in the range, the workload wrote {expected:,}",
            "the readers must read the same range; rerun, and if it persists, compare the "
            "range by hand with mariadb-binlog")


def _range_notes(written: WrittenRange, transactions_seen: int) -> list[str]:
    others = written.range.transactions - written.summary.transactions
    if others <= 0:
        return []
    return [f"{others} transaction(s) of other sessions were committed inside the range; "
            "every reader receives them, mariadb-binlog and the library skip their rows by "
            f"database (the library saw {transactions_seen} transactions in all)"]


def _range_facts(written: WrittenRange, database: str) -> RangeFacts:
    totals = written.summary.row_changes
    return RangeFacts(
        database=database, start_gtid=str(written.range.start), end_gtid=str(written.range.end),
        first_binlog_file=written.start.file, binlog_bytes=written.binlog_bytes,
        transactions_in_range=written.range.transactions,
        workload_transactions=written.summary.transactions, row_changes=totals.total,
        row_changes_by_kind={"inserts": totals.inserts, "updates": totals.updates,
                             "deletes": totals.deletes})


def _clean_up(stack: Stack, database: str, topics: list[str]) -> None:
    problems = delete_topics(stack.bootstrap, topics) if topics else []
    try:
        drop_database(stack.admin, database)
    except CdcError as exc:
        problems.append(exc.message)
    for problem in problems:
        say(f"clean-up: {problem}")


def _command_line() -> str:
    return shlex.join(["python", "-m", "bench.capture_throughput", *sys.argv[1:]])


if __name__ == "__main__":
    run_reporting_errors(main)
