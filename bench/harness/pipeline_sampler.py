"""Where a migration's lag sits: sampled twice a second while a workload runs, how many
source transactions capture has not committed to the changelog yet, and how many of those the
target has not applied yet.

Capture's position comes from its ``/health`` endpoint (the GTID position of its last Kafka
commit), which costs it next to nothing; reading the changelog's tail instead takes seconds
while capture writes. Counted by GTID sequence numbers in the workload's GTID domain, so the
few transactions that other sessions commit on a shared source count too.
``stage_backlogs``, ``health_position`` and ``Backlogs.of`` are pure; ``PipelineSampler`` is
the thread that reads the three positions.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import pymysql

from bench.harness.target_session import TargetErrors, TargetSession
from bench.workload.connection import MySQLConnection, connect, read_gtid_position
from cdc.dsn import Dsn
from cdc.errors import CdcError
from cdc.position import GtidPosition, parse_gtid


@dataclass(frozen=True)
class Sample:
    capture_behind: int | None  # source transactions not in the changelog yet
    migrate_behind: int | None  # changelog transactions not applied to the target yet


def stage_backlogs(domain: int, source: str, captured: GtidPosition | None,
                   applied: str | None) -> Sample:
    """One sample from the source's GTID position, capture's position (the changelog's last
    record) and the target's last applied GTID; None where a position is not known."""
    source_seq = GtidPosition.parse(source).sequence_in(domain)
    captured_seq = captured.sequence_in(domain) if captured is not None else None
    applied_seq = None
    if applied is not None:
        gtid = parse_gtid(applied)
        applied_seq = gtid.sequence if gtid.domain == domain else None
    capture_behind = (max(0, source_seq - captured_seq)
                      if source_seq is not None and captured_seq is not None else None)
    migrate_behind = (max(0, captured_seq - applied_seq)
                      if captured_seq is not None and applied_seq is not None else None)
    return Sample(capture_behind, migrate_behind)


def health_position(body: bytes) -> GtidPosition | None:
    """The GTID position in capture's /health JSON; None before its first Kafka commit."""
    found = json.loads(body).get("gtid_position")
    return GtidPosition.parse(found) if found else None


def read_capture_position(metrics_address: str, timeout_s: float = 2.0) -> GtidPosition | None:
    """Capture's committed position from ``http://<metrics_address>/health`` (a stalled
    capture answers 503 with the same body)."""
    try:
        with urllib.request.urlopen(f"http://{metrics_address}/health",
                                    timeout=timeout_s) as answer:
            body: bytes = answer.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    return health_position(body)


@dataclass(frozen=True)
class Backlogs:
    """The largest and the last of each stage's backlog over a window (transactions)."""

    samples: int
    capture_max: int | None
    capture_end: int | None
    migrate_max: int | None
    migrate_end: int | None

    @staticmethod
    def of(samples: Sequence[Sample]) -> Backlogs:
        capture = [s.capture_behind for s in samples if s.capture_behind is not None]
        migrate = [s.migrate_behind for s in samples if s.migrate_behind is not None]
        return Backlogs(len(samples), max(capture, default=None),
                        capture[-1] if capture else None, max(migrate, default=None),
                        migrate[-1] if migrate else None)

    def to_dict(self) -> dict[str, object]:
        return {"samples": self.samples, "capture_behind_max": self.capture_max,
                "capture_behind_end": self.capture_end, "migrate_behind_max": self.migrate_max,
                "migrate_behind_end": self.migrate_end}


class PipelineSampler:
    """A context manager: samples every ``interval_s`` from entry to exit."""

    def __init__(self, source: Dsn, target: Dsn, *, capture_metrics: str, source_name: str,
                 domain: int, interval_s: float = 0.5) -> None:
        self._source_dsn, self._target_dsn = source, target
        self._capture_metrics = capture_metrics
        self._source_name, self._domain = source_name, domain
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pipeline-sampler", daemon=True)
        self.samples: list[Sample] = []
        self.errors = 0

    def __enter__(self) -> PipelineSampler:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def backlogs(self) -> Backlogs:
        return Backlogs.of(list(self.samples))

    def _run(self) -> None:
        source: MySQLConnection | None = None
        target: TargetSession | None = None
        while not self._stop.wait(self._interval_s):
            try:
                if source is None:
                    source = connect(self._source_dsn)
                    source.autocommit(True)
                if target is None:
                    target = TargetSession(self._target_dsn)
                position = read_gtid_position(source)
                captured = read_capture_position(self._capture_metrics)
                applied = target.applied_gtid(self._source_name)
                self.samples.append(stage_backlogs(self._domain, position, captured, applied))
            except (pymysql.MySQLError, *TargetErrors, CdcError, ValueError):
                self.errors += 1
                for session in (source, target):
                    if session is not None:
                        session.close()
                source = target = None
        for session in (source, target):
            if session is not None:
                session.close()
