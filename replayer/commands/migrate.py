"""``replayer migrate``: keep a new target in step with the source, without end."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import click
import psycopg2

from cdc.config import load_config
from cdc.config.models import CaptureConfig, parse_duration
from cdc.config.problems import InvalidValueError
from cdc.config.table_filter import TableFilter
from cdc.dsn import Dsn, parse_dsn
from cdc.errors import ConfigError
from cdc.kafka.errors import KafkaUnavailableError
from cdc.snapshot.catalog import configured_key, configured_store
from cdc.snapshot.changelog import Changelog
from cdc.snapshot.take import SnapshotRequest, take_snapshot
from replayer.applier import AppliedPosition, Applier, TableIncluded, read_position
from replayer.apply_mysql import connection_lost_mysql
from replayer.base_load import BaseLoad, load_base
from replayer.follow import Follower, FollowSettings, Mode
from replayer.follower_status import RateReporter
from replayer.migrate_metrics import MigrateMetrics
from replayer.restore_inputs import plan_restore
from replayer.restore_point import parse_restore_point
from replayer.snapshot_load import loaded_files, snapshot_being_loaded
from replayer.targets import target_engine

log = logging.getLogger("replayer.migrate")
_BACKOFF_MAX_S = 30.0


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The capture configuration (TOML): Kafka, the topics and the snapshot store.")
@click.option("--target", "target_dsn", required=True, metavar="DSN",
              help="mysql://user:password@host:port/ or postgresql://user:password@host:port/db"
                   ". Empty the first time; afterwards migrate continues from the position "
                   "stored in it.")
@click.option("--mode", type=click.Choice(["sync", "async"]), required=True,
              help="sync: each source transaction is committed in the target as soon as the "
                   "changelog has no more right away (those that came together, together; "
                   "at least every 0.1 s while behind). async: many per target transaction, "
                   "committed every --commit-interval and whenever caught up.")
@click.option("--delay", default="0s", show_default=True, metavar="DURATION",
              help="Keep the target this far behind the source (e.g. 1h): a copy from before "
                   "an operator's mistake.")
@click.option("--commit-interval", default="1s", show_default=True, metavar="DURATION",
              help="async: the longest an applied transaction waits for its commit.")
@click.option("--snapshot", "snapshot_id", default="auto", show_default=True,
              help="The snapshot to start from: an id, 'auto' for the newest, or 'new' to "
                   "take one now (as cdc snapshot does).")
@click.option("--tables", default="*", show_default=True, metavar="PATTERNS",
              help="Comma-separated 'db' or 'db.table' patterns: only these tables.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Processes loading the snapshot's files.")
@click.option("--metrics-address", default="", metavar="HOST:PORT",
              help="Serve /metrics (Prometheus) and /health here; off when empty.")
def migrate(*, config_path: Path, target_dsn: str, mode: Mode, delay: str,
            commit_interval: str, snapshot_id: str, tables: str, workers: int,
            metrics_address: str) -> None:
    """Load the newest snapshot into the target (the first time), then follow the changelog
    without end, in order, whole source transactions at a time, with the position stored in
    the target in the same transactions. SIGTERM or Ctrl-C stops it at a transaction
    boundary; run it again to go on. A lost connection to the target or to Kafka (a restart)
    is retried with backoff, continuing from the position the target holds."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    config = load_config(config_path, os.environ)
    target = parse_dsn(target_dsn)
    settings = FollowSettings(mode, float(seconds_option("--delay", delay)),
                              float(seconds_option("--commit-interval", commit_interval)))
    include = TableFilter.from_patterns([p.strip() for p in tables.split(",")
                                         if p.strip()]).includes
    stop = _stop_on_signals()
    metrics = MigrateMetrics()
    if metrics_address:
        metrics.serve(metrics_address)
    run = _Run(config, target, settings=settings, include=include, metrics=metrics, stop=stop)
    run.forever(snapshot_id, workers)


def seconds_option(option: str, text: str) -> int:
    """A duration option's seconds, or a ConfigError naming the option."""
    try:
        return parse_duration(text)
    except InvalidValueError as exc:
        raise ConfigError(f"{option}: {exc}", "write a number and a unit: '90s', '30m', "
                          "'6h', '7d', or '0'") from None


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request(signum: int, _frame: object) -> None:
        log.info("received %s: stopping at the next transaction boundary",
                 signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request)
    signal.signal(signal.SIGINT, request)
    return stop


