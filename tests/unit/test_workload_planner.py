"""The planner and the model, driven without a database: a fake server assigns ids."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from bench.workload.model import AccountState, SettledPayment, WorkloadModel
from bench.workload.planner import Planner, parse_reference_serial, payment_reference
from bench.workload.types import (
    AccountStatus,
    ChangeAccountStatus,
    FailPayment,
    MakePayment,
    OpenAccount,
    Operation,
    OperationKind,
    PaymentStatus,
    PurgeFailedPayment,
    RefundPayment,
    ReinsertTortureRow,
    RewriteTortureRow,
)

TORTURE_IDS = tuple(range(1, 11))


@dataclass
class AutoIncrement:
    next_id: int = 1

    def take(self) -> int:
        self.next_id += 1
        return self.next_id - 1


@dataclass
class FakeServer:
    """Assigns auto-increment ids and keeps its own record of every payment's status,
    independent of the model, so the test can judge the planner's choices."""

    account_ids: AutoIncrement = field(default_factory=AutoIncrement)
    payment_ids: AutoIncrement = field(default_factory=AutoIncrement)
    refund_ids: AutoIncrement = field(default_factory=AutoIncrement)
    payment_status: dict[int, PaymentStatus] = field(default_factory=dict)
    references: set[str] = field(default_factory=set)
    balances: dict[int, Decimal] = field(default_factory=dict)

    def assign(self, operation: Operation) -> int | None:
        match operation:
            case OpenAccount():
                account_id = self.account_ids.take()
                self.balances[account_id] = Decimal(0)
                return account_id
            case MakePayment():
                payment_id = self.payment_ids.take()
                self.payment_status[payment_id] = PaymentStatus.SETTLED
                self.balances[operation.from_account] -= operation.amount
                self.balances[operation.to_account] += operation.amount
                return payment_id
            case FailPayment():
                payment_id = self.payment_ids.take()
                self.payment_status[payment_id] = PaymentStatus.FAILED
                return payment_id
            case RefundPayment():
                self.payment_status[operation.payment_id] = PaymentStatus.REFUNDED
                self.balances[operation.payee_account] -= operation.amount
                self.balances[operation.payer_account] += operation.amount
                return self.refund_ids.take()
            case PurgeFailedPayment():
                del self.payment_status[operation.payment_id]
        return None


def assert_valid(operation: Operation, model: WorkloadModel, server: FakeServer) -> None:
    match operation:
        case OpenAccount():
            assert operation.currency in {"EUR", "USD", "GBP"}
            assert operation.owner.strip()
        case MakePayment() | FailPayment():
            payer = model.accounts[operation.from_account]
            payee = model.accounts[operation.to_account]
            assert operation.from_account != operation.to_account
            assert payer.status is AccountStatus.ACTIVE
            assert payee.status is AccountStatus.ACTIVE
            assert payer.currency == payee.currency == operation.currency
            assert operation.amount > 0
            assert operation.amount.as_tuple().exponent == -4
            assert operation.reference not in server.references
            assert len(operation.reference) <= 64
            server.references.add(operation.reference)
        case RefundPayment():
            assert server.payment_status[operation.payment_id] is PaymentStatus.SETTLED
            assert model.is_active(operation.payer_account)
            assert model.is_active(operation.payee_account)
        case PurgeFailedPayment():
            assert server.payment_status[operation.payment_id] is PaymentStatus.FAILED
        case ChangeAccountStatus():
            account = model.accounts[operation.account_id]
            assert account.status is operation.old_status
            assert operation.new_status is not operation.old_status
            assert account.status is not AccountStatus.CLOSED
            if operation.new_status is AccountStatus.CLOSED:
                assert account.balance == 0
        case RewriteTortureRow():
            assert operation.row_id != operation.source_row_id
            assert {operation.row_id, operation.source_row_id} <= set(TORTURE_IDS)
        case ReinsertTortureRow():
            assert operation.row_id in TORTURE_IDS


def simulate(seed: int, steps: int, model: WorkloadModel | None = None,
             server: FakeServer | None = None) -> tuple[list[Operation], WorkloadModel]:
    model = model if model is not None else WorkloadModel(torture_row_ids=TORTURE_IDS)
    server = server if server is not None else FakeServer()
    planner = Planner(random.Random(seed))
    operations = []
    for _ in range(steps):
        operation = planner.next_operation(model)
        assert_valid(operation, model, server)
        model.apply(operation, server.assign(operation))
        operations.append(operation)
    return operations, model


