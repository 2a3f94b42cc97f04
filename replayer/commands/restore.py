"""``replayer restore``: a target as the source was at a point in time."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from cdc.config import load_config
from cdc.config.table_filter import TableFilter
from cdc.dsn import Dsn, parse_dsn
from cdc.progress import ProgressReporter
from cdc.snapshot.catalog import key_for
from replayer.applier import TableIncluded
from replayer.read_ahead import ReadAhead
from replayer.restore_inputs import plan_restore
from replayer.restore_plan import RestorePlan
from replayer.restore_point import parse_restore_point
from replayer.restore_run import RestoreTimings, restore_into
from replayer.targets import TargetEngine, target_engine

# Rates measured on the local stack, for --dry-run's estimate only.
_LOAD_ROWS_PER_S = 30_000.0
_REPLAY_ROWS_PER_S = 3_000.0


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML): Kafka, the topics and the snapshot store.")
@click.option("--to", "point_text", required=True, metavar="POINT",
              help="latest | time:<RFC 3339 with offset> | gtid:<gtid> | offset:<changelog "
                   "offset> | name:<mark>. On MariaDB commit times are whole seconds, so a "
                   "time is exact to the second; GTIDs and marks are exact.")
@click.option("--target", "target_dsn", required=True, metavar="DSN",
              help="The server to restore into: mysql://user:password@host:port/ (MySQL or "
                   "MariaDB) or postgresql://user:password@host:port/database (each source "
                   "database becomes a schema; types as in docs/postgres-types.md). It must "
                   "hold no databases (schemas), unless --resume.")
@click.option("--snapshot", "snapshot_id", default="auto", show_default=True,
              help="The snapshot to start from, or 'auto' for the newest before the point.")
@click.option("--tables", default="*", show_default=True, metavar="PATTERNS",
              help="Comma-separated 'db' or 'db.table' patterns (wildcards allowed): only "
                   "these tables are loaded and replayed. The same patterns each time a "
                   "target is brought forward.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Processes loading the snapshot's files, each over its own connection.")
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted restore, or bring a target restored earlier "
                   "forward to a later point (only what it lacks is replayed).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def restore(*, config_path: Path, point_text: str, target_dsn: str, snapshot_id: str,
            tables: str, workers: int, dry_run: bool, resume: bool, as_json: bool) -> None:
    """Restore the target to the last source transaction committed at or before POINT:
    the newest snapshot at or before it, then the changelog from the snapshot's anchor up to
    the point, transactions never split. The position applied is stored in the target with
    the rows, so an interrupted restore continues with --resume."""
    config = load_config(config_path, os.environ)
    point = parse_restore_point(point_text)
    target = parse_dsn(target_dsn)
    engine = target_engine(target)
    read_ahead = ReadAhead()  # the records planning reads, for the replay
    plan, manifest = plan_restore(config, point, snapshot_id, read_ahead)
    key_for(manifest, config, os.environ)
    if dry_run:
        _report(plan, as_json, dry_run=True)
        return
    connection = engine.connect(target)
    try:
        if not resume:
            engine.require_empty(connection)
        engine.prepare(connection)
        included = TableFilter.from_patterns([p.strip() for p in tables.split(",")
                                              if p.strip()])
        timings = _restore(engine, connection, config, plan, manifest,
                           as_json=as_json, include=included.includes, target=target,
                           workers=workers, read_ahead=read_ahead)
    finally:
        connection.close()
    _report(plan, as_json, dry_run=False, timings=timings)


def _restore(engine: TargetEngine, connection: Any, config: Any, plan: RestorePlan,
             manifest: Any, *, as_json: bool, include: TableIncluded, target: Dsn,
             workers: int, read_ahead: ReadAhead) -> RestoreTimings:
    reporter = ProgressReporter(as_json=as_json)
    try:
        return restore_into(engine, connection, config, plan, manifest, include=include,
                     target=target, workers=workers, progress=reporter.update,
                     read_ahead=read_ahead)
    finally:
        reporter.close()


def _report(plan: RestorePlan, as_json: bool, *, dry_run: bool,
            timings: RestoreTimings | None = None) -> None:
    estimate = plan.estimated_seconds(load_rows_per_s=_LOAD_ROWS_PER_S,
                                      replay_rows_per_s=_REPLAY_ROWS_PER_S)
    result = {"dry_run": dry_run, "snapshot_id": plan.snapshot_id,
              "snapshot_rows": plan.snapshot_rows, "replay_from_offset": plan.replay_from_offset,
              "replay_to_offset": plan.replay_to_offset, "transactions": plan.transactions,
              "rows_to_replay": plan.rows_to_replay, "target_gtid": plan.target_gtid,
              "target_commit_time_us": plan.target_commit_time_us,
              "estimated_seconds": round(estimate, 1)}
    if timings is not None:
        result["seconds"] = {"load": round(timings.load_s, 3),
                             "indexes": round(timings.index_s, 3),
                             "replay": round(timings.replay_s, 3)}
    if as_json:
        click.echo(json.dumps(result))
        return
    verb = "would restore" if dry_run else "restored"
    click.echo(f"{verb} snapshot {plan.snapshot_id} ({plan.snapshot_rows:,} rows), then "
               f"{plan.transactions:,} transactions ({plan.rows_to_replay:,} row changes) up to "
               f"GTID {plan.target_gtid}" + (f"; about {estimate:,.0f} s" if dry_run else ""))
    if timings is not None:
        click.echo(f"took {timings.rto_s:,.1f} s: load {timings.load_s:,.1f} s, keys and "
                   f"indexes {timings.index_s:,.1f} s, replay {timings.replay_s:,.1f} s")
