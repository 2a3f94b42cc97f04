"""``cdc capture`` running in the background, as in production, while a benchmark takes
snapshots and writes a workload; and waiting until its changelog has caught up.

How far capture got is read from the changelog's last committed record (a row change or a
heartbeat): its ``gtid_position`` is the source position captured up to.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

from confluent_kafka import KafkaException

from cdc.avro.envelope import decode_envelope
from cdc.errors import CdcError
from cdc.kafka.reader import read_last_committed
from cdc.position import GtidPosition, parse_gtid

STREAMING_LINE = "capture resumes after GTID position"
_POLL_S = 0.5


class CaptureFollowError(CdcError):
    """Capture did not start, died, or did not catch up in time."""


def captured_position(bootstrap_servers: str, changelog_topic: str) -> GtidPosition | None:
    """The source position capture had reached when it wrote its last committed record;
    None while the changelog is empty (or its topic not there yet)."""
    try:
        stored = read_last_committed(bootstrap_servers, changelog_topic)
    except (KafkaException, CdcError):
        return None
    if stored is None:
        return None
    record = decode_envelope(stored.value, lambda *_: (None, None))
    return GtidPosition.parse(record.position.gtid_position)


class FollowingCapture:
    """``python -m cdc capture --config F`` with its output in ``log_path``; a context manager
    that stops it (SIGTERM, then SIGKILL) on the way out."""

    def __init__(self, config_path: Path, environment: Mapping[str, str], log_path: Path, *,
                 bootstrap_servers: str, changelog_topic: str,
                 python: str = sys.executable) -> None:
        self.command = [python, "-m", "cdc", "capture", "--config", str(config_path)]
        self.environment = dict(environment)
        self.log_path = log_path
        self.bootstrap_servers = bootstrap_servers
        self.changelog_topic = changelog_topic
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> FollowingCapture:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(self.command, env=self.environment, stdout=log,
                                             stderr=subprocess.STDOUT)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def wait_until_streaming(self, timeout_s: float = 300) -> None:
        self._wait(lambda: STREAMING_LINE in self._log(), timeout_s,
                   "capture did not start reading the binlog")

    def wait_for_first_record(self, timeout_s: float = 60) -> None:
        """Until the changelog holds a committed record (the first heartbeat)."""
        self._wait(lambda: captured_position(self.bootstrap_servers,
                                             self.changelog_topic) is not None,
                   timeout_s, "capture wrote no heartbeat")

    def wait_until_captured(self, gtid: str, timeout_s: float) -> None:
        """Until the changelog says capture has read the transaction ``gtid``."""
        wanted = parse_gtid(gtid)

        def reached() -> bool:
            position = captured_position(self.bootstrap_servers, self.changelog_topic)
            return position is not None and position.contains(wanted)

        self._wait(reached, timeout_s, f"capture did not reach GTID {gtid}")

    def stop(self) -> None:
        """Stop capture; a capture that had already exited by itself is an error."""
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is not None:
            raise CaptureFollowError(f"capture exited by itself with status {process.returncode}: "
                                     f"{self._tail()}", f"see {self.log_path}")
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)

    def _wait(self, done: Callable[[], bool], timeout_s: float, failure: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            process = self._process
            if process is not None and process.poll() is not None:
                raise CaptureFollowError(f"{failure}: it exited with status "
                                         f"{process.returncode}: {self._tail()}",
                                         f"see {self.log_path}")
            if time.monotonic() >= deadline:
                raise CaptureFollowError(f"{failure} within {timeout_s:.0f} s: {self._tail()}",
                                         f"see {self.log_path}")
            time.sleep(_POLL_S)

    def _log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _tail(self) -> str:
        lines = [line for line in self._log().strip().splitlines() if line.strip()]
        return " / ".join(lines[-3:]) or "(nothing logged)"
