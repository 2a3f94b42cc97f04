"""The drill's generated changes: how many of each kind, and that updates and deletes never
meet (so every statement changes exactly the rows counted)."""

from __future__ import annotations

import pytest

from bench.harness.rto_changes import (
    UPDATES_PER_TRANSACTION,
    ChangesPlan,
    batches,
    plan_changes,
    procedure_sql,
)


def test_a_million_changes_are_about_a_million() -> None:
    plan = plan_changes(10_000_000, 1_000_000)
    assert plan.transactions == 222_222
    assert abs(plan.row_changes - 1_000_000) < 5
    assert plan.row_changes == plan.inserts + plan.updates + plan.deletes


def test_deletes_are_every_other_transaction_from_the_first() -> None:
    assert ChangesPlan(100, 1).deletes == 1
    assert ChangesPlan(100, 4).deletes == 2
    assert ChangesPlan(100, 5).deletes == 3


def test_too_few_rows_for_the_changes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least a fifth"):
        plan_changes(1000, 10_000)


def ids_touched(plan: ChangesPlan) -> tuple[set[int], set[int]]:
    """The procedure's arithmetic, in Python: ids updated and ids deleted."""
    half = plan.rows // 2
    spreads = (7919, 104729, 1299709)[:UPDATES_PER_TRANSACTION]
    updated = {(k * spread + n) % half + 1 for k in range(plan.transactions)
               for n, spread in enumerate(spreads)}
    deleted = {plan.rows - k // 2 for k in range(0, plan.transactions, 2)}
    return updated, deleted


@pytest.mark.parametrize(("rows", "changes"), [(1000, 200), (20_000, 4000), (10_001, 2000)])
def test_updates_never_meet_a_deleted_row(rows: int, changes: int) -> None:
    plan = plan_changes(rows, changes)
    updated, deleted = ids_touched(plan)
    assert not updated & deleted
    assert len(deleted) == plan.deletes
    assert all(1 <= i <= rows for i in updated | deleted)


def test_the_procedure_is_the_arithmetic_the_test_checks() -> None:
    sql = procedure_sql()
    assert "(k * 7919 + 0) MOD (filled DIV 2) + 1" in sql
    assert "(k * 1299709 + 2) MOD (filled DIV 2) + 1" in sql
    assert "DELETE FROM payments WHERE id = filled - k DIV 2" in sql
    assert sql.count("UPDATE payments") == UPDATES_PER_TRANSACTION


def test_batches_cover_every_transaction_once() -> None:
    plan = ChangesPlan(100, 25)
    assert batches(plan, 10) == [(0, 10), (10, 10), (20, 5)]
