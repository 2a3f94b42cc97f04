"""How a snapshot splits tables into files for its workers, and the benchmark's table."""

from __future__ import annotations

import pytest

from bench.harness.payments_table import fill_statement, payments_ddl
from cdc.changes import Column, TableSchema
from cdc.snapshot.tasks import integer_key, plan_tasks

PAYMENTS = TableSchema("db", "payments", 0, (Column("id", "bigint", unsigned=True),
                                             Column("note", "varchar")), ("id",))
BY_TEXT = TableSchema("db", "codes", 0, (Column("code", "varchar"),), ("code",))
COMPOSITE = TableSchema("db", "pairs", 0, (Column("a", "int"), Column("b", "int")), ("a", "b"))


def covered(tasks: list, low: int, high: int) -> list[int]:  # type: ignore[type-arg]
    keys: list[int] = []
    for task in tasks:
        start, end = task.key_range
        keys.extend(range(start, end + 1))
    return keys


@pytest.mark.parametrize(("low", "high", "estimate", "workers"), [
    (1, 1_000_000, 1_000_000, 2), (5, 5, 1, 2), (1, 30_000, 30_000, 4), (100, 250, 100, 1),
    (-50, 50, 101, 3),
])
def test_integer_keys_are_cut_into_ranges_that_cover_every_key_once(
        low: int, high: int, estimate: int, workers: int) -> None:
    tasks = plan_tasks(0, PAYMENTS, (low, high), estimated_rows=estimate, file_rows=100_000,
                       workers=workers)
    assert covered(tasks, low, high) == list(range(low, high + 1))
    assert [t.part for t in tasks] == list(range(len(tasks)))
    assert len({t.file_name for t in tasks}) == len(tasks)
    if estimate >= 20_000:
        assert len(tasks) >= 2 * workers
    assert len(tasks) >= estimate // 100_000


def test_other_keys_and_empty_tables_are_one_file() -> None:
    assert integer_key(PAYMENTS) == "id"
    assert integer_key(BY_TEXT) is None
    assert integer_key(COMPOSITE) is None
    for schema, bounds in ((BY_TEXT, None), (COMPOSITE, None), (PAYMENTS, None)):
        [task] = plan_tasks(3, schema, bounds, estimated_rows=10**6, file_rows=10, workers=4)
        assert (task.key_range, task.file_name) == (None, "t0003-00000.avro")


def test_the_benchmark_table_has_no_foreign_keys_and_a_bounded_fill() -> None:
    ddl = payments_ddl()
    assert "CONSTRAINT" not in ddl
    assert ddl.strip().startswith("CREATE TABLE IF NOT EXISTS payments")
    assert ",\n) ENGINE" not in ddl
    assert "seq_1_to_1000" in fill_statement(1000)
    with pytest.raises(ValueError, match="at least 1"):
        fill_statement(0)


def test_the_benchmark_table_fills_in_parts() -> None:
    statement = fill_statement(2_000_000, first=1_000_001)
    assert "seq_1000001_to_2000000" in statement
    assert "SELECT seq, CONCAT" in statement  # the ids are the sequence's: no gaps
    with pytest.raises(ValueError, match="first between 1 and rows"):
        fill_statement(10, first=11)
