"""``cdc check``: run every start-up check capture runs, and say what was found."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from cdc.config import CaptureConfig, load_config
from cdc.errors import CdcError
from cdc.first_start_inputs import decide_start
from cdc.health import Status, evaluate, unknown_output
from cdc.health_inputs import gather_health
from cdc.kafka.errors import KafkaUnavailableError
from cdc.start_status import changelog_beginning
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
@click.option("--nagios", is_flag=True,
              help="Judge the backup's health instead, as a Nagios/Icinga plugin: RPO, "
                   "transactions not captured, age of the newest usable snapshot, the last "
                   "restore drill's verdict and age, and binlog retention left before the "
                   "source may purge what capture needs, against the [monitoring] thresholds."
                   " One line with performance data; exit 0 OK, 1 WARNING, 2 CRITICAL, "
                   "3 UNKNOWN.")
def check(config_path: Path, as_json: bool, nagios: bool) -> None:
    """Check that capture could start: the configuration, the connection to the source, its
    binlog settings, GTIDs, the capture user's grants and the replica server id.

    Prints the source's flavor, version and binlog position, and warnings such as captured
    tables without a primary key. Also where capture would start: while the changelog is
    empty, where its first start would begin (capture.start, moved back to the anchor of a
    snapshot it would otherwise leave behind); once the first start has committed its start
    record, that capture resumes from the changelog and capture.start is no longer read.
    Exits 0 when capture could start, 2 when not, naming each problem and its fix.
    """
    if nagios:
        _check_health(config_path, as_json)
    try:
        config = load_config(config_path, os.environ)
        facts = run_startup_checks(config)
        start = start_report(config, facts)
        warnings = [*facts.warnings, *start.warnings]
    except CdcError as exc:
        if not as_json:
            raise
        click.echo(json.dumps({"ok": False, "error": exc.message, "hint": exc.hint,
                               "exit_status": exc.exit_status}))
        # Not click's Exit: with standalone_mode=False click returns its code instead.
        sys.exit(exc.exit_status)
    if as_json:
        click.echo(json.dumps(report(config, facts, warnings, start)))
    else:
        click.echo(render(config, facts, warnings, start))


def _check_health(config_path: Path, as_json: bool) -> None:
    try:
        config = load_config(config_path, os.environ)
    except CdcError as exc:
        click.echo(unknown_output(exc.message, exc.hint, as_json=as_json))
        sys.exit(int(Status.UNKNOWN))
    report = evaluate(gather_health(config), config.monitoring)
    click.echo(json.dumps(report.as_dict()) if as_json else report.nagios())
    sys.exit(int(report.status))


@dataclass(frozen=True)
class StartReport:
    text: str
    details: dict[str, object]
    warnings: tuple[str, ...] = ()


def start_report(config: CaptureConfig, facts: SourceFacts) -> StartReport:
    """Where capture would start. A first start the source cannot serve (a ``gtid:`` start
    it no longer has, one that leaves a snapshot behind) raises, as capture would."""
    try:
        beginning = changelog_beginning(config)
    except KafkaUnavailableError as exc:
        return StartReport("unknown: the changelog could not be read", {"applies": "unknown"}, (
            f"the changelog could not be read ({exc.message}), so whether capture.start "
            "applies is unknown",))
    if beginning is not None:
        return StartReport(
            f"resumes from the changelog; {beginning.describe()}; capture.start is no longer "
            "read", {"applies": "changelog", "began": beginning.as_dict()})
    with connect_source(config) as conn:
        decision = decide_start(config, conn, facts)
        check_position_available(conn, str(decision.position), facts.flavor)
    return StartReport(
        f"first start: the changelog is empty; it would begin after GTID position "
        f"{decision.position or '(empty)'}, chosen by {decision.describe()}, committed as its "
        "start record before anything is captured",
        {"applies": "capture.start", "would_begin_after": str(decision.position),
         "rule": decision.rule, "snapshots": list(decision.snapshot_ids)},
        decision.warnings)


def report(config: CaptureConfig, facts: SourceFacts, warnings: list[str],
           start: StartReport) -> dict[str, object]:
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
        "start": start.details,
        "workers": config.capture.decoding_workers,
    }


def render(config: CaptureConfig, facts: SourceFacts, warnings: list[str],
           start: StartReport) -> str:
    dsn, capture = config.source.dsn, config.capture
    lines = [
        f"source      {dsn.host}:{dsn.port} as {dsn.user} ({config.source.name})",
        f"server      {facts.flavor.value} {facts.version}",
        f"server ids  source {facts.server_id}, capture {config.source.server_id}",
        f"binlog      {facts.binlog_file}:{facts.binlog_position}, GTID position "
        f"{facts.gtid_binlog_pos or '(empty)'}",
        f"tables      include {', '.join(capture.include)}; exclude "
        f"{', '.join(capture.exclude) or '(none)'}",
        f"start       {start.text}",
        f"            (capture.start = {capture.start!r})",
        f"topics      {config.changelog_topic}, {config.schemas_topic}",
        f"workers     {_workers_text(config.capture.decoding_workers)}",
    ]
    lines += [f"warning: {warning}" for warning in warnings]
    lines.append("capture can start")
    return "\n".join(lines)


def _workers_text(workers: int) -> str:
    if workers == 0:
        return "0: the binlog is read and decoded in the capture process"
    return (f"{workers}: one process reads the binlog, {workers} decode it, the capture "
            "process writes to Kafka")