class _Run:
    def __init__(self, config: CaptureConfig, target: Dsn, *, settings: FollowSettings,
                 include: TableIncluded, metrics: MigrateMetrics,
                 stop: threading.Event) -> None:
        self.config, self.target, self.engine = config, target, target_engine(target)
        self.settings, self.include, self.metrics, self.stop = settings, include, metrics, stop
        self.changelog = Changelog(config)
        self.connected_once = False

    def forever(self, snapshot_id: str, workers: int) -> None:
        failures = 0
        while not self.stop.is_set():
            try:
                self._follow(snapshot_id, workers)
                return
            except (ConfigError, KafkaUnavailableError) as exc:
                if not self.connected_once:
                    raise  # a wrong DSN or setting: said once, not retried
                reason = exc.message
            except Exception as exc:  # the connection: only a lost one is retried
                if not self._lost(exc):
                    raise
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            failures += 1
            wait = min(_BACKOFF_MAX_S, 0.5 * 2 ** min(failures, 6))
            log.warning("lost the target or Kafka (%s); reconnecting in %.1f s, from the "
                        "position the target holds", reason, wait)
            self.stop.wait(wait)

    def _follow(self, snapshot_id: str, workers: int) -> None:
        engine, source = self.engine, self.config.source.name
        connection = engine.connect(self.target)
        try:
            engine.prepare(connection)
            self.connected_once = True
            position = read_position(connection, source) or self._load(connection, snapshot_id,
                                                                        workers)
            log.info("following the changelog from offset %d (after GTID %s), %s mode%s",
                     position.changelog_offset + 1, position.gtid, self.settings.mode,
                     f", {self.settings.delay_s:g} s behind" if self.settings.delay_s else "")
            applier = engine.applier(connection, source, self.changelog.lookup,
                                     transactions_per_commit=self.settings.transactions_per_commit,
                                     include=self.include)
            rates = RateReporter(source, self.settings.mode, self.settings.delay_s)

            def committed(applied: Applier) -> None:
                self.metrics.committed(applied)
                rates.committed(connection, applied.rows, applied.transactions)

            follower = Follower(applier, self.settings, stopping=self.stop.is_set,
                                committed=committed)
            follower.run(self.changelog.follow_from(position.changelog_offset + 1,
                                                    idle_s=self.settings.idle_s))
            log.info("stopped after %d transactions (%d row changes) in this run",
                     applier.transactions, applier.rows)
        finally:
            _close(connection)

    def _load(self, connection: Any, snapshot_id: str, workers: int) -> AppliedPosition:
        if snapshot_id == "new":
            # A load cut short goes on with its snapshot rather than taking another one.
            snapshot_id = snapshot_being_loaded(connection) or self._take_snapshot()
        plan, manifest = plan_restore(self.config, parse_restore_point("latest"), snapshot_id)
        if not loaded_files(connection, manifest.snapshot_id):
            self.engine.require_empty(connection)
        log.info("loading snapshot %s (%d rows)", manifest.snapshot_id, manifest.total_rows)
        started = time.monotonic()
        position = load_base(self.engine, connection, BaseLoad(
            self.config, self.target, manifest, plan.snapshot_through_offset, self.include,
            workers)).position
        log.info("snapshot %s loaded in %.1f s", manifest.snapshot_id,
                 time.monotonic() - started)
        return position

    def _take_snapshot(self) -> str:
        config = self.config
        settings = config.snapshots
        log.info("taking a new snapshot of the source")
        manifest = take_snapshot(config, configured_store(config), SnapshotRequest(
            tables=config.table_filter, compression=settings.compression,
            file_rows=settings.file_rows, key=configured_key(config, os.environ),
            anchor_wait_s=float(settings.anchor_wait_s), workers=settings.workers))
        log.info("snapshot %s taken (%d rows)", manifest.snapshot_id, manifest.total_rows)
        return manifest.snapshot_id

    @staticmethod
    def _lost(error: Exception) -> bool:
        return connection_lost_mysql(error) or isinstance(
            error, psycopg2.OperationalError | psycopg2.InterfaceError)


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:
        log.debug("closing the target connection failed", exc_info=True)

