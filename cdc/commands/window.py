"""``cdc window``: the earliest and latest points a restore can reach, and the RPO now."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from cdc.config import CaptureConfig, load_config
from cdc.errors import CdcError
from cdc.position import GtidPosition, transactions_behind
from cdc.snapshot.catalog import configured_store, read_catalog_if_any
from cdc.snapshot.changelog import Changelog
from cdc.start_status import ChangelogBeginning, changelog_beginning, split_by_beginning
from cdc.startup_checks.queries import connect_source, gtid_binlog_pos


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML): source, Kafka and snapshot store.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def window(config_path: Path, as_json: bool) -> None:
    """The restorable window: from the oldest snapshot's anchor (its GTID position and the
    time it was taken) to the last transaction captured in the changelog, and how far that is
    behind the source now (the recovery point objective, RPO).

    Also where the changelog begins (its start record, committed by capture's first start
    before anything else): until that commit nothing is backed up, and a snapshot whose
    anchor lies before the beginning can never be restored (listed as unusable, with why).

    On MariaDB commit times are whole seconds, so a time point is exact to the second; GTIDs
    and named marks are exact."""
    config = load_config(config_path, os.environ)
    catalog = read_catalog_if_any(configured_store(config))
    beginning = changelog_beginning(config)
    # No committed record yet: the topic may not even exist, and there is no tail to read.
    tail = None if beginning is None else Changelog(config).tail()
    now = datetime.now(UTC)
    usable, unusable = split_by_beginning(catalog.manifests, beginning)
    earliest = None
    if usable:
        oldest = usable[0]
        earliest = {"time": _next_second(oldest.created_at).isoformat(),
                    "gtid_position": oldest.anchor.gtid_position,
                    "snapshot_id": oldest.snapshot_id}
    latest = None
    if tail is not None:
        offset, record = tail
        captured_at = datetime.fromtimestamp(record.commit_time_us / 1e6, UTC)
        latest = {"time": captured_at.isoformat(), "gtid_position": record.position.gtid_position,
                  "offset": offset, "idle_heartbeat": record.operation.is_marker}
    source = _source_position(config)
    result: dict[str, object] = {
        "earliest": earliest, "latest": latest, "now": now.isoformat(),
        "changelog_start": None if beginning is None else beginning.as_dict(),
        "unusable_snapshots": unusable,
        "source_gtid_position": None if source is None else str(source),
        "rpo_seconds": None, "transactions_behind": None}
    if latest is not None:
        captured = GtidPosition.parse(str(latest["gtid_position"]))
        behind = transactions_behind(captured, source) if source is not None else None
        result["transactions_behind"] = behind
        caught_up_at = datetime.fromisoformat(str(latest["time"]))
        result["rpo_seconds"] = 0.0 if behind == 0 else round(
            (now - caught_up_at).total_seconds(), 3)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(_text(result, catalog.store.url, beginning, unusable))


def _next_second(moment: datetime) -> datetime:
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def _source_position(config: CaptureConfig) -> GtidPosition | None:
    try:
        connection = connect_source(config)
    except CdcError:
        return None
    try:
        return GtidPosition.parse(gtid_binlog_pos(connection))
    finally:
        connection.close()


def _text(result: dict[str, object], store_url: str, beginning: ChangelogBeginning | None,
          unusable: list[dict[str, str]]) -> str:
    lines = []
    if beginning is None:
        lines.append("begins:   nothing yet: capture has not committed its start record, and no "
                     "transaction is backed up until it does ('cdc check' shows where it will "
                     "begin)")
    else:
        lines.append(f"begins:   {beginning.describe()}")
    earliest = result["earliest"]
    if isinstance(earliest, dict):
        lines.append(f"earliest: {earliest['time']}  GTID {earliest['gtid_position'] or '(none)'}"
                     f"  (snapshot {earliest['snapshot_id']})")
    else:
        lines.append(f"earliest: none: no usable snapshot in {store_url} yet; take one with "
                     "'cdc snapshot'")
    for entry in unusable:
        lines.append(f"unusable: snapshot {entry['snapshot_id']}: {entry['reason']}")
    latest = result["latest"]
    if isinstance(latest, dict):
        lines.append(f"latest:   {latest['time']}  GTID {latest['gtid_position']}  "
                     f"(changelog offset {latest['offset']})")
    else:
        lines.append("latest:   none: the changelog is empty; is capture running?")
    if result["source_gtid_position"] is None:
        lines.append("source:   unreachable; the RPO below is the time since the last capture")
    elif result["transactions_behind"] is None:
        lines.append(f"source:   GTID {result['source_gtid_position']}; nothing is captured yet")
    else:
        lines.append(f"source:   GTID {result['source_gtid_position']}, "
                     f"{result['transactions_behind']} transaction(s) not captured yet")
    if result["rpo_seconds"] is not None:
        lines.append(f"RPO:      {result['rpo_seconds']} s")
    return "\n".join(lines)

