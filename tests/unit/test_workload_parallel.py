"""The parent's reading of its workers: a worker that reported and exited is never taken for
one that died, however the report and the exit fall between two looks."""

from __future__ import annotations

from typing import Any, cast

import pytest

from bench.workload.limits import StopReason
from bench.workload.parallel import WorkerFailedError, _Finished, _Workers
from bench.workload.summary import RunSummary


class _FakeProcess:
    def __init__(self) -> None:
        self.exitcode: int | None = None


class _WorkerThatReportsDuringTheDrain:
    """A pipe whose worker sends its summary and exits just after the parent found the pipe
    empty: the moment the race falls in."""

    def __init__(self, process: _FakeProcess, summary: RunSummary) -> None:
        self._process = process
        self._summary = summary
        self._pending: list[object] = []
        self._reported = False

    def poll(self) -> bool:
        if self._pending:
            return True
        if not self._reported:
            self._reported = True
            self._pending.append(_Finished(0, self._summary))
            self._process.exitcode = 0
        return False

    def recv(self) -> object:
        if not self._pending:
            raise EOFError
        return self._pending.pop(0)


class _DeadWorker:
    def poll(self) -> bool:
        return False

    def recv(self) -> object:
        raise EOFError


def summary() -> RunSummary:
    return RunSummary(database="payments", seed=1, target_rate=0.0, transactions=3,
                      transactions_by_kind={}, row_changes_by_table={}, elapsed_seconds=1.0,
                      first_gtid=None, last_gtid=None, marks_written=0, marks_file=None,
                      stopped_by=StopReason.DURATION)


def workers_with(process: _FakeProcess, receiver: object) -> _Workers:
    class _Halt:
        def set(self) -> None:
            pass

    workers = _Workers(cast(Any, _Halt()), None)
    workers.add(cast(Any, process), cast(Any, receiver))
    return workers


def test_a_worker_that_reports_and_exits_between_two_looks_is_not_taken_for_dead() -> None:
    process = _FakeProcess()
    expected = summary()
    workers = workers_with(process, _WorkerThatReportsDuringTheDrain(process, expected))
    workers._read(0)
    workers._read(0)
    assert workers.collect() == [expected]


def test_a_worker_that_exited_without_a_report_fails_the_run() -> None:
    process = _FakeProcess()
    process.exitcode = 0
    workers = workers_with(process, _DeadWorker())
    workers._read(0)
    with pytest.raises(WorkerFailedError, match="exited \\(status 0\\) before it reported"):
        workers.collect()
