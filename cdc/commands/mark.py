"""``cdc mark``: name the source's current point, to restore to it later."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from cdc.config import load_config
from cdc.marks import write_mark
from cdc.position import GtidPosition
from cdc.startup_checks.queries import connect_source, gtid_binlog_pos


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML): the source and Kafka.")
@click.argument("label")
@click.option("--replace", is_flag=True, help="Move an existing mark to now.")
@click.option("--json", "as_json", is_flag=True, help="Print the mark as JSON.")
def mark(config_path: Path, label: str, replace: bool, as_json: bool) -> None:
    """Record the source's GTID position now under LABEL (for example before a deploy), so
    that 'replayer restore --to name:LABEL' restores exactly the transactions committed
    before this moment."""
    config = load_config(config_path, os.environ)
    connection = connect_source(config)
    try:
        position = GtidPosition.parse(gtid_binlog_pos(connection))
    finally:
        connection.close()
    written = write_mark(config, label, position, replace=replace)
    if as_json:
        click.echo(json.dumps({"label": written.label, "gtid_position": str(position),
                               "marked_at": written.marked_at.isoformat()}))
    else:
        click.echo(f"mark {label}: GTID position {position or '(empty)'} at "
                   f"{written.marked_at.isoformat()}")
