"""One round of each comparison of the restore benchmark: ours, then the anchor, on the same
data, each checked against the source after its run (untimed), the target emptied before
and after.

A side that fails (its run, or its check) is marked failed and not run again; one that the
replayer cannot do yet is marked unavailable. The other measurements go on either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import click

from bench.harness.binlog_apply import BinlogApply, apply_range
from bench.harness.copy_load import run_psql
from bench.harness.mariadb_dump import load_dump
from bench.harness.mariadb_target import (
    TableCheck,
    differences,
    drop_databases,
    empty_server,
    table_checks,
)
from bench.harness.postgres_target import empty_database, execute
from bench.harness.restore_result import Side
from bench.harness.restore_run import RestoreCall, RestoreUnavailableError, run_restore
from bench.harness.snapshot_take import TakenSnapshot
from bench.harness.table_fingerprint import aggregates_sql, normalised, postgres_row_hash_sql
from bench.harness.timing import time_call
from cdc.dsn import Dsn
from cdc.errors import CdcError
from replayer.postgres_types import quote_ident

POSITION_DATABASE = "cdc_replayer"


class RunCheckError(CdcError):
    """A run left the target different from the source, or did other work than asked."""


class Series:
    """The runs of one side of a comparison, one entry per round (None: it did not run)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.seconds: list[float | None] = []
        self.problem: str | None = None
        self.failed = False

    def run(self, work: Callable[[], None]) -> bool:
        """Time ``work`` unless this side has stopped; whether it ran and succeeded."""
        if self.problem is not None:
            self.seconds.append(None)
            return False
        try:
            _, seconds = time_call(work)
        except RestoreUnavailableError as exc:
            self.problem = exc.message
        except CdcError as exc:
            self.problem, self.failed = exc.message, True
        else:
            self.seconds.append(seconds)
            return True
        self.seconds.append(None)
        click.echo(f"[bench]   {self.label}: {'FAILED' if self.failed else 'unavailable'}: "
                   f"{self.problem}", err=True)
        return False

    def side(self) -> Side:
        return Side(self.label, tuple(s for s in self.seconds if s is not None), self.problem,
                    self.failed)

    def check(self, work: Callable[[], None]) -> None:
        """An untimed check after a run: a failure voids the run and stops this side."""
        try:
            work()
        except CdcError as exc:
            self.problem, self.failed = exc.message, True
            self.seconds[-1] = None
            click.echo(f"[bench]   {self.label}: FAILED: {self.problem}", err=True)


@dataclass
class Inputs:
    """What the untimed setup produced; the rounds only read it."""

    config: Path
    env: dict[str, str]
    source_capture: Dsn
    target: Dsn
    postgres: Dsn
    database: str
    workload_database: str
    rows: int = 0
    load_snapshot: TakenSnapshot | None = None
    replay_snapshot: TakenSnapshot | None = None
    replay_last_gtid: str = ""
    replay_stop: str = ""
    row_changes: int = 0
    dump: Path | None = None
    dump_bytes: int = 0
    copy_bytes: int = 0
    copy_script: Path | None = None
    load_checks: dict[str, TableCheck] = field(default_factory=dict)
    replay_checks: dict[str, TableCheck] = field(default_factory=dict)
    aggregates: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def mariadb_load_round(inputs: Inputs, ours: Series, anchor: Series) -> None:
    snapshot = _snapshot(inputs.load_snapshot)
    target = inputs.target
    empty_server(target)

    def restore() -> None:
        outcome = run_restore(RestoreCall(inputs.config, snapshot.point, dsn_text(target),
                                          snapshot.snapshot_id), inputs.env)
        _expect("rows loaded", outcome.snapshot_rows, inputs.rows)
        _expect("row changes replayed", outcome.rows_to_replay, 0)

    if ours.run(restore):
        ours.check(lambda: _same_tables(target, inputs.database, inputs.load_checks))
    empty_server(target)
    dump = inputs.dump
    if dump is not None and anchor.run(lambda: load_dump(target, dump)):
        anchor.check(lambda: _same_tables(target, inputs.database, inputs.load_checks))
    empty_server(target)