def test_same_seed_gives_the_same_operations() -> None:
    first, _ = simulate(seed=7, steps=1500)
    second, _ = simulate(seed=7, steps=1500)
    assert first == second


def test_different_seeds_give_different_operations() -> None:
    first, _ = simulate(seed=7, steps=200)
    other, _ = simulate(seed=8, steps=200)
    assert first != other


def test_same_seed_from_the_same_mid_run_state_gives_the_same_operations() -> None:
    server = FakeServer(references=set())
    _, model = simulate(seed=1, steps=400, server=server)
    copies = [(copy.deepcopy(model), copy.deepcopy(server)) for _ in range(2)]
    runs = [simulate(seed=99, steps=500, model=m, server=s)[0] for m, s in copies]
    assert runs[0] == runs[1]


def test_every_operation_is_valid_and_every_kind_occurs() -> None:
    operations, _ = simulate(seed=3, steps=3000)  # simulate asserts validity at each step
    kinds = {operation.kind for operation in operations}
    assert kinds == set(OperationKind)


def test_money_is_conserved_after_every_transaction() -> None:
    model = WorkloadModel(torture_row_ids=TORTURE_IDS)
    server = FakeServer()
    planner = Planner(random.Random(11))
    moved = Decimal(0)
    for _ in range(2000):
        operation = planner.next_operation(model)
        model.apply(operation, server.assign(operation))
        if isinstance(operation, MakePayment):
            moved += operation.amount
        assert model.total_balance() == 0
    assert moved > 0  # money really moved; a run of account openings would prove nothing
    assert {a: s.balance for a, s in model.accounts.items()} == server.balances


def test_a_fresh_database_starts_by_opening_accounts() -> None:
    operations, _ = simulate(seed=5, steps=12)
    assert all(isinstance(operation, OpenAccount) for operation in operations)


def test_refunds_never_repeat_and_leave_the_refund_window() -> None:
    operations, model = simulate(seed=21, steps=2000)
    refunded = [op.payment_id for op in operations if isinstance(op, RefundPayment)]
    assert refunded
    assert len(refunded) == len(set(refunded))
    assert not set(refunded) & {p.payment_id for p in model.settled_payments}


def test_the_refund_window_bounds_the_model() -> None:
    model = WorkloadModel(torture_row_ids=TORTURE_IDS, refund_window=5)
    simulate(seed=2, steps=500, model=model)
    assert len(model.settled_payments) <= 5


def test_references_continue_from_the_models_serial() -> None:
    accounts = [AccountState(i, "EUR", AccountStatus.ACTIVE, Decimal(0)) for i in range(1, 21)]
    model = WorkloadModel(accounts=accounts, next_payment_serial=500,
                          torture_row_ids=TORTURE_IDS)
    operations, _ = simulate(seed=4, steps=300, model=model,
                             server=FakeServer(account_ids=AutoIncrement(21),
                                               balances=dict.fromkeys(range(1, 21),
                                                                      Decimal(0))))
    serials = [
        parse_reference_serial(op.reference) for op in operations
        if isinstance(op, MakePayment | FailPayment)
    ]
    assert serials[0] == 500
    assert serials == list(range(500, 500 + len(serials)))


def test_payment_reference_round_trips_its_serial() -> None:
    reference = payment_reference(42, 0xDEADBEEF)
    assert reference == "PAY-000000000042-deadbeef"
    assert parse_reference_serial(reference) == 42
    assert parse_reference_serial("INV-17") is None


def test_refund_falls_back_when_every_candidate_touches_a_frozen_account() -> None:
    accounts = [AccountState(i, "EUR", AccountStatus.ACTIVE, Decimal(0)) for i in range(1, 14)]
    accounts.append(AccountState(14, "EUR", AccountStatus.FROZEN, Decimal(5)))
    model = WorkloadModel(
        accounts=accounts,
        settled_payments=[SettledPayment(1, 14, 1, Decimal(5))],
        torture_row_ids=TORTURE_IDS,
    )
    planner = Planner(random.Random(0), weights={OperationKind.REFUND: 1})
    operation = planner.next_operation(model)
    assert isinstance(operation, OpenAccount)


def test_model_rejects_an_insert_without_the_assigned_id() -> None:
    model = WorkloadModel()
    with pytest.raises(ValueError, match="open_account"):
        model.apply(OpenAccount(owner="Ada", currency="EUR"), None)
