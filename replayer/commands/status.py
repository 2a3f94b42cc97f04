"""``replayer status``: where a restored or migrating target stands."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from cdc.config import load_config
from cdc.dsn import parse_dsn
from replayer.applier import POSITION_SCHEMA
from replayer.follower_status import read_followers
from replayer.restore_inputs import transactions_after
from replayer.targets import target_engine


@click.command()
@click.option("--target", "target_dsn", required=True, metavar="DSN",
              help="The restored or migrating target (mysql:// or postgresql://).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="The capture configuration: with it, the lag in transactions too.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(target_dsn: str, config_path: Path | None, as_json: bool) -> None:
    """The position each source's changes stand at in the target: the last GTID applied,
    its source commit time, the lag behind now in seconds and, with --config, the
    transactions in the changelog not applied yet; for a target kept by replayer migrate,
    its mode, delay and recent row changes/s and transactions/s."""
    target = parse_dsn(target_dsn)
    engine = target_engine(target)
    connection = engine.connect(target)
    try:
        engine.prepare(connection)
        positions = _positions(connection)
        followers = read_followers(connection)
    finally:
        connection.close()
    for entry in positions:
        follower = followers.get(entry["source"])
        if follower is not None:
            entry.update(mode=follower.mode, delay_s=follower.delay_s,
                         rows_per_s=follower.rows_per_s,
                         transactions_per_s=follower.transactions_per_s,
                         follower_seen_s_ago=round(time.time()
                                                   - follower.updated_at_us / 1e6, 1))
    if config_path is not None:
        config = load_config(config_path, os.environ)
        for entry in positions:
            if entry["source"] == config.source.name:
                entry["lag_transactions"] = transactions_after(
                    config.kafka.bootstrap_servers, config.changelog_topic,
                    int(entry["changelog_offset"]))
    if as_json:
        click.echo(json.dumps({"target": target.redacted(), "sources": positions}))
        return
    if not positions:
        click.echo(f"{target.redacted()}: nothing restored or migrated here yet")
    for entry in positions:
        lag = entry["lag_seconds"]
        line = (f"{entry['source']}: applied GTID {entry['gtid']} (changelog offset "
                f"{entry['changelog_offset']})"
                + (f", committed at the source {lag:.1f} s ago" if lag is not None else ""))
        if "lag_transactions" in entry:
            line += f", {entry['lag_transactions']} transactions behind the changelog"
        if "mode" in entry:
            line += (f"; migrate {entry['mode']} mode"
                     + (f", {entry['delay_s']:g} s delay" if entry["delay_s"] else "")
                     + f", {entry['rows_per_s']:,.0f} row changes/s, "
                     f"{entry['transactions_per_s']:,.0f} transactions/s (reported "
                     f"{entry['follower_seen_s_ago']:g} s ago)")
        click.echo(line)


def _positions(connection: Any) -> list[dict[str, Any]]:
    cursor = connection.cursor()
    cursor.execute(f"SELECT source, changelog_offset, gtid, commit_time_us FROM "
                   f"{POSITION_SCHEMA}.applied_position ORDER BY source")
    rows = cursor.fetchall()
    connection.commit()
    now = time.time()
    return [{"source": str(source), "changelog_offset": int(offset), "gtid": str(gtid),
             "commit_time_us": int(commit) or None,
             "lag_seconds": round(now - int(commit) / 1e6, 3) if int(commit) else None}
            for source, offset, gtid, commit in rows]
