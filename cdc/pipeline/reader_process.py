"""The reader process: the binlog connection, cut into batches dealt out to the workers."""

from __future__ import annotations

import os
import pickle
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection

from cdc.binlog.reader import BinlogSource
from cdc.dsn import Dsn
from cdc.errors import SourceStreamError
from cdc.pipeline.batches import Batcher, ErrorReport, RawBatch
from cdc.position import GtidPosition
from cdc.process_lifetime import die_with


@dataclass(frozen=True)
class ReaderJob:
    dsn: Dsn
    server_id: int
    start: str
    """The GTID position to read after."""
    only_databases: list[str] | None
    target_bytes: int
    limit_bytes: int


class Send:
    """Deals batches out to the workers in turn: batch n to worker n mod N."""

    def __init__(self, outboxes: list[Connection]) -> None:
        self._outboxes = outboxes

    def __call__(self, batch: RawBatch) -> None:
        outbox = self._outboxes[batch.sequence % len(self._outboxes)]
        outbox.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))


def read_into(source: BinlogSource, batcher: Batcher, send: Send) -> None:
    """Read until the stream ends; every batch goes to ``send``, the last one saying why the
    stream ended."""
    try:
        for chunk in source.payload_chunks():
            if batcher.settings is None:
                batcher.settings, batcher.checksum = source.library_settings(), source.checksum
            for payload in chunk:
                full = batcher.add(payload)
                if full is not None:
                    send(full)
            # The connection has nothing more ready: what came goes on now.
            pending = batcher.flush()
            if pending is not None:
                send(pending)
        ended: Exception = SourceStreamError(
            "the source closed the binlog stream",
            "capture reconnects and resumes from the changelog")
    except Exception as exc:
        ended = exc
    send(batcher.end(ErrorReport.of(ended)))


def run_reader(job: ReaderJob, outboxes: list[Connection], parent: int) -> None:
    """The reader process's main function."""
    die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    source = BinlogSource(job.dsn, job.server_id, GtidPosition.parse(job.start),
                          only_databases=job.only_databases)
    batcher = Batcher(target_bytes=job.target_bytes, limit_bytes=job.limit_bytes)
    try:
        read_into(source, batcher, Send(outboxes))
    except (BrokenPipeError, OSError):
        pass  # capture stopped listening: it is tearing the pipeline down
    finally:
        source.close()
    os._exit(0)
