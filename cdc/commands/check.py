"""``cdc check``: run every start-up check capture runs, and say what was found."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from cdc.config import CaptureConfig, load_config
from cdc.errors import CdcError, SourceCheckError
from cdc.startup_checks import (
    SourceFacts,
    check_position_available,
    connect_source,
    run_startup_checks,
)


@click.command(short_help="Check that capture could start with this configuration.")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML); CDC_<SECTION>__<KEY> variables "
                   "override it.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (on stdout, errors included).")
def check(config_path: Path, as_json: bool) -> None:
    """Check that capture could start: the configuration, the connection to the source, its
    binlog settings, GTIDs, the capture user's grants and the replica server id.

    Prints the source's flavor, version and binlog position, and warnings such as captured
    tables without a primary key. Exits 0 when capture could start, 2 when not, naming each
    problem and its fix.
    """
    try:
        config = load_config(config_path, os.environ)
        facts = run_startup_checks(config)
        warnings = [*facts.warnings, *start_position_warnings(config, facts)]
    except CdcError as exc:
        if not as_json:
            raise
        click.echo(json.dumps({"ok": False, "error": exc.message, "hint": exc.hint,
                               "exit_status": exc.exit_status}))
        # Not click's Exit: with standalone_mode=False click returns its code instead.
        sys.exit(exc.exit_status)
    if as_json:
        click.echo(json.dumps(report(config, facts, warnings)))
    else:
        click.echo(render(config, facts, warnings))


def start_position_warnings(config: CaptureConfig, facts: SourceFacts) -> list[str]:
    """A ``gtid:`` start the binlog no longer holds is a warning, not an error: it is used
    only while the changelog is empty, and a running capture resumes from the changelog."""
    position = config.capture.start_gtid
    if position is None:
        return []
    try:
        with connect_source(config) as conn:
            check_position_available(conn, position, facts.flavor)
    except SourceCheckError as exc:
        return [f"capture.start {config.capture.start!r} cannot be used: {exc.message}; "
                "while the changelog is empty capture would refuse to start"]
    return []


def report(config: CaptureConfig, facts: SourceFacts, warnings: list[str]) -> dict[str, object]:
    return {
        "ok": True,
        "source": config.source.dsn.redacted(),
        "source_name": config.source.name,
        "capture_server_id": config.source.server_id,
        **facts.as_dict(),
        "warnings": warnings,
        "changelog_topic": config.changelog_topic,
        "schemas_topic": config.schemas_topic,
        "transactional_id": config.transactional_id,
    }


def render(config: CaptureConfig, facts: SourceFacts, warnings: list[str]) -> str:
    dsn, capture = config.source.dsn, config.capture
    lines = [
        f"source      {dsn.host}:{dsn.port} as {dsn.user} ({config.source.name})",
        f"server      {facts.flavor.value} {facts.version}",
        f"server ids  source {facts.server_id}, capture {config.source.server_id}",
        f"binlog      {facts.binlog_file}:{facts.binlog_position}, GTID position "
        f"{facts.gtid_binlog_pos or '(empty)'}",
        f"tables      include {', '.join(capture.include)}; exclude "
        f"{', '.join(capture.exclude) or '(none)'}",
        f"start       {capture.start} (when the changelog is empty)",
        f"topics      {config.changelog_topic}, {config.schemas_topic}",
    ]
    lines += [f"warning: {warning}" for warning in warnings]
    lines.append("capture can start")
    return "\n".join(lines)
