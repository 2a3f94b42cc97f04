"""Statements sent many at a time: each still checked, the first problem named by its tag."""

from __future__ import annotations

import pytest

from replayer.statement_batch import Mismatched, Refused, StatementBatch


class DeniedError(Exception):
    """Stands for the driver's error of a refused row change."""


class FakeServer:
    """Answers a multi-statement query the way the client library does: one result per
    statement, in order; a refused statement raises when its result is read, and the
    statements after it never run."""

    def __init__(self, outcomes: list[int | Exception]) -> None:
        self.outcomes = outcomes
        self.queries: list[bytes] = []
        self._next = 0

    def query(self, text: bytes) -> None:
        self.queries.append(text)
        self._next = 0
        self._answer()

    def _answer(self) -> None:
        outcome = self.outcomes[self._next]
        if isinstance(outcome, Exception):
            raise outcome

    def affected_rows(self) -> int:
        outcome = self.outcomes[self._next]
        assert isinstance(outcome, int)
        return outcome

    def next_result(self) -> int:
        self._next += 1
        if self._next == len(self.outcomes):
            return -1
        self._answer()
        return 0


def refused(error: Exception) -> bool:
    return isinstance(error, DeniedError)


def batch_of(*tags: str | None) -> StatementBatch[str]:
    batch: StatementBatch[str] = StatementBatch()
    for index, tag in enumerate(tags):
        batch.add(f"UPDATE t SET v = {index}".encode(), tag)
    return batch


def test_all_statements_go_in_one_query_in_order() -> None:
    server = FakeServer([1, 1, 1])
    batch = batch_of("a", "b", "c")
    assert batch.send(server, refused) is None
    assert server.queries == [b"UPDATE t SET v = 0;\nUPDATE t SET v = 1;\nUPDATE t SET v = 2"]
    assert len(batch) == 0
    assert batch.send(server, refused) is None  # nothing left: no query at all
    assert len(server.queries) == 1


def test_a_statement_touching_no_row_is_named_and_the_rest_still_read() -> None:
    server = FakeServer([1, 0, 1, 2])
    assert batch_of("a", "b", "c", None).send(server, refused) == Mismatched("b", 0)
    assert server._next == 4  # every result read: the connection is usable again


def test_an_unchecked_statement_may_touch_any_number_of_rows() -> None:
    assert batch_of("a", None).send(FakeServer([1, 2]), refused) is None


def test_a_refused_statement_is_named_by_its_own_tag() -> None:
    error = DeniedError("duplicate key")
    assert batch_of("a", "b", "c").send(FakeServer([1, 1, error]), refused) == \
        Refused("c", error)
    first = DeniedError("first")
    assert batch_of("a", "b").send(FakeServer([first, 1]), refused) == Refused("a", first)


def test_a_mismatch_before_a_refusal_is_the_first_problem() -> None:
    assert batch_of("a", "b", "c").send(FakeServer([1, 0, DeniedError("x")]), refused) == \
        Mismatched("b", 0)


def test_other_errors_reach_the_caller() -> None:
    lost = ConnectionError("server gone")
    with pytest.raises(ConnectionError):
        batch_of("a", "b").send(FakeServer([1, lost]), refused)
    with pytest.raises(ConnectionError):
        batch_of("a", "b").send(FakeServer([0, lost]), refused)


def test_full_by_count_or_by_size() -> None:
    by_count: StatementBatch[str] = StatementBatch(max_statements=2, max_bytes=10**6)
    by_count.add(b"x", "a")
    assert not by_count.full
    by_count.add(b"y", "b")
    assert by_count.full
    by_size: StatementBatch[str] = StatementBatch(max_statements=100, max_bytes=10)
    by_size.add(b"0123456789", "a")
    assert by_size.full
    by_size.clear()
    assert not by_size.full
    assert len(by_size) == 0
