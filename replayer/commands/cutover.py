"""``replayer cutover``: the moment a migration ends: the source frozen, the target caught up
with everything the source committed, and the two proved identical."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from cdc.config import load_config
from cdc.config.models import CaptureConfig
from cdc.config.table_filter import TableFilter
from cdc.dsn import Dsn, parse_dsn
from cdc.errors import CdcError, ConfigError
from cdc.position import GtidPosition
from cdc.snapshot.changelog import Changelog
from cdc.startup_checks.queries import connect, connect_source, gtid_binlog_pos
from replayer.applier import AppliedPosition, read_position
from replayer.commands.migrate import seconds_option
from replayer.commands.verify import verdict_json, verdict_text, verify_live
from replayer.restore_inputs import changelog_summary
from replayer.targets import target_engine

_POLL_S = 0.5


class CutoverTimeoutError(CdcError):
    """The target did not catch up with the source in time."""

    exit_status = 2  # cannot tell


class SourceMovedError(CdcError):
    """The source committed while cutover compared: its verdict proves nothing."""

    exit_status = 2  # cannot tell


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration of the migration.")
@click.option("--target", "target_dsn", required=True, metavar="DSN",
              help="The migration's target, as given to replayer migrate.")
@click.option("--freeze-source", "freeze_dsn", metavar="ADMIN_DSN",
              help="Set the source read-only first (SET GLOBAL read_only = ON), connecting as "
                   "this user (it needs the privilege); it stays read-only afterwards.")
@click.option("--timeout", "timeout_text", default="5m", show_default=True,
              metavar="DURATION", help="How long to wait for the target to catch up.")
@click.option("--tables", default="*", show_default=True, metavar="PATTERNS",
              help="The tables to compare, as given to replayer migrate.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def cutover(*, config_path: Path, target_dsn: str, freeze_dsn: str | None, timeout_text: str,
            tables: str, as_json: bool) -> None:
    """Optionally freeze the source, wait until capture has every transaction the source
    committed and the target (kept by a running replayer migrate) has applied them, then
    compare source and target as replayer verify does. Prints the final GTID position and
    the verdict; exit status 0 only when they are identical (1 when they differ, 2 when it
    cannot tell: a timeout, a server out of reach)."""
    config = load_config(config_path, os.environ)
    target = parse_dsn(target_dsn)
    timeout = seconds_option("--timeout", timeout_text)
    if freeze_dsn is not None:
        _freeze(parse_dsn(freeze_dsn))
    deadline = time.monotonic() + timeout
    final = _source_position(config)
    applied = _wait_for_target(config, target, final, deadline)
    selection = TableFilter.from_patterns([p.strip() for p in tables.split(",") if p.strip()])
    verdicts = verify_live(config.source.dsn, target, selection)
    identical = all(v.identical for v in verdicts)
    # A frozen source still takes writes from sessions whose privileges override read_only:
    # a comparison made while it moved says nothing, whichever way it came out.
    after = _source_position(config)
    if as_json:
        click.echo(json.dumps({"identical": identical, "source_gtid_position": str(final),
                               "source_gtid_position_after": str(after),
                               "source_still": after == final,
                               "target_gtid": applied.gtid,
                               "target_changelog_offset": applied.changelog_offset,
                               "tables": [verdict_json(v) for v in verdicts]}, default=str))
    else:
        for verdict in verdicts:
            click.echo(verdict_text(verdict))
        click.echo(f"final GTID position {final}; the target applied {applied.gtid} "
                   f"(changelog offset {applied.changelog_offset}): "
                   + ("identical" if identical else "DIFFERENT"))
    if after != final:
        raise SourceMovedError(
            f"the source committed while cutover compared (its GTID position went from "
            f"{final} to {after}), so the verdict above proves nothing",
            "stop every writer: read_only does not hold sessions with the READ ONLY ADMIN "
            "privilege (SUPER on older servers); then run cutover again")
    if not identical:
        raise click.exceptions.Exit(1)


def _freeze(dsn: Dsn) -> None:
    connection = connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET GLOBAL read_only = ON")
    except Exception as exc:
        raise ConfigError(f"could not set the source read-only as {dsn.user}: {exc}",
                          "give --freeze-source a user with the SUPER or READ_ONLY ADMIN "
                          "privilege, or stop the writers yourself and leave it out") from None
    finally:
        connection.close()


def _source_position(config: CaptureConfig) -> GtidPosition:
    connection = connect_source(config)
    try:
        return GtidPosition.parse(gtid_binlog_pos(connection))
    finally:
        connection.close()


def _wait_for_target(config: CaptureConfig, target: Dsn, final: GtidPosition,
                     deadline: float) -> AppliedPosition:
    """Until the changelog holds ``final`` and the target has applied every transaction of
    the changelog up to there."""
    changelog = Changelog(config)
    while True:
        tail = changelog.tail()
        captured = tail is not None and all(
            GtidPosition.parse(tail[1].position.gtid_position).contains(gtid)
            for gtid in final.by_domain)
        applied = _applied(config, target)
        if captured and applied is not None:
            summary = changelog_summary(config.kafka.bootstrap_servers, config.changelog_topic)
            # Up to ``final`` only: a source that keeps committing must not keep cutover
            # waiting (it is told afterwards that its verdict proves nothing).
            pending = [tx for tx in summary.transactions
                       if tx.offset_last > applied.changelog_offset and final.contains(tx.gtid)]
            if not pending:
                return applied
        if time.monotonic() > deadline:
            raise CutoverTimeoutError(
                f"the target did not catch up with the source's position {final} in time ("
                + ("capture has not reached it" if not captured else
                   f"the target applied up to {applied.gtid if applied else 'nothing'}") + ")",
                "check that capture and replayer migrate are running ('replayer status'), "
                "then run cutover again, or give a longer --timeout")
        time.sleep(_POLL_S)


def _applied(config: CaptureConfig, target: Dsn) -> AppliedPosition | None:
    engine = target_engine(target)
    connection: Any = engine.connect(target)
    try:
        engine.prepare(connection)
        return read_position(connection, config.source.name)
    finally:
        connection.close()
