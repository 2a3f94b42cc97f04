"""The workload over several connections: one worker process per connection.

Processes, not threads: the client is Python, so one interpreter lock would cap the rate at
what one CPU drives. Each worker runs ``run_workload`` on its own partition (partition.py),
so workers never wait for each other's locks. The parent starts them together (after every
worker has loaded its model), relays a stop request, writes the marks at the two points
where no worker is inside a transaction (before the start, after the end), reads the
server's GTID position once at the end and merges the summaries (merge.py).

A worker that fails stops the others and the run fails with its error. Workers get SIGTERM
when the parent dies, however it dies, and finish their transaction before they exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkProcess
from multiprocessing.synchronize import Event
from types import FrameType

import pymysql

from bench.workload.clock import Clock, SystemClock
from bench.workload.connection import MySQLConnection, connect, read_gtid_position, translate_error
from bench.workload.mark_writer import write_mark
from bench.workload.merge import MergeContext, earliest_gtid, last_gtid_of, merge_summaries
from bench.workload.partition import worker_options
from bench.workload.runner import RunOptions, StopSignal, run_workload
from bench.workload.summary import RunSummary
from cdc.dsn import Dsn
from cdc.errors import CdcError

# How often the parent looks at a stop request while it waits for its workers, and the
# longest wait of a worker for the start before it looks at its own stop request.
_POLL_SECONDS = 0.2
# Workers finish their transaction within this after a stop; then they are killed.
_JOIN_SECONDS = 30.0
_PR_SET_PDEATHSIG = 1


class WorkerFailedError(CdcError):
    """A worker's error, as the whole run's; its exit status is the worker's error's."""

    def __init__(self, message: str, hint: str, exit_status: int) -> None:
        super().__init__(message, hint)
        self.exit_status = exit_status


@dataclass(frozen=True)
class _Ready:
    index: int


@dataclass(frozen=True)
class _Finished:
    index: int
    summary: RunSummary


@dataclass(frozen=True)
class _Failed:
    index: int
    message: str
    hint: str
    exit_status: int


_Message = _Ready | _Finished | _Failed


def run_parallel(connection: MySQLConnection, dsn: Dsn, options: RunOptions, connections: int,
                 *, clock: Clock | None = None, stop: StopSignal | None = None) -> RunSummary:
    """Run the workload over ``connections`` worker processes, each with its own session on
    ``dsn``; ``connection`` (the parent's, set up already) writes the marks and reads the
    final GTID position."""
    if options.mark_every is not None:
        raise ValueError("periodic marks need one connection: there is no consistent point "
                         "between the transactions of several")
    clock = clock or SystemClock()
    context = multiprocessing.get_context("fork")
    go, halt = context.Event(), context.Event()
    # Whatever is buffered would otherwise be printed again by every forked worker.
    sys.stdout.flush()
    sys.stderr.flush()
    workers = _Workers(halt, stop)
    try:
        for part in worker_options(options, connections):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_work, args=(_Job(part, dsn, os.getpid(), go, halt, sender),),
                name=f"workload-{part.partition.index}", daemon=True)
            process.start()
            sender.close()  # only the worker writes: the parent then sees EOF if it dies
            workers.add(process, receiver)
        workers.wait_until_ready()
        marks = 0
        if options.marks_file is not None:
            write_mark(connection, options.marks_file, "start", 0, clock=clock)
            marks += 1
        go.set()
        parts = workers.collect()
        transactions = sum(part.transactions for part in parts)
        first_gtid = earliest_gtid([part.first_gtid for part in parts])
        last_gtid = None
        if transactions:
            # A long run may have outlived the idle parent session's wait_timeout.
            connection.ping(reconnect=True)
            last_gtid = last_gtid_of(read_gtid_position(connection), first_gtid)
        if options.marks_file is not None:
            write_mark(connection, options.marks_file, "end", transactions, clock=clock)
            marks += 1
        return merge_summaries(parts, MergeContext(
            database=options.database, seed=options.seed, target_rate=options.rate,
            last_gtid=last_gtid, marks_written=marks,
            marks_file=str(options.marks_file) if options.marks_file is not None else None,
            interrupted=stop is not None and stop.is_set()))
    finally:
        halt.set()
        go.set()
        workers.join()


class _Workers:
    """The parent's side: what each worker said, and when the run must stop."""

    def __init__(self, halt: Event, stop: StopSignal | None) -> None:
        self._halt = halt
        self._stop = stop
        self._processes: list[ForkProcess] = []
        self._receivers: list[Connection] = []
        self._ready: set[int] = set()
        self._ended: dict[int, RunSummary | None] = {}  # None: failed or died
        self._failure: WorkerFailedError | None = None

    def add(self, process: ForkProcess, receiver: Connection) -> None:
        self._processes.append(process)
        self._receivers.append(receiver)

    def wait_until_ready(self) -> None:
        while len(self._ready | set(self._ended)) < len(self._processes):
            self._pump()
        self._raise_failure()

    def collect(self) -> list[RunSummary]:
        while len(self._ended) < len(self._processes):
            self._pump()
        self._raise_failure()
        return [summary for _, summary in sorted(self._ended.items()) if summary is not None]

    def join(self) -> None:
        for process in self._processes:
            process.join(_JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                process.join(_JOIN_SECONDS)
        for receiver in self._receivers:
            receiver.close()

    def _pump(self) -> None:
        if self._stop is not None and self._stop.is_set():
            self._halt.set()
        running = [index for index in range(len(self._processes)) if index not in self._ended]
        waitables: list[Connection | int] = [self._receivers[index] for index in running]
        waitables += [self._processes[index].sentinel for index in running]
        wait(waitables, timeout=_POLL_SECONDS)
        for index in running:
            self._read(index)

    def _read(self, index: int) -> None:
        receiver = self._receivers[index]
        # Looked at before the pipe is drained: a worker sends its last message before it
        # exits, so once it has exited that message is in the pipe. Looked at after, a worker
        # that sent and exited between the drain and the look would be taken for dead.
        exited = self._processes[index].exitcode is not None
        try:
            while index not in self._ended and receiver.poll():
                self._handle(receiver.recv())
        except EOFError:
            pass
        else:
            if index in self._ended or not exited:
                return
        status = self._processes[index].exitcode
        self._fail(index, f"exited (status {status}) before it reported how its run ended",
                   "see the errors printed above", 1)

    def _handle(self, message: _Message) -> None:
        match message:
            case _Ready():
                self._ready.add(message.index)
            case _Finished():
                self._ended[message.index] = message.summary
            case _Failed():
                self._fail(message.index, message.message, message.hint, message.exit_status)

    def _fail(self, index: int, message: str, hint: str, exit_status: int) -> None:
        self._ended[index] = None
        if self._failure is None:
            self._failure = WorkerFailedError(
                f"connection {index + 1} of {len(self._processes)}: {message}", hint,
                exit_status)
        self._halt.set()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure


class _AnyOf:
    def __init__(self, *signals: StopSignal) -> None:
        self._signals = signals

    def is_set(self) -> bool:
        return any(signal.is_set() for signal in self._signals)


@dataclass(frozen=True)
class _Job:
    """What a worker process is given."""

    options: RunOptions
    dsn: Dsn
    parent: int  # the parent's process id
    go: Event  # set once every worker is ready (or the run ends before its start)
    halt: Event  # set when every worker must stop after its transaction
    channel: Connection  # the worker's end of its pipe to the parent


def _work(job: _Job) -> None:
    """A worker process: run its part, then send how it ended (or why it failed)."""
    _die_with(job.parent)
    stop = _AnyOf(job.halt, _stop_on_signals())
    channel = job.channel
    index = job.options.partition.index
    message: _Message
    try:
        message = _Finished(index, _run_part(job.options, job.dsn, job.go, stop, channel))
    except CdcError as exc:
        message = _Failed(index, exc.message, exc.hint, exc.exit_status)
    except Exception as exc:
        traceback.print_exc()  # a bug: where it happened is only known here
        message = _Failed(index, f"{type(exc).__name__}: {exc}", "see the traceback above", 1)
    with contextlib.suppress(OSError):  # the parent is gone: nobody to tell
        channel.send(message)
    channel.close()


def _run_part(options: RunOptions, dsn: Dsn, go: Event, stop: StopSignal,
              channel: Connection) -> RunSummary:
    def ready() -> None:
        channel.send(_Ready(options.partition.index))
        while not go.wait(_POLL_SECONDS) and not stop.is_set():
            pass

    connection = connect(dsn)
    try:
        return run_workload(connection, options, stop=stop, ready=ready)
    except pymysql.MySQLError as exc:
        raise translate_error(exc, "the workload") from None
    finally:
        with contextlib.suppress(pymysql.MySQLError):
            connection.close()


def _stop_on_signals() -> threading.Event:
    """SIGTERM and SIGINT (Ctrl-C reaches the whole process group) end the worker's run
    after its transaction; the parent decides whether anything harder is needed."""
    stop = threading.Event()

    def request_stop(number: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def _die_with(parent: int) -> None:
    """SIGTERM when the parent dies, even by SIGKILL: no worker goes on writing alone. Not
    SIGKILL: the worker finishes its transaction first, as on any other stop."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)