def postgres_load_round(inputs: Inputs, ours: Series, anchor: Series) -> None:
    snapshot = _snapshot(inputs.load_snapshot)
    postgres = inputs.postgres
    table = f"{quote_ident(inputs.database)}.{quote_ident('payments')}"
    hashes: list[str] = []

    def check() -> None:
        [values] = execute(postgres, aggregates_sql(table))
        if normalised(values) != inputs.aggregates:
            raise RunCheckError(f"PostgreSQL's {table} differs from the source: count, sums "
                                f"{normalised(values)} against {inputs.aggregates}")
        [(digest,)] = execute(postgres, postgres_row_hash_sql(table))
        hashes.append(str(digest))
        if len(set(hashes)) > 1:
            raise RunCheckError(f"the two PostgreSQL copies of {table} differ (row hashes "
                                f"{' and '.join(hashes)})")

    def restore() -> None:
        outcome = run_restore(RestoreCall(inputs.config, snapshot.point, dsn_text(postgres),
                                          snapshot.snapshot_id), inputs.env)
        _expect("rows loaded", outcome.snapshot_rows, inputs.rows)

    empty_database(postgres)
    if ours.run(restore):
        ours.check(check)
    empty_database(postgres)
    script = inputs.copy_script
    if script is not None and anchor.run(lambda: run_psql(postgres, script)):
        anchor.check(check)
    empty_database(postgres)


def replay_round(inputs: Inputs, ours: Series, anchor: Series) -> None:
    snapshot = _snapshot(inputs.replay_snapshot)
    target = inputs.target

    def load_snapshot() -> None:
        """The starting state of both sides (untimed): the snapshot, loaded by the replayer."""
        empty_server(target)
        outcome = run_restore(RestoreCall(inputs.config, snapshot.point, dsn_text(target),
                                          snapshot.snapshot_id), inputs.env)
        _expect("row changes replayed while loading the snapshot", outcome.rows_to_replay, 0)

    def replay() -> None:
        outcome = run_restore(RestoreCall(inputs.config, f"gtid:{inputs.replay_last_gtid}",
                                          dsn_text(target), snapshot.snapshot_id, resume=True),
                              inputs.env)
        if outcome.rows_to_replay != inputs.row_changes:
            note = (f"the replay plan counts {outcome.rows_to_replay:,} row changes from the "
                    f"snapshot to the point; the workload wrote {inputs.row_changes:,}")
            if note not in inputs.notes:
                inputs.notes.append(note)

    def binlog() -> None:
        apply_range(BinlogApply(inputs.source_capture, snapshot.binlog_file,
                                snapshot.anchor_gtid_position, inputs.replay_stop,
                                inputs.workload_database, target))

    def anchor_start() -> None:
        load_snapshot()
        drop_databases(target, [POSITION_DATABASE])  # the anchor starts from the rows alone

    _prepare(ours, load_snapshot)
    if ours.run(replay):
        ours.check(lambda: _same_tables(target, inputs.workload_database, inputs.replay_checks))
    _prepare(anchor, anchor_start)
    if anchor.run(binlog):
        anchor.check(lambda: _same_tables(target, inputs.workload_database,
                                          inputs.replay_checks))
    empty_server(target)


def dsn_text(dsn: Dsn) -> str:
    """The DSN as the replayer's --target takes it, password included."""
    secret = f":{quote(dsn.password, safe='')}" if dsn.password else ""
    return (f"{dsn.engine.value}://{quote(dsn.user, safe='')}{secret}@{dsn.host}:{dsn.port}/"
            f"{quote(dsn.database or '', safe='')}")


def _prepare(series: Series, work: Callable[[], None]) -> None:
    """Untimed preparation of a side's run; its failure fails the side (whose ``run`` then
    records the round as not run)."""
    if series.problem is not None:
        return
    try:
        work()
    except CdcError as exc:
        series.problem, series.failed = f"preparing the run: {exc.message}", True
        click.echo(f"[bench]   {series.label}: FAILED: {series.problem}", err=True)


def _same_tables(target: Dsn, database: str, expected: dict[str, TableCheck]) -> None:
    found = differences(expected, table_checks(target, database))
    if found:
        raise RunCheckError(f"the target's {database} differs from the source: "
                            + "; ".join(found[:5]))


def _expect(what: str, found: int, wanted: int) -> None:
    if found != wanted:
        raise RunCheckError(f"{what}: {found:,}, not {wanted:,}")


def _snapshot(snapshot: TakenSnapshot | None) -> TakenSnapshot:
    if snapshot is None:
        raise RunCheckError("the snapshot this measurement needs was not taken")
    return snapshot
