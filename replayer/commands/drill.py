"""``replayer drill``: prove today that a restore works, and keep the proof."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from cdc.config import load_config
from cdc.config.table_filter import TableFilter
from cdc.drill_history import read_drills
from cdc.drill_record import DrillRecord
from cdc.dsn import parse_dsn
from cdc.progress import ProgressReporter
from replayer.commands.verify import verdict_text
from replayer.drill_run import DrillOutcome, drill_target, run_drill


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML): Kafka, the snapshot store, and the "
                   "[drills] section.")
@click.option("--target", "target_dsn", metavar="DSN",
              help="The server to drill into (default: drills.target): "
                   "postgresql://user:password@host:port/db, where each drill creates and "
                   "drops a database cdc_drill_<id>, or mysql://user:password@host:port/, a "
                   "server kept for drills (it must hold no databases of its own).")
@click.option("--to", "point_text", default="latest", show_default=True, metavar="POINT",
              help="latest, random (a random point in the restorable window) or any point "
                   "'replayer restore --to' takes.")
@click.option("--tables", metavar="PATTERNS",
              help="Comma-separated 'db' or 'db.table' patterns (wildcards allowed) of the "
                   "tables restored and compared (default: drills.tables, all of them).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Processes loading the snapshot's files.")
@click.option("--keep", is_flag=True, help="Leave the scratch target in place to look at "
                                           "(the next drill drops it).")
@click.option("--history", is_flag=True,
              help="List the drills recorded (oldest first) instead of running one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def drill(*, config_path: Path, target_dsn: str | None, point_text: str, tables: str | None,
          workers: int, keep: bool, history: bool, as_json: bool) -> None:
    """Restore POINT (the newest snapshot before it, then the changelog) into a scratch
    target, compare every table with what the snapshot plus the changelog say it must hold
    (row counts and a SHA-256 per key chunk), drop the scratch, and record the outcome in
    the drills topic: the point, the rows, the time of each phase (load of the rows, keys and
    indexes, replay, verify), the RTO (the first three) and the verdict.

    Scratch a drill killed midway left behind is dropped by the next drill, which marks the
    killed one 'interrupted'. 'cdc check --nagios' reports the last drill's verdict and age,
    and 'cdc plan --from-metrics' uses its measured rates. Exit status 0 when the copy is
    identical, 1 when it differs or the restore failed, 2 when the drill cannot start."""
    config = load_config(config_path, os.environ)
    if history:
        _history(read_drills(config), as_json)
        return
    server = drill_target(config, parse_dsn(target_dsn) if target_dsn else None)
    patterns = [p.strip() for p in tables.split(",") if p.strip()] if tables is not None \
        else list(config.drills.tables)
    reporter = ProgressReporter(as_json=as_json)
    try:
        outcome = run_drill(config, server, point_text, workers=workers, keep=keep,
                            progress=reporter.update,
                            tables=TableFilter.from_patterns(patterns))
    finally:
        reporter.close()
    _report(outcome, as_json)
    if not outcome.record.passed:
        raise click.exceptions.Exit(1)


def _report(outcome: DrillOutcome, as_json: bool) -> None:
    record = outcome.record
    if as_json:
        click.echo(json.dumps({**json.loads(record.to_json()),
                               "cleaned_up": list(outcome.cleaned)}))
        return
    if outcome.cleaned:
        click.echo(f"dropped what earlier drills left: {', '.join(outcome.cleaned)}")
    for verdict in outcome.verdicts:
        click.echo(verdict_text(verdict))
    click.echo(_line(record))
    if record.detail:
        click.echo(f"  {record.detail}")


def _line(record: DrillRecord) -> str:
    phases = ", ".join(f"{p.name} {p.seconds:.1f} s ({p.units:,})" for p in record.phases)
    return (f"drill {record.drill_id}: {record.verdict.upper()}: {record.engine} target, point "
            f"{record.point} (GTID {record.gtid_position or '-'}, snapshot "
            f"{record.snapshot_id or '-'}), {record.rows:,} rows, RTO {record.rto_seconds:.1f} s"
            + (f"; {phases}" if phases else ""))


def _history(records: list[DrillRecord], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"drills": [json.loads(r.to_json()) for r in records]}))
        return
    if not records:
        click.echo("no drill recorded yet: run 'replayer drill --config ...'")
    for record in records:
        click.echo(f"{record.started_at}  {_line(record)}")
