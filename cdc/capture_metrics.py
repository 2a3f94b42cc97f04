"""Capture's Prometheus metrics and its /metrics and /health endpoint.

Counters give rows/s and transactions/s through PromQL's rate(); the lag is the time from a
transaction's commit on the source to its Kafka commit.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from cdc.changes import ChangeRecord, Operation
from cdc.position import GtidPosition


class CaptureMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.rows = Counter("cdc_capture_rows", "Row changes committed to the changelog",
                            ["operation"], registry=self.registry)
        self.transactions = Counter("cdc_capture_transactions",
                                    "Source transactions committed to Kafka",
                                    registry=self.registry)
        self.kafka_commits = Counter("cdc_capture_kafka_commits", "Kafka transactions committed",
                                     registry=self.registry)
        self.kafka_failures = Counter("cdc_capture_kafka_transaction_failures",
                                      "Kafka transactions that failed and were abandoned",
                                      registry=self.registry)
        self.restarts = Counter("cdc_capture_restarts",
                                "Restarts from the changelog tail after a failure",
                                registry=self.registry)
        self.lag = Gauge("cdc_capture_lag_seconds",
                         "Source commit to Kafka commit, for the last committed transaction",
                         registry=self.registry)
        self.workers = Gauge("cdc_capture_workers",
                             "Processes decoding the binlog (0: the capture process does)",
                             registry=self.registry)
        self.last_commit = Gauge("cdc_capture_last_kafka_commit_timestamp_seconds",
                                 "When capture last committed to Kafka", registry=self.registry)
        self.position = Info("cdc_capture_position", "The last GTID position committed",
                             registry=self.registry)
        self._last_source_commit_us = 0
        self._last_progress = time.time()
        self._gtid_position = ""
        self._rows_by_operation: dict[Operation, Any] = {}
        self._pending_rows: dict[Operation, int] = {}

    def record_written(self, record: ChangeRecord) -> None:
        self.row_written(record.operation, record.commit_time_us)

    def row_written(self, operation: Operation, commit_time_us: int) -> None:
        """Counted here, published at the next commit: a locked counter per record cost
        more than the rest of its bookkeeping."""
        self._pending_rows[operation] = self._pending_rows.get(operation, 0) + 1
        if commit_time_us and not operation.is_marker:
            self._last_source_commit_us = commit_time_us

    def forget_uncommitted(self) -> None:
        """The open Kafka transaction was abandoned: its records are written again later."""
        self._pending_rows.clear()

    def _publish_rows(self) -> None:
        for operation, count in self._pending_rows.items():
            counter = self._rows_by_operation.get(operation)
            if counter is None:
                counter = self._rows_by_operation[operation] = self.rows.labels(operation.value)
            counter.inc(count)
        self._pending_rows.clear()

    def committed(self, transactions: int, position: GtidPosition, now: float) -> None:
        self._publish_rows()
        self.transactions.inc(transactions)
        self.kafka_commits.inc()
        self.last_commit.set(now)
        self._last_progress = now
        self._gtid_position = str(position)
        self.position.info({"gtid_position": self._gtid_position})
        if self._last_source_commit_us:
            self.lag.set(max(0.0, now - self._last_source_commit_us / 1_000_000))

    def health(self, stale_after_s: float) -> tuple[bool, dict[str, object]]:
        age = time.time() - self._last_progress
        healthy = age <= stale_after_s
        return healthy, {"status": "ok" if healthy else "stalled",
                         "seconds_since_last_commit": round(age, 3),
                         "gtid_position": self._gtid_position}

    def serve(self, address: str, stale_after_s: float = 60.0) -> ThreadingHTTPServer:
        return serve_registry(self.registry, address, lambda: self.health(stale_after_s))


Health = Callable[[], tuple[bool, dict[str, object]]]


def serve_registry(registry: CollectorRegistry, address: str, health: Health
                   ) -> ThreadingHTTPServer:
    """/metrics (Prometheus text) and /health (200 or 503 with a JSON body) on ``address``
    (host:port), from a daemon thread."""
    host, _, port = address.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path == "/health":
                healthy, body = health()
                self._send(200 if healthy else 503, json.dumps(body).encode(),
                           "application/json")
            else:
                self._send(404, b"not found: try /metrics or /health\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes every few seconds would drown the log."""

    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
