"""The health facts of ``cdc check --nagios`` as Prometheus metrics on capture's endpoint:
measured when scraped, at most once per ``max_age_s`` (a measurement reads Kafka, the
snapshot store and the source, which a scrape every few seconds should not repeat)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cdc.health import HealthFacts, HealthReport, Status

_log = logging.getLogger(__name__)

_VALUES = {
    "rpo": ("cdc_backup_rpo_seconds",
            "Time since the last captured transaction while the source has newer ones"),
    "behind": ("cdc_backup_transactions_behind",
               "Source transactions not captured yet"),
    "snapshot_age": ("cdc_backup_newest_snapshot_age_seconds",
                     "Age of the newest snapshot the changelog continues"),
    "drill_age": ("cdc_backup_last_drill_age_seconds",
                  "Time since the last restore drill ended"),
    "binlog_retention": ("cdc_backup_binlog_retention_left_seconds",
                         "Least time before the source may purge binlog capture needs"),
}


class HealthCollector(Collector):
    def __init__(self, measure: Callable[[], tuple[HealthFacts, HealthReport]],
                 max_age_s: float = 30.0) -> None:
        self._measure = measure
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._measured: tuple[float, HealthFacts, HealthReport] | None = None

    def _latest(self) -> tuple[HealthFacts, HealthReport]:
        with self._lock:
            if self._measured is None or time.monotonic() - self._measured[0] > self._max_age_s:
                facts, report = self._measure()
                self._measured = (time.monotonic(), facts, report)
            return self._measured[1], self._measured[2]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = GaugeMetricFamily("cdc_backup_health_status",
                                   "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, by fact and overall",
                                   labels=["fact"])
        try:
            facts, report = self._latest()
        except Exception:  # a scrape must never fail capture's other metrics
            _log.warning("measuring the backup's health failed", exc_info=True)
            status.add_metric(["overall"], int(Status.UNKNOWN))
            yield status
            return
        status.add_metric(["overall"], int(report.status))
        for finding in report.findings:
            status.add_metric([finding.fact], int(finding.status))
            if finding.value is not None and finding.fact in _VALUES:
                name, documentation = _VALUES[finding.fact]
                yield GaugeMetricFamily(name, documentation, value=finding.value)
        yield status
        if facts.last_drill is not None:
            yield GaugeMetricFamily("cdc_backup_last_drill_identical",
                                    "1 when the last restore drill proved the copy identical",
                                    value=1 if facts.last_drill.verdict == "identical" else 0)
