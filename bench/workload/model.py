"""The workload's in-memory picture of the payments tables: what exists and may be chosen.

The planner reads it to pick valid operations; after each committed transaction the runner
applies the operation to it. It holds only what choosing needs (ids, statuses, balances and a
bounded window of refundable payments), so memory stays flat over long runs.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bench.workload.types import (
    AccountStatus,
    ChangeAccountStatus,
    FailPayment,
    MakePayment,
    OpenAccount,
    Operation,
    PurgeFailedPayment,
    RefundPayment,
    ReinsertTortureRow,
    RewriteTortureRow,
)

# Refunds go to recent payments, as in real life; remembering only the newest ones keeps the
# model's memory bounded however long the workload runs.
REFUND_WINDOW = 10_000


@dataclass
class AccountState:
    account_id: int
    currency: str
    status: AccountStatus
    balance: Decimal


@dataclass(frozen=True)
class SettledPayment:
    payment_id: int
    payer_account: int
    payee_account: int
    amount: Decimal


class WorkloadModel:
    def __init__(
        self,
        *,
        accounts: Iterable[AccountState] = (),
        settled_payments: Iterable[SettledPayment] = (),
        failed_payment_ids: Iterable[int] = (),
        next_payment_serial: int = 1,
        serial_step: int = 1,
        torture_row_ids: Sequence[int] = (),
        torture_value_ids: Sequence[int] | None = None,
        refund_window: int = REFUND_WINDOW,
    ) -> None:
        self.accounts: dict[int, AccountState] = {}
        # Sorted id lists make every random pick reproducible for a given seed and state.
        self.active_by_currency: dict[str, list[int]] = {}
        self.open_account_ids: list[int] = []
        for account in sorted(accounts, key=lambda a: a.account_id):
            self._add_account(account)
        self.refund_window = refund_window
        self.settled_payments: list[SettledPayment] = list(settled_payments)[-refund_window:]
        self.failed_payment_ids: list[int] = sorted(failed_payment_ids)
        self.next_payment_serial = next_payment_serial
        # One worker of several takes every count-th serial (see partition.py).
        self.serial_step = serial_step
        # The rows this model may write, and the rows whose values a rewrite may copy: those
        # come from the pure data, so they need not be rows this model owns.
        self.torture_row_ids: tuple[int, ...] = tuple(sorted(torture_row_ids))
        self.torture_value_ids: tuple[int, ...] = (
            self.torture_row_ids if torture_value_ids is None
            else tuple(sorted(torture_value_ids)))

    @property
    def active_account_count(self) -> int:
        return sum(len(ids) for ids in self.active_by_currency.values())

    def total_balance(self) -> Decimal:
        return sum((a.balance for a in self.accounts.values()), Decimal(0))

    def is_active(self, account_id: int) -> bool:
        account = self.accounts.get(account_id)
        return account is not None and account.status is AccountStatus.ACTIVE

    def apply(self, operation: Operation, created_id: int | None) -> None:
        """Record a committed operation; ``created_id`` is the id the server assigned, if any."""
        match operation:
            case OpenAccount():
                self._add_account(AccountState(
                    _required(created_id, operation), operation.currency, AccountStatus.ACTIVE,
                    Decimal(0),
                ))
            case MakePayment():
                payment_id = _required(created_id, operation)
                self._move(operation.from_account, operation.to_account, operation.amount)
                self.settled_payments.append(SettledPayment(
                    payment_id, operation.from_account, operation.to_account, operation.amount,
                ))
                del self.settled_payments[:-self.refund_window]
                self.next_payment_serial += self.serial_step
            case FailPayment():
                self.failed_payment_ids.append(_required(created_id, operation))
                self.next_payment_serial += self.serial_step
            case RefundPayment():
                self._move(operation.payee_account, operation.payer_account, operation.amount)
                self.settled_payments = [
                    p for p in self.settled_payments if p.payment_id != operation.payment_id
                ]
            case PurgeFailedPayment():
                self.failed_payment_ids.remove(operation.payment_id)
            case ChangeAccountStatus():
                self._set_status(operation.account_id, operation.new_status)
            case RewriteTortureRow() | ReinsertTortureRow():
                pass  # the torture table is back to its pure data at every commit

    def _add_account(self, account: AccountState) -> None:
        self.accounts[account.account_id] = account
        if account.status is not AccountStatus.CLOSED:
            bisect.insort(self.open_account_ids, account.account_id)
        if account.status is AccountStatus.ACTIVE:
            bisect.insort(self.active_by_currency.setdefault(account.currency, []),
                          account.account_id)

    def _set_status(self, account_id: int, status: AccountStatus) -> None:
        account = self.accounts[account_id]
        active = self.active_by_currency.setdefault(account.currency, [])
        if account.status is AccountStatus.ACTIVE:
            active.remove(account_id)
        if status is AccountStatus.ACTIVE:
            bisect.insort(active, account_id)
        if status is AccountStatus.CLOSED:
            self.open_account_ids.remove(account_id)
        account.status = status

    def _move(self, debit_account: int, credit_account: int, amount: Decimal) -> None:
        self.accounts[debit_account].balance -= amount
        self.accounts[credit_account].balance += amount


def _required(created_id: int | None, operation: Operation) -> int:
    if created_id is None:
        raise ValueError(f"{operation.kind.value} needs the id the server assigned")
    return created_id
