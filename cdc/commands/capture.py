"""``cdc capture``: the long-running capture service."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from cdc.capture import Capture
from cdc.capture_metrics import CaptureMetrics
from cdc.config import CaptureConfig, load_config

if TYPE_CHECKING:
    from cdc.health import HealthFacts, HealthReport
    from cdc.snapshot.schedule import SnapshotScheduler

log = logging.getLogger("cdc.capture")


def _snapshot_scheduler(config: CaptureConfig, config_path: Path) -> SnapshotScheduler | None:
    interval = config.snapshots.interval_s
    if not interval:
        return None
    # Imported here: a capture without a schedule never loads the snapshot code.
    from cdc.snapshot.catalog import configured_store, read_catalog  # noqa: PLC0415
    from cdc.snapshot.schedule import SnapshotScheduler  # noqa: PLC0415

    store = configured_store(config)

    def newest() -> datetime | None:
        manifests = read_catalog(store).manifests
        return manifests[-1].created_at if manifests else None

    scheduler = SnapshotScheduler(config_path, timedelta(seconds=interval), newest=newest,
                                  poll_s=min(30.0, interval / 2))
    scheduler.start()
    log.info("taking a snapshot every %s into %s", config.snapshots.interval, store.url)
    return scheduler


def _drill_scheduler(config: CaptureConfig, config_path: Path) -> SnapshotScheduler | None:
    interval = config.drills.interval_s
    if not interval:
        return None
    from cdc.drill_history import read_drills  # noqa: PLC0415
    from cdc.snapshot.schedule import SnapshotScheduler, run_drill_process  # noqa: PLC0415

    def newest() -> datetime | None:
        finished = [d for d in read_drills(config) if d.verdict != "running"]
        return datetime.fromisoformat(finished[-1].started_at) if finished else None

    scheduler = SnapshotScheduler(
        config_path, timedelta(seconds=interval), newest=newest,
        run=lambda: run_drill_process(config_path, config.drills.point),
        poll_s=min(30.0, interval / 2), what="restore drill")
    scheduler.start()
    log.info("running a restore drill every %s into %s", config.drills.interval,
             config.drills.target)
    return scheduler


def _serve_metrics(config: CaptureConfig, metrics: CaptureMetrics) -> None:
    from cdc.health import evaluate  # noqa: PLC0415
    from cdc.health_inputs import gather_health  # noqa: PLC0415
    from cdc.health_metrics import HealthCollector  # noqa: PLC0415

    def measure() -> tuple[HealthFacts, HealthReport]:
        facts = gather_health(config)
        return facts, evaluate(facts, config.monitoring)

    metrics.registry.register(HealthCollector(measure))
    metrics.serve(config.capture.metrics_address,
                  stale_after_s=max(30.0, 6 * config.capture.heartbeat_interval_s))
    log.info("metrics on http://%s/metrics and /health", config.capture.metrics_address)


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML); CDC_<SECTION>__<KEY> variables override it.")
@click.option("--until-caught-up", is_flag=True,
              help="Exit 0 once everything the source had committed at start is committed "
                   "in Kafka (for scripts, tests and benchmarks).")
@click.option("--workers", type=click.IntRange(0, 64), default=None,
              help="Processes that decode the binlog beside one reader process (0: decode in "
                   "this process). Default: capture.workers, else the number of cores.")
@click.option("--json", "as_json", is_flag=True, help="Print the final summary as JSON.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def capture(config_path: Path, until_caught_up: bool, workers: int | None, as_json: bool,
            log_level: str) -> None:
    """Stream every committed row change of the source into the Kafka changelog, exactly once.

    Checks the source's settings and grants first (exit 2 with the fix when one is wrong),
    resumes from the last committed changelog record, and reconnects with backoff when the
    source or Kafka goes away. On an empty changelog (the first start) it decides where the
    changelog begins (capture.start, or the anchor of an older snapshot it would otherwise
    leave behind) and commits that as the changelog's start record before streaming; from
    then on capture.start is no longer read. SIGTERM or SIGINT stop it cleanly: the open
    Kafka transaction is committed at a source-transaction boundary or aborted, never
    half-written. A second
    capture for the same source fences this one, which then exits with status 3.

    With snapshots.interval set (e.g. '6h'), it also takes a base snapshot that often, each in
    a 'cdc snapshot' process of its own, so capture never pauses for it; with drills.interval
    set, it runs a restore drill ('replayer drill') that often the same way. Its metrics
    include the backup's health (RPO, snapshot and drill age, binlog retention left) as
    'cdc check --nagios' judges it.
    """
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(config_path, os.environ)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping at the next transaction boundary",
                 signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    metrics = CaptureMetrics()
    if config.capture.metrics_address:
        _serve_metrics(config, metrics)
    schedulers = [] if until_caught_up else [
        scheduler for scheduler in (_snapshot_scheduler(config, config_path),
                                    _drill_scheduler(config, config_path))
        if scheduler is not None]
    try:
        result = Capture(config, until_caught_up=until_caught_up, stop=stop,
                         metrics=metrics, workers=workers).run()
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    summary = {"gtid_position": result.position, "records": result.records,
               "transactions": result.transactions}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"capture stopped at GTID position {result.position or '(empty)'}: "
                   f"{result.records} records, {result.transactions} source transactions "
                   "committed to Kafka in this run")
