"""The migration's Prometheus metrics, on an endpoint like capture's: the applied GTID, the
lag from source commit to target commit, and row changes and transactions applied (rates
through PromQL's rate())."""

from __future__ import annotations

import time
from http.server import ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Info

from cdc.capture_metrics import serve_registry
from replayer.applier import Applier


class MigrateMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.rows = Counter("cdc_replayer_rows", "Row changes applied to the target",
                            registry=self.registry)
        self.transactions = Counter("cdc_replayer_transactions",
                                    "Source transactions committed in the target",
                                    registry=self.registry)
        self.lag = Gauge("cdc_replayer_lag_seconds",
                         "Source commit to target commit, for the last transaction committed",
                         registry=self.registry)
        self.applied = Info("cdc_replayer_applied", "The last source transaction committed in "
                            "the target", registry=self.registry)
        self._applier: Applier | None = None
        self._rows = 0
        self._transactions = 0
        self.last_progress = time.time()

    def committed(self, applier: Applier) -> None:
        """After each target commit."""
        now = time.time()
        if applier is not self._applier:  # a new one after a reconnection counts from 0
            self._applier, self._rows, self._transactions = applier, 0, 0
        self.rows.inc(applier.rows - self._rows)
        self.transactions.inc(applier.transactions - self._transactions)
        self._rows, self._transactions = applier.rows, applier.transactions
        self.last_progress = now
        last = applier.last_applied
        if last is not None:
            self.applied.info({"gtid": last.gtid, "changelog_offset": str(last.changelog_offset)})
            if last.commit_time_us:
                self.lag.set(max(0.0, now - last.commit_time_us / 1_000_000))

    def serve(self, address: str) -> ThreadingHTTPServer:
        return serve_registry(self.registry, address, lambda: (True, {"status": "ok"}))
