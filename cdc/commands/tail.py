"""``cdc tail``: print decoded changelog records."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from cdc.avro.codec import decode_record
from cdc.changelog_store import load_registry
from cdc.changelog_view import record_as_json, record_as_line
from cdc.changes import TableSchema
from cdc.config import CaptureConfig, load_config
from cdc.kafka.reader import read_committed, read_last_committed
from cdc.schema_registry import SchemaRegistry


def _registry(config: CaptureConfig) -> SchemaRegistry:
    return load_registry(config.kafka.bootstrap_servers, config.schemas_topic)


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML) naming Kafka and the topics.")
@click.option("--from-beginning", is_flag=True,
              help="Start at the first record of the changelog instead of the last --lines.")
@click.option("--lines", "-n", default=10, show_default=True,
              help="How many of the latest records to show first.")
@click.option("--follow/--no-follow", default=False, show_default=True,
              help="Keep printing new records as capture commits them.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line: op, database, table, gtid, commit_time, before, "
                   "after, statement, offset and position.")
def tail(config_path: Path, from_beginning: bool, lines: int, follow: bool,
         as_json: bool) -> None:
    """Print the committed changelog records, decoded (only committed Kafka transactions are
    shown: read_committed). Values print exactly: DECIMAL and BIGINT UNSIGNED as strings,
    binary data as base64, TIMESTAMP with its UTC offset, DATETIME without one."""
    config = load_config(config_path, os.environ)
    bootstrap = config.kafka.bootstrap_servers
    start = 0
    if not from_beginning:
        last = read_last_committed(bootstrap, config.changelog_topic)
        start = max(0, (last.offset + 1 if last else 0) - lines)
    registry = _registry(config)

    def lookup(database: str, table: str, version: int) -> TableSchema:
        nonlocal registry
        try:
            return registry.lookup(database, table, version)
        except KeyError:
            registry = _registry(config)  # published after we started following
            return registry.lookup(database, table, version)

    for stored in read_committed(bootstrap, config.changelog_topic, start, follow=follow):
        record = decode_record(stored.value, lookup)
        if as_json:
            click.echo(json.dumps(record_as_json(record, stored.offset), ensure_ascii=False))
        else:
            click.echo(record_as_line(record, stored.offset))
