"""The run loop: plan, execute, record, pace, mark; until a limit is reached or stopped."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bench.workload.clock import Clock, SystemClock
from bench.workload.connection import MySQLConnection, read_last_gtid
from bench.workload.executor import Executor
from bench.workload.limits import RunLimits, StopReason
from bench.workload.mark_writer import write_mark
from bench.workload.marks import MarkSchedule
from bench.workload.model_loader import load_model
from bench.workload.pacing import Pacer
from bench.workload.partition import Partition
from bench.workload.planner import Planner
from bench.workload.provision import WORKLOAD_TABLES, check_database_name
from bench.workload.summary import RunSummary, TableChanges, Tally

# Longest single sleep: a slow rate must not delay noticing a stop request or a due mark.
SLEEP_SLICE_SECONDS = 0.25


@dataclass(frozen=True)
class RunOptions:
    database: str = "payments"
    seed: int = 1
    rate: float = 0.0  # transactions per second; 0 = as fast as possible
    duration: float | None = None
    transactions: int | None = None
    marks_file: Path | None = None
    mark_every: float | None = None  # seconds; needs marks_file
    # The part of the tables this run may touch: all of them, unless it is one worker of a
    # run over several connections.
    partition: Partition = field(default_factory=Partition)


class StopSignal(Protocol):
    """Anything with ``is_set()``, such as a threading.Event set from a signal handler."""

    def is_set(self) -> bool: ...


def run_workload(connection: MySQLConnection, options: RunOptions, *,
                 clock: Clock | None = None, stop: StopSignal | None = None,
                 ready: Callable[[], None] | None = None) -> RunSummary:
    """Run workload transactions on ``options.database`` (set up already) and summarise.

    With a marks file, a ``start`` mark is written before the first transaction, a
    ``mark-N`` every ``mark_every`` seconds, and an ``end`` mark after the last one.
    ``ready`` is called once the model is loaded, before the start mark: a worker of a
    parallel run waits there until every worker is ready, so the time counts from one start.
    """
    if options.mark_every is not None and options.marks_file is None:
        raise ValueError("mark_every needs a marks_file to write the marks to")
    clock = clock or SystemClock()
    limits = RunLimits(options.duration, options.transactions)
    connection.select_db(check_database_name(options.database))
    model = load_model(connection, partition=options.partition)
    planner = Planner(random.Random(options.seed))
    executor = Executor(connection)
    tally = Tally(by_table={name: TableChanges() for name, _ in WORKLOAD_TABLES})
    marks_written = 0
    if ready is not None:
        ready()

    def mark(label: str) -> None:
        nonlocal marks_written
        if options.marks_file is not None:
            write_mark(connection, options.marks_file, label, tally.transactions, clock=clock)
            marks_written += 1

    started = clock.monotonic()
    pacer = Pacer(options.rate, started)
    schedule = MarkSchedule(options.mark_every, started)
    first_gtid: str | None = None
    mark("start")
    while True:
        now = clock.monotonic()
        reason = limits.reached(now - started, tally.transactions)
        if reason is None and stop is not None and stop.is_set():
            reason = StopReason.INTERRUPTED
        if reason is not None:
            break
        if schedule.due(now):
            mark(schedule.next_label())
            schedule.done(now)
            continue
        wait = pacer.delay(now)
        if wait > 0:
            clock.sleep(min(wait, SLEEP_SLICE_SECONDS))
            continue
        pacer.started(now)
        operation = planner.next_operation(model)
        outcome = executor.execute(operation)
        model.apply(operation, outcome.created_id)
        tally.record(operation.kind, outcome.changes)
        if first_gtid is None:
            first_gtid = read_last_gtid(connection)
    elapsed = clock.monotonic() - started
    last_gtid = read_last_gtid(connection) if tally.transactions else None
    mark("end")
    return RunSummary(
        database=options.database,
        seed=options.seed,
        target_rate=options.rate,
        transactions=tally.transactions,
        transactions_by_kind=tally.kinds_in_order(),
        row_changes_by_table=tally.tables_in_order(),
        elapsed_seconds=elapsed,
        first_gtid=first_gtid,
        last_gtid=last_gtid,
        marks_written=marks_written,
        marks_file=str(options.marks_file) if options.marks_file is not None else None,
        stopped_by=reason,
    )
