"""``replayer status``: where a restored or migrating target stands."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from cdc.config import load_config
from cdc.config.models import parse_duration
from cdc.config.problems import InvalidValueError
from cdc.dsn import Dsn, parse_dsn
from cdc.errors import CdcError
from cdc.health import Status, TargetLag, target_report, unknown_output
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
@click.option("--nagios", is_flag=True,
              help="Judge the lag as a Nagios/Icinga plugin: one line with performance "
                   "data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. A source whose "
                   "changelog is fully applied (known with --config) counts as no lag.")
@click.option("--warning", "warning_text", metavar="DURATION",
              help="Lag for WARNING, e.g. '60s' (default: monitoring.rpo_warning of --config, "
                   "else 60s).")
@click.option("--critical", "critical_text", metavar="DURATION",
              help="Lag for CRITICAL, e.g. '5m' (default: monitoring.rpo_critical of "
                   "--config, else 5m).")
def status(*, target_dsn: str, config_path: Path | None, as_json: bool, nagios: bool,
           warning_text: str | None, critical_text: str | None) -> None:
    """The position each source's changes stand at in the target: the last GTID applied,
    its source commit time, the lag behind now in seconds and, with --config, the
    transactions in the changelog not applied yet; for a target kept by replayer migrate,
    its mode, delay and recent row changes/s and transactions/s."""
    if nagios:
        _nagios(target_dsn, config_path, as_json, warning_text, critical_text)
    target = parse_dsn(target_dsn)
    positions = _entries(target, config_path)
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


def _entries(target: Dsn, config_path: Path | None) -> list[dict[str, Any]]:
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
    return positions


def _nagios(target_dsn: str, config_path: Path | None, as_json: bool,
            warning_text: str | None, critical_text: str | None) -> None:
    try:
        monitoring = load_config(config_path, os.environ).monitoring if config_path else None
        warning = _threshold(warning_text, monitoring.rpo_warning if monitoring else "60s")
        critical = _threshold(critical_text, monitoring.rpo_critical if monitoring else "5m")
        positions = _entries(parse_dsn(target_dsn), config_path)
    except CdcError as exc:
        click.echo(unknown_output(exc.message, exc.hint, as_json=as_json))
        sys.exit(int(Status.UNKNOWN))
    report = target_report([TargetLag(str(e["source"]), e["lag_seconds"],
                                      e.get("lag_transactions")) for e in positions],
                           warning, critical)
    click.echo(json.dumps(report.as_dict()) if as_json else report.nagios())
    sys.exit(int(report.status))


def _threshold(given: str | None, default: str) -> float:
    text = given if given is not None else default
    try:
        return float(parse_duration(text))
    except InvalidValueError as exc:
        raise click.BadParameter(f"{text!r} is not a duration: write e.g. '90s', '5m' or '1h'"
                                 ) from exc


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
