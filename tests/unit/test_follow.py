"""The migration loop's policy: sync commits each transaction, async groups them, a delay
holds each transaction back until its time, and stopping waits for a transaction boundary."""

from __future__ import annotations

from collections.abc import Iterator

from cdc.changes import ChangeRecord, Operation, SourcePosition, TableSchema
from replayer.applier import AppliedPosition, Applier
from replayer.follow import Follower, FollowSettings


class _Connection:
    def cursor(self) -> _Connection:
        return self

    def rollback(self) -> None:
        """Nothing to undo in these tests."""


class _Recording(Applier):
    def __init__(self, per_commit: int, clock: list[float]) -> None:
        super().__init__(_Connection(), "src", _no_schemas, transactions_per_commit=per_commit)
        self.log: list[str] = []
        self._now = clock

    def _apply_row(self, offset: int, record: ChangeRecord) -> None:
        self.log.append(f"row {offset}@{self._now[0]:g}")

    def _apply_ddl(self, offset: int, record: ChangeRecord) -> None:
        self.log.append(f"ddl {offset}")

    def _commit(self, position: AppliedPosition) -> None:
        self.log.append(f"commit {position.changelog_offset}@{self._now[0]:g}")


def _no_schemas(database: str, table: str, version: int) -> TableSchema:
    raise AssertionError("not used")


def _record(sequence: int, index: int, last: bool, commit_s: float) -> ChangeRecord:
    gtid = f"0-1-{sequence}"
    return ChangeRecord(Operation.INSERT, "db", "t", 1, None, {"id": 1}, None,
                        SourcePosition(gtid, gtid, 1, "b.000001", 4), int(commit_s * 1e6),
                        index, last)


class _Clock:
    def __init__(self, start: float) -> None:
        self.now = [start]

    def time(self) -> float:
        return self.now[0]

    def sleep(self, seconds: float) -> None:
        self.now[0] += seconds


def _follower(settings: FollowSettings, clock: _Clock, stop_after: int = 10**9
              ) -> tuple[_Recording, Follower]:
    applier = _Recording(settings.transactions_per_commit, clock.now)
    asked = [0]

    def stopping() -> bool:
        asked[0] += 1
        return asked[0] > stop_after

    return applier, Follower(applier, settings, stopping=stopping, clock=clock.time,
                             sleep=clock.sleep)


ITEMS = [(1, _record(1, 0, False, 100)), (2, _record(1, 1, True, 100)), None,
         (3, _record(2, 0, True, 101))]


def test_sync_commits_every_transaction_as_it_is_read() -> None:
    clock = _Clock(200)
    applier, follower = _follower(FollowSettings("sync"), clock)
    follower.run(ITEMS)
    assert applier.log == ["row 1@200", "row 2@200", "commit 2@200", "row 3@200",
                           "commit 3@200"]


def test_async_groups_transactions_until_idle_or_the_interval() -> None:
    clock = _Clock(200)
    applier, follower = _follower(FollowSettings("async", commit_interval_s=5), clock)
    items = [(1, _record(1, 0, True, 100)), (2, _record(2, 0, True, 100)), None,
             (3, _record(3, 0, True, 100))]
    follower.run(items)
    assert applier.log == ["row 1@200", "row 2@200", "commit 2@200", "row 3@200",
                           "commit 3@200"]


def test_a_delay_holds_each_transaction_until_its_commit_time_plus_the_delay() -> None:
    clock = _Clock(100)
    applier, follower = _follower(FollowSettings("sync", delay_s=10), clock)
    follower.run(ITEMS)
    # The first transaction waits until 110, the second until 111.
    assert applier.log[0].startswith("row 1@110")
    assert applier.log[2].startswith("commit 2@110")
    assert applier.log[3].startswith("row 3@111")


def test_stopping_is_honoured_only_between_transactions() -> None:
    clock = _Clock(200)
    applier, follower = _follower(FollowSettings("async"), clock, stop_after=1)
    follower.run(ITEMS)
    # Asked before the first transaction (go on), then at the idle tick: stop, committed.
    assert applier.log == ["row 1@200", "row 2@200", "commit 2@200"]


def test_a_stop_while_waiting_for_a_delayed_transaction_applies_nothing_more() -> None:
    clock = _Clock(100)
    applier, follower = _follower(FollowSettings("sync", delay_s=3600), clock, stop_after=3)
    follower.run(ITEMS)
    assert applier.log == []


def test_sync_commits_a_backlog_in_groups_at_least_every_tenth_of_a_second() -> None:
    clock = _Clock(200)
    applier, follower = _follower(FollowSettings("sync"), clock)

    def arriving() -> Iterator[tuple[int, ChangeRecord]]:
        for sequence in range(1, 5):
            clock.now[0] += 0.06  # more keep coming: never idle
            yield (sequence, _record(sequence, 0, True, 100))

    follower.run(arriving())
    assert [line for line in applier.log if line.startswith("commit")] == [
        "commit 2@200.12", "commit 4@200.24"]
