"""Small value types shared by the planner, the model, the executor and the summary.

An operation is one workload transaction, described completely before any SQL runs, so the
choice of what to do (the planner, pure) stays apart from doing it (the executor, SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import ClassVar


class OperationKind(Enum):
    OPEN_ACCOUNT = "open_account"
    PAYMENT = "payment"
    FAILED_PAYMENT = "failed_payment"
    REFUND = "refund"
    PURGE_FAILED_PAYMENT = "purge_failed_payment"
    ACCOUNT_STATUS_CHANGE = "account_status_change"
    TORTURE_REWRITE = "torture_rewrite"
    TORTURE_REINSERT = "torture_reinsert"


class AccountStatus(Enum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class PaymentStatus(Enum):
    PENDING = "pending"
    SETTLED = "settled"
    FAILED = "failed"
    REFUNDED = "refunded"


class ChangeKind(Enum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class OpenAccount:
    kind: ClassVar[OperationKind] = OperationKind.OPEN_ACCOUNT
    owner: str
    currency: str


@dataclass(frozen=True)
class MakePayment:
    """Insert a pending payment, book both ledger legs, move the balances, settle it."""

    kind: ClassVar[OperationKind] = OperationKind.PAYMENT
    reference: str
    from_account: int
    to_account: int
    amount: Decimal
    currency: str
    metadata_json: str


@dataclass(frozen=True)
class FailPayment:
    """Insert a pending payment and mark it failed: no ledger entries, no balance change."""

    kind: ClassVar[OperationKind] = OperationKind.FAILED_PAYMENT
    reference: str
    from_account: int
    to_account: int
    amount: Decimal
    currency: str
    metadata_json: str
    failure_reason: str


@dataclass(frozen=True)
class RefundPayment:
    """Refund a settled payment in full: refund row, reversing ledger legs, balances back."""

    kind: ClassVar[OperationKind] = OperationKind.REFUND
    payment_id: int
    payer_account: int
    payee_account: int
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class PurgeFailedPayment:
    kind: ClassVar[OperationKind] = OperationKind.PURGE_FAILED_PAYMENT
    payment_id: int


@dataclass(frozen=True)
class ChangeAccountStatus:
    kind: ClassVar[OperationKind] = OperationKind.ACCOUNT_STATUS_CHANGE
    account_id: int
    old_status: AccountStatus
    new_status: AccountStatus


@dataclass(frozen=True)
class RewriteTortureRow:
    """Overwrite a type-torture row with another row's values, then restore its own values.

    Both updates land in one transaction, so capture sees before and after images of every
    column type while the table still equals the pure data at every commit.
    """

    kind: ClassVar[OperationKind] = OperationKind.TORTURE_REWRITE
    row_id: int
    source_row_id: int


@dataclass(frozen=True)
class ReinsertTortureRow:
    """Delete a type-torture row and insert it again with the same values, in one transaction."""

    kind: ClassVar[OperationKind] = OperationKind.TORTURE_REINSERT
    row_id: int


Operation = (
    OpenAccount
    | MakePayment
    | FailPayment
    | RefundPayment
    | PurgeFailedPayment
    | ChangeAccountStatus
    | RewriteTortureRow
    | ReinsertTortureRow
)


@dataclass(frozen=True)
class RowChange:
    """Rows one statement changed in one table; equals the row events it puts in the binlog."""

    table: str
    kind: ChangeKind
    rows: int


@dataclass(frozen=True)
class Outcome:
    """What executing an operation produced: the id the server assigned, and the row changes."""

    created_id: int | None
    changes: tuple[RowChange, ...]
