"""``cdc snapshot``: take a base snapshot now."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import click

from cdc.config import load_config
from cdc.config.table_filter import TableFilter
from cdc.progress import ProgressReporter
from cdc.snapshot.catalog import configured_key, configured_store
from cdc.snapshot.manifest import Manifest, manifest_summary
from cdc.snapshot.source_tables import TableSelection
from cdc.snapshot.take import SnapshotRequest, take_snapshot


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML); its [snapshots] section says where "
                   "snapshots go, how they are compressed and whether they are encrypted.")
@click.option("--tables", default=None, metavar="PATTERNS",
              help="Only these tables: comma-separated 'db' or 'db.table' patterns "
                   "(wildcards allowed), within what capture.include/exclude allow.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the result as one JSON object (progress goes to stderr as JSON "
                   "lines when stderr is not a terminal).")
def snapshot(config_path: Path, tables: str | None, as_json: bool) -> None:
    """Take a base snapshot of the source now, while capture keeps running.

    Every included table is read inside one consistent read of the source (no locks: MariaDB's
    START TRANSACTION WITH CONSISTENT SNAPSHOT), in primary-key order, into compressed Avro
    files with a SHA-256 each; the manifest is written last, so a snapshot that fails leaves
    no manifest. The manifest records the anchor: the binlog file, position and GTID position
    the snapshot is consistent with, and the changelog offset replay starts from (found once
    capture has passed the anchor; see snapshots.anchor_wait).

    A long-running schema change on a table waits until the snapshot has read that table.
    """
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(config_path, os.environ)
    table_filter: TableSelection = config.table_filter
    if tables:
        table_filter = _narrowed(config.table_filter, tables)
    settings = config.snapshots
    request = SnapshotRequest(tables=table_filter, compression=settings.compression,
                              file_rows=settings.file_rows,
                              key=configured_key(config, os.environ),
                              anchor_wait_s=float(settings.anchor_wait_s),
                              workers=settings.workers)
    reporter = ProgressReporter(as_json=as_json)
    try:
        manifest = take_snapshot(config, configured_store(config), request,
                                 progress=reporter.update)
    finally:
        reporter.close()
    if as_json:
        click.echo(json.dumps(manifest_summary(manifest)))
    else:
        click.echo(_summary_text(manifest))


class _Both:
    """Tables that both filters include."""

    def __init__(self, first: TableFilter, second: TableFilter) -> None:
        self._first, self._second = first, second

    def includes(self, database: str, table: str | None = None) -> bool:
        return self._first.includes(database, table) and self._second.includes(database, table)


def _narrowed(configured: TableFilter, patterns: str) -> _Both:
    wanted = TableFilter.from_patterns([p.strip() for p in patterns.split(",") if p.strip()], [])
    return _Both(configured, wanted)


def _summary_text(manifest: Manifest) -> str:
    anchor = manifest.anchor
    seconds = (manifest.finished_at - manifest.created_at).total_seconds()
    offset = ("not yet known (capture had not passed the anchor)"
              if anchor.changelog_offset is None else str(anchor.changelog_offset))
    return "\n".join([
        f"snapshot {manifest.snapshot_id}: {len(manifest.tables)} tables, "
        f"{manifest.total_rows:,} rows, {manifest.total_bytes:,} bytes in {seconds:.1f} s",
        f"anchor: GTID {anchor.gtid_position or '(none)'}, "
        f"{anchor.binlog_file}:{anchor.binlog_position}",
        f"replay starts at changelog offset {offset}",
    ])
