"""Chooses the next workload transaction: pure logic over a seeded RNG and the model.

The same seed and the same starting model give the same sequence of operations, as long as
the server assigns the same ids (it does on the same starting state). Every operation the
planner returns is valid against the model: payments only between active accounts of one
currency, refunds only of settled payments, closing only accounts with a zero balance.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from bench.workload.model import SettledPayment, WorkloadModel
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
from bench.workload.vocabulary import (
    CARD_BRANDS,
    CHANNELS,
    COUNTRIES,
    CURRENCIES,
    FAILURE_REASONS,
    FIRST_NAMES,
    LAST_NAMES,
    NOTES,
    REFUND_REASONS,
)

DEFAULT_WEIGHTS: Mapping[OperationKind, int] = MappingProxyType({
    OperationKind.PAYMENT: 50,
    OperationKind.FAILED_PAYMENT: 8,
    OperationKind.REFUND: 8,
    OperationKind.OPEN_ACCOUNT: 6,
    OperationKind.ACCOUNT_STATUS_CHANGE: 4,
    OperationKind.PURGE_FAILED_PAYMENT: 4,
    OperationKind.TORTURE_REWRITE: 2,
    OperationKind.TORTURE_REINSERT: 1,
})

# Below this many active accounts the planner only opens accounts, so a fresh database
# quickly reaches a population where payments have somewhere to go.
MIN_ACTIVE_ACCOUNTS = 12

_FOUR_PLACES = Decimal("0.0001")


def payment_reference(serial: int, token: int) -> str:
    """``PAY-<12-digit serial>-<8 hex>``: the serial keeps references unique across runs."""
    return f"PAY-{serial:012d}-{token:08x}"


def parse_reference_serial(reference: str) -> int | None:
    parts = reference.split("-")
    if len(parts) != 3 or parts[0] != "PAY" or not parts[1].isdigit():
        return None
    return int(parts[1])


class Planner:
    def __init__(
        self, rng: random.Random, weights: Mapping[OperationKind, int] = DEFAULT_WEIGHTS,
    ) -> None:
        self._rng = rng
        self._weights = dict(weights)

    def next_operation(self, model: WorkloadModel) -> Operation:
        if model.active_account_count < MIN_ACTIVE_ACCOUNTS:
            return self._open_account()
        kinds = [k for k, w in self._weights.items() if w > 0 and _possible(k, model)]
        if not kinds:
            return self._open_account()
        kind = self._rng.choices(kinds, weights=[self._weights[k] for k in kinds])[0]
        # A kind that looked possible can still find no valid target (every refundable
        # payment touches a frozen account, say); opening an account is always valid.
        return self._build(kind, model) or self._open_account()

    def _build(self, kind: OperationKind, model: WorkloadModel) -> Operation | None:
        match kind:
            case OperationKind.OPEN_ACCOUNT:
                return self._open_account()
            case OperationKind.PAYMENT:
                return self._payment(model)
            case OperationKind.FAILED_PAYMENT:
                return self._failed_payment(model)
            case OperationKind.REFUND:
                return self._refund(model)
            case OperationKind.PURGE_FAILED_PAYMENT:
                # The oldest failed payment goes first, as a retention job would purge it.
                return PurgeFailedPayment(model.failed_payment_ids[0])
            case OperationKind.ACCOUNT_STATUS_CHANGE:
                return self._status_change(model)
            case OperationKind.TORTURE_REWRITE:
                return self._torture_rewrite(model)
            case OperationKind.TORTURE_REINSERT:
                return ReinsertTortureRow(self._rng.choice(model.torture_row_ids))

    def _torture_rewrite(self, model: WorkloadModel) -> RewriteTortureRow:
        if model.torture_value_ids == model.torture_row_ids:
            row_id, source_row_id = self._rng.sample(model.torture_row_ids, 2)
        else:
            # A worker of a parallel run writes only its own rows, but may copy any other
            # row's values: they come from the pure data, not from the table.
            row_id = self._rng.choice(model.torture_row_ids)
            source_row_id = self._rng.choice(
                [i for i in model.torture_value_ids if i != row_id])
        return RewriteTortureRow(row_id, source_row_id)

    def _open_account(self) -> OpenAccount:
        owner = f"{self._rng.choice(FIRST_NAMES)} {self._rng.choice(LAST_NAMES)}"
        return OpenAccount(owner=owner, currency=self._rng.choice(CURRENCIES))

    def _payment(self, model: WorkloadModel) -> MakePayment | None:
        parties = self._pick_parties(model)
        if parties is None:
            return None
        currency, payer, payee = parties
        return MakePayment(
            reference=self._reference(model), from_account=payer, to_account=payee,
            amount=self._amount(), currency=currency, metadata_json=self._metadata(),
        )

    def _failed_payment(self, model: WorkloadModel) -> FailPayment | None:
        parties = self._pick_parties(model)
        if parties is None:
            return None
        currency, payer, payee = parties
        return FailPayment(
            reference=self._reference(model), from_account=payer, to_account=payee,
            amount=self._amount(), currency=currency, metadata_json=self._metadata(),
            failure_reason=self._rng.choice(FAILURE_REASONS),
        )

    def _refund(self, model: WorkloadModel) -> RefundPayment | None:
        candidate = self._pick_refundable(model)
        if candidate is None:
            return None
        return RefundPayment(
            payment_id=candidate.payment_id, payer_account=candidate.payer_account,
            payee_account=candidate.payee_account, amount=candidate.amount,
            reason=self._rng.choice(REFUND_REASONS),
        )

    def _status_change(self, model: WorkloadModel) -> ChangeAccountStatus:
        account = model.accounts[self._rng.choice(model.open_account_ids)]
        if account.status is AccountStatus.ACTIVE:
            new_status = AccountStatus.FROZEN
        else:
            new_status = AccountStatus.ACTIVE
        # Closing needs a zero balance, as a real ledger would insist.
        if account.balance == 0 and self._rng.random() < 0.3:
            new_status = AccountStatus.CLOSED
        return ChangeAccountStatus(account.account_id, account.status, new_status)

    def _pick_parties(self, model: WorkloadModel) -> tuple[str, int, int] | None:
        currencies = sorted(c for c, ids in model.active_by_currency.items() if len(ids) >= 2)
        if not currencies:
            return None
        currency = self._rng.choice(currencies)
        payer, payee = self._rng.sample(model.active_by_currency[currency], 2)
        return currency, payer, payee

    def _pick_refundable(self, model: WorkloadModel) -> SettledPayment | None:
        payments = model.settled_payments
        if not payments:
            return None
        start = self._rng.randrange(len(payments))
        for offset in range(len(payments)):
            candidate = payments[(start + offset) % len(payments)]
            if model.is_active(candidate.payer_account) and model.is_active(
                candidate.payee_account,
            ):
                return candidate
        return None

    def _reference(self, model: WorkloadModel) -> str:
        return payment_reference(model.next_payment_serial, self._rng.getrandbits(32))

    def _amount(self) -> Decimal:
        # Mostly whole cents; now and then four places, as FX-converted amounts have.
        if self._rng.random() < 0.1:
            return Decimal(self._rng.randint(1, 99_999_999)).scaleb(-4).quantize(_FOUR_PLACES)
        return Decimal(self._rng.randint(1, 2_500_000)).scaleb(-2).quantize(_FOUR_PLACES)

    def _metadata(self) -> str:
        channel = self._rng.choice(CHANNELS)
        document: dict[str, object] = {
            "channel": channel,
            "customer": {"country": self._rng.choice(COUNTRIES),
                         "ip": f"203.0.113.{self._rng.randint(1, 254)}"},
            "note": self._rng.choice(NOTES),
        }
        if channel == "card":
            document["card"] = {"brand": self._rng.choice(CARD_BRANDS),
                                "last4": f"{self._rng.randint(0, 9999):04d}"}
        return json.dumps(document, ensure_ascii=False, sort_keys=True)


def _possible(kind: OperationKind, model: WorkloadModel) -> bool:
    """Cheap test whether a kind can have a target at all; the builder may still find none."""
    match kind:
        case OperationKind.OPEN_ACCOUNT:
            return True
        case OperationKind.PAYMENT | OperationKind.FAILED_PAYMENT:
            return any(len(ids) >= 2 for ids in model.active_by_currency.values())
        case OperationKind.REFUND:
            return bool(model.settled_payments)
        case OperationKind.PURGE_FAILED_PAYMENT:
            return bool(model.failed_payment_ids)
        case OperationKind.ACCOUNT_STATUS_CHANGE:
            return bool(model.open_account_ids)
        case OperationKind.TORTURE_REWRITE:
            return bool(model.torture_row_ids) and len(model.torture_value_ids) >= 2
        case OperationKind.TORTURE_REINSERT:
            return bool(model.torture_row_ids)
