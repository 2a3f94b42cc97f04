"""Splitting a run over several connections: who owns which rows, the workers' options, and
that workers planning side by side never touch the same row or reuse a reference."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from bench.workload.errors import WorkloadError
from bench.workload.model import AccountState, SettledPayment, WorkloadModel
from bench.workload.model_loader import FailedPayment, TablesRead, build_model
from bench.workload.partition import (
    Partition,
    worker_options,
    worker_seed,
    worker_transactions,
)
from bench.workload.planner import Planner, parse_reference_serial
from bench.workload.runner import RunOptions
from bench.workload.types import (
    AccountStatus,
    ChangeAccountStatus,
    FailPayment,
    MakePayment,
    OpenAccount,
    Operation,
    OperationKind,
    PurgeFailedPayment,
    RefundPayment,
    ReinsertTortureRow,
    RewriteTortureRow,
)

TORTURE_IDS = frozenset(range(1, 11))


def tables(*, last_reference: str | None = "PAY-000000000120-0000abcd",
           accounts: int = 40) -> TablesRead:
    """A database one connection wrote: accounts, payments between any two of them."""
    currencies = ("EUR", "USD")
    states = tuple(AccountState(i, currencies[i % 2], AccountStatus.ACTIVE, Decimal(0))
                   for i in range(1, accounts + 1))
    settled = tuple(SettledPayment(100 + n, payer, payee, Decimal("1.00"))
                    for n, (payer, payee) in enumerate([(1, 5), (1, 2), (2, 6), (3, 7),
                                                        (4, 8), (8, 12), (9, 13)]))
    failed = (FailedPayment(90, 1), FailedPayment(91, 2), FailedPayment(92, 7))
    return TablesRead(states, settled, failed, last_reference, TORTURE_IDS)


def test_a_partition_owns_every_count_th_id() -> None:
    assert [i for i in range(1, 13) if Partition(1, 4).owns(i)] == [1, 5, 9]
    assert [i for i in range(1, 13) if Partition(0, 4).owns(i)] == [4, 8, 12]
    assert all(Partition().owns(i) for i in range(1, 13))


@pytest.mark.parametrize(("index", "count"), [(0, 0), (-1, 2), (2, 2)])
def test_a_partition_outside_its_count_is_refused(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="worker"):
        Partition(index, count)


def test_the_whole_database_builds_the_same_model_as_before() -> None:
    model = build_model(tables(), Partition())
    assert sorted(model.accounts) == list(range(1, 41))
    assert [p.payment_id for p in model.settled_payments] == list(range(100, 107))
    assert model.failed_payment_ids == [90, 91, 92]
    assert (model.next_payment_serial, model.serial_step) == (121, 1)
    assert model.torture_row_ids == model.torture_value_ids == tuple(range(1, 11))


def test_a_worker_gets_its_accounts_and_the_payments_between_them() -> None:
    model = build_model(tables(), Partition(1, 4))
    assert sorted(model.accounts) == [1, 5, 9, 13, 17, 21, 25, 29, 33, 37]
    # (1, 2) spans two workers: refunding it would touch another worker's account.
    assert [p.payment_id for p in model.settled_payments] == [100, 106]
    assert model.failed_payment_ids == [90]  # the failed payments follow their payer
    assert model.torture_row_ids == (1, 5, 9)
    assert model.torture_value_ids == tuple(range(1, 11))
    assert sorted(build_model(tables(), Partition(0, 4)).settled_payments,
                  key=lambda p: p.payment_id)[0].payment_id == 104


def test_serials_go_in_steps_of_the_worker_count_from_the_first_free_one() -> None:
    firsts = [build_model(tables(), Partition(i, 3)).next_payment_serial for i in range(3)]
    assert firsts == [121, 122, 123]
    assert build_model(tables(), Partition(2, 3)).serial_step == 3
    assert build_model(tables(last_reference=None), Partition(1, 3)).next_payment_serial == 2


def test_a_reference_the_workload_did_not_write_is_refused() -> None:
    with pytest.raises(WorkloadError, match="not written by the workload"):
        build_model(tables(last_reference="INV-7"), Partition(0, 2))


def test_missing_torture_rows_are_refused_for_every_worker() -> None:
    damaged = TablesRead((), (), (), None, TORTURE_IDS - {3})
    with pytest.raises(WorkloadError, match=r"\[3\]"):
        build_model(damaged, Partition(1, 16))


def test_worker_shares_add_up_to_the_limit() -> None:
    for total in (0, 1, 7, 1000):
        for count in (1, 3, 8):
            shares = [worker_transactions(total, Partition(i, count)) for i in range(count)]
            assert sum(s or 0 for s in shares) == total
            assert max(s or 0 for s in shares) - min(s or 0 for s in shares) <= 1
    assert worker_transactions(None, Partition(0, 4)) is None


def test_worker_seeds_are_reproducible_and_distinct() -> None:
    seeds = [worker_seed(1, i) for i in range(16)] + [worker_seed(2, i) for i in range(16)]
    assert len(set(seeds)) == 32
    assert worker_seed(1, 3) == worker_seed(1, 3)


def test_one_connection_keeps_the_options_as_they_are() -> None:
    options = RunOptions(database="db", seed=5, rate=100, transactions=10,
                         marks_file=Path("m.jsonl"), mark_every=1.0)
    assert worker_options(options, 1) == (options,)


def test_each_worker_gets_a_share_of_the_rate_a_seed_and_no_marks() -> None:
    options = RunOptions(database="db", seed=5, rate=1000, duration=60,
                         marks_file=Path("m.jsonl"))
    parts = worker_options(options, 8)
    assert [p.partition for p in parts] == [Partition(i, 8) for i in range(8)]
    assert {p.rate for p in parts} == {125.0}
    assert [p.seed for p in parts] == [worker_seed(5, i) for i in range(8)]
    assert {(p.duration, p.transactions, p.marks_file, p.database) for p in parts} == {
        (60, None, None, "db")}


@dataclass
class SharedServer:
    """One server for every worker: one auto-increment per table, as the real one has."""

    next_id: dict[str, int] = field(default_factory=lambda: defaultdict(lambda: 1000))

    def take(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def assign(self, operation: Operation) -> int | None:
        match operation:
            case OpenAccount():
                return self.take("accounts")
            case MakePayment() | FailPayment():
                return self.take("payments")
            case RefundPayment():
                return self.take("refunds")
        return None


def touched(operation: Operation, created: int | None) -> set[tuple[str, int]]:
    """The rows a transaction writes or locks (a foreign key check locks the parent row)."""
    match operation:
        case OpenAccount():
            return {("accounts", created or 0)}
        case MakePayment() | FailPayment():
            return {("accounts", operation.from_account), ("accounts", operation.to_account),
                    ("payments", created or 0)}
        case RefundPayment():
            return {("accounts", operation.payer_account), ("accounts", operation.payee_account),
                    ("payments", operation.payment_id), ("refunds", created or 0)}
        case PurgeFailedPayment():
            return {("payments", operation.payment_id)}
        case ChangeAccountStatus():
            return {("accounts", operation.account_id)}
        case RewriteTortureRow() | ReinsertTortureRow():
            return {("type_torture", operation.row_id)}


def run_side_by_side(count: int, steps: int) -> tuple[list[set[tuple[str, int]]],
                                                        list[str], list[WorkloadModel],
                                                        set[OperationKind]]:
    server = SharedServer()
    models = [build_model(tables(), Partition(i, count)) for i in range(count)]
    planners = [Planner(random.Random(worker_seed(3, i))) for i in range(count)]
    rows: list[set[tuple[str, int]]] = [set() for _ in range(count)]
    references: list[str] = []
    kinds: set[OperationKind] = set()
    order = random.Random(0)
    for _ in range(steps):
        index = order.randrange(count)  # the workers' transactions interleave in any order
        operation = planners[index].next_operation(models[index])
        created = server.assign(operation)
        models[index].apply(operation, created)
        rows[index] |= touched(operation, created)
        kinds.add(operation.kind)
        if isinstance(operation, MakePayment | FailPayment):
            references.append(operation.reference)
    return rows, references, models, kinds


@pytest.mark.parametrize("count", [2, 4, 16])
def test_workers_never_touch_the_same_row(count: int) -> None:
    rows, _, _, kinds = run_side_by_side(count, steps=4000)
    for index, mine in enumerate(rows):
        for other in rows[index + 1:]:
            assert not mine & other
    assert OperationKind.REFUND in kinds
    assert OperationKind.PURGE_FAILED_PAYMENT in kinds


@pytest.mark.parametrize("count", [1, 3, 8])
def test_references_never_collide_and_keep_their_serials(count: int) -> None:
    _, references, _, _ = run_side_by_side(count, steps=3000)
    assert len(references) == len(set(references)) > 100
    serials = [parse_reference_serial(reference) for reference in references]
    assert None not in serials
    assert len(set(serials)) == len(serials)
    assert min(s for s in serials if s is not None) >= 121


def test_the_balances_of_all_workers_still_sum_to_zero() -> None:
    _, _, models, _ = run_side_by_side(4, steps=3000)
    # Money moves only between accounts of one worker, so each worker's part sums to zero.
    assert [model.total_balance() for model in models] == [0, 0, 0, 0]
    assert any(a.balance != 0 for model in models for a in model.accounts.values())


def test_a_worker_without_torture_rows_never_plans_torture_operations() -> None:
    model = build_model(tables(accounts=400), Partition(12, 16))
    assert model.torture_row_ids == ()
    assert model.active_account_count >= 12  # past the opening of accounts
    planner = Planner(random.Random(1))
    kinds = {planner.next_operation(model).kind for _ in range(3000)}
    assert not kinds & {OperationKind.TORTURE_REWRITE, OperationKind.TORTURE_REINSERT}


def test_a_worker_with_one_torture_row_rewrites_it_from_the_others_values() -> None:
    model = build_model(tables(accounts=200), Partition(3, 8))
    assert model.torture_row_ids == (3,)
    planner = Planner(random.Random(2))
    rewrites = [op for op in (planner.next_operation(model) for _ in range(4000))
                if isinstance(op, RewriteTortureRow)]
    assert rewrites
    assert {op.row_id for op in rewrites} == {3}
    assert {op.source_row_id for op in rewrites} <= set(TORTURE_IDS - {3})
    assert len({op.source_row_id for op in rewrites}) > 1
