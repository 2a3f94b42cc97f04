"""The capture process's side of the pipeline: start the reader and the workers, take their
decoded batches back in order, and notice at once when one of them dies."""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import pickle
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from cdc.binlog.events import SourceEvent
from cdc.binlog.reader import SourceConnectionError
from cdc.dsn import Dsn
from cdc.errors import (
    CdcError,
    SourceCheckError,
    SourceStreamError,
    TypeMappingError,
)
from cdc.pipeline.batches import DecodedBatch, ErrorReport
from cdc.pipeline.reader_process import ReaderJob, run_reader
from cdc.pipeline.wire import ShapeTable
from cdc.pipeline.worker_process import run_worker
from cdc.position import GtidPosition

TARGET_BATCH_BYTES = 1 << 20
LIMIT_BATCH_BYTES = 8 << 20
_RAISED_AGAIN: dict[str, type[CdcError]] = {
    "SourceConnectionError": SourceConnectionError,
    "SourceStreamError": SourceStreamError,
    "SourceCheckError": SourceCheckError,
    "TypeMappingError": TypeMappingError,
}


class CaptureProcessDiedError(CdcError):
    """A reader or worker process of capture died: capture stops rather than guess what it
    was doing."""

    exit_status = 5


class PipelineSource:
    """Source events in binlog order, read and decoded by child processes. The same
    ``events()`` / ``close()`` as ``BinlogSource``."""

    def __init__(self, dsn: Dsn, replica_server_id: int, start: GtidPosition, *, workers: int,
                 only_databases: list[str] | None = None) -> None:
        # fork: the children start in milliseconds with everything imported; they never
        # touch the Kafka client this process holds, only their own pipes and connection.
        context = multiprocessing.get_context("fork")
        parent = os.getpid()
        self._inboxes: list[Connection] = []
        self._shapes: list[ShapeTable] = []
        self._children: list[BaseProcess] = []
        reader_outboxes = []
        for number in range(workers):
            batches_out, batches_in = context.Pipe(duplex=False)
            decoded_out, decoded_in = context.Pipe(duplex=False)
            for end in (batches_out, decoded_out):
                _widen(end)
            worker = context.Process(target=run_worker, args=(batches_out, decoded_in, parent),
                                     name=f"cdc-capture-worker-{number}", daemon=True)
            worker.start()
            batches_out.close()
            decoded_in.close()
            reader_outboxes.append(batches_in)
            self._inboxes.append(decoded_out)
            self._shapes.append(ShapeTable())
            self._children.append(worker)
        job = ReaderJob(dsn, replica_server_id, str(start), only_databases,
                        TARGET_BATCH_BYTES, LIMIT_BATCH_BYTES)
        reader = context.Process(target=run_reader, args=(job, reader_outboxes, parent),
                                 name="cdc-capture-reader", daemon=True)
        reader.start()
        for outbox in reader_outboxes:
            outbox.close()
        self._reader = reader
        self._children.append(reader)

    @property
    def worker_pids(self) -> list[int]:
        return [child.pid for child in self._children[:-1] if child.pid is not None]

    @property
    def reader_pid(self) -> int | None:
        return self._reader.pid

    def events(self) -> Iterator[SourceEvent]:
        sequence = 0
        while True:
            batch = self._receive(sequence)
            yield from self._shapes[sequence % len(self._shapes)].from_wire(batch.events)
            if batch.error is not None:
                raise _raised_again(batch.error)
            sequence += 1

    def _receive(self, sequence: int) -> DecodedBatch:
        inbox = self._inboxes[sequence % len(self._inboxes)]
        watched: list[Connection | int] = [inbox]
        watched += [child.sentinel for child in self._children]
        while True:
            # Under load the batch is nearly always there already; waiting on every pipe and
            # process costs more than the batch takes to unpack.
            ready = [inbox] if inbox.poll() else wait(watched)
            if inbox in ready:
                try:
                    data = inbox.recv_bytes()
                except (EOFError, OSError):
                    raise self._died() from None
                batch: DecodedBatch = pickle.loads(data)
                if batch.sequence != sequence:
                    raise SourceStreamError(
                        f"decoded batch {batch.sequence} arrived where {sequence} was due",
                        "capture resumes from the changelog; this is a bug")
                return batch
            for child in self._children:
                if child.sentinel in ready:
                    if child is self._reader and child.exitcode == 0:
                        # It said why it ended in its last batch, which is on its way.
                        watched.remove(child.sentinel)
                        continue
                    raise self._died()

    def _died(self) -> CaptureProcessDiedError:
        # One death ends the others (a worker whose reader died finds its pipe closed), and
        # their ends are noticed a moment apart: wait for them to name the first one.
        deadline = time.monotonic() + 2
        for child in self._children:
            child.join(max(0.0, deadline - time.monotonic()))
        ended = [child for child in self._children if child.exitcode is not None]
        failed = [child for child in ended if child.exitcode != 0] or ended
        dead = [f"{child.name} (pid {child.pid}, {_how(child.exitcode)})" for child in failed]
        return CaptureProcessDiedError(
            f"capture's {', '.join(dead) or 'child process'} died; nothing after the last "
            "committed Kafka transaction was kept",
            "start capture again: it resumes from the changelog's committed tail (a process "
            "killed by the system may mean too little memory; see --workers)")

    def close(self) -> None:
        for child in self._children:
            if child.is_alive():
                child.kill()
        for child in self._children:
            child.join(5)
        for inbox in self._inboxes:
            inbox.close()


_F_SETPIPE_SZ = 1031  # Linux's fcntl command for a pipe's buffer size
_PIPE_BYTES = 1 << 20


def _widen(pipe: Connection) -> None:
    """A batch of about a megabyte passes in one write instead of sixteen (the default pipe
    holds 64 KiB), each of which would wake the reading process."""
    with contextlib.suppress(OSError):  # not Linux, or above the system's limit: keep it
        fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)


def _how(exitcode: int | None) -> str:
    if exitcode is None:
        return "running"
    if exitcode < 0:
        return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def _raised_again(report: ErrorReport) -> CdcError:
    kind = _RAISED_AGAIN.get(report.kind, CdcError)
    return kind(report.message, report.hint)
