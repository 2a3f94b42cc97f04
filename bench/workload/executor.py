"""Runs one planned operation as one source transaction: the SQL side of the planner.

Every statement's changed-row count is checked (see checked_write), and a guard in each
WHERE clause (status = 'active', status = 'pending', ...) makes a model that has drifted
from the database fail loudly instead of writing nonsense.
"""

from __future__ import annotations

import contextlib

import pymysql
from pymysql.cursors import Cursor

from bench.workload.checked_write import checked_write
from bench.workload.connection import MySQLConnection, translate_error
from bench.workload.torture_table import reinsert_row, rewrite_row
from bench.workload.types import (
    AccountStatus,
    ChangeAccountStatus,
    ChangeKind,
    FailPayment,
    MakePayment,
    OpenAccount,
    Operation,
    Outcome,
    PurgeFailedPayment,
    RefundPayment,
    ReinsertTortureRow,
    RewriteTortureRow,
    RowChange,
)

INSERT, UPDATE, DELETE = ChangeKind.INSERT, ChangeKind.UPDATE, ChangeKind.DELETE

_INSERT_ACCOUNT = "INSERT INTO accounts (owner, currency) VALUES (%s, %s)"
_INSERT_PAYMENT = (
    "INSERT INTO payments (reference, from_account_id, to_account_id, amount, currency, "
    "status, metadata) VALUES (%s, %s, %s, %s, %s, 'pending', %s)"
)
_INSERT_LEDGER_PAIR = (
    "INSERT INTO ledger_entries (payment_id, refund_id, account_id, direction, amount) "
    "VALUES (%s, %s, %s, 'debit', %s), (%s, %s, %s, 'credit', %s)"
)
_DEBIT = "UPDATE accounts SET balance = balance - %s WHERE id = %s AND status = 'active'"
_CREDIT = "UPDATE accounts SET balance = balance + %s WHERE id = %s AND status = 'active'"
_SETTLE = (
    "UPDATE payments SET status = 'settled', settled_at = CURRENT_TIMESTAMP(6) "
    "WHERE id = %s AND status = 'pending'"
)
_FAIL = (
    "UPDATE payments SET status = 'failed', failure_reason = %s "
    "WHERE id = %s AND status = 'pending'"
)
_INSERT_REFUND = "INSERT INTO refunds (payment_id, amount, reason) VALUES (%s, %s, %s)"
_MARK_REFUNDED = "UPDATE payments SET status = 'refunded' WHERE id = %s AND status = 'settled'"
_PURGE = "DELETE FROM payments WHERE id = %s AND status = 'failed'"
_SET_STATUS = "UPDATE accounts SET status = %s WHERE id = %s AND status = %s"
_CLOSE = "UPDATE accounts SET status = 'closed' WHERE id = %s AND status = %s AND balance = 0"


class Executor:
    def __init__(self, connection: MySQLConnection) -> None:
        self._connection = connection

    def execute(self, operation: Operation) -> Outcome:
        """Run the operation and commit; on any error roll back and raise a CdcError."""
        try:
            with self._connection.cursor() as cursor:
                outcome = _run(cursor, operation)
            self._connection.commit()
        except pymysql.MySQLError as exc:
            self._rollback_quietly()
            raise translate_error(exc, f"the {operation.kind.value} transaction") from None
        except BaseException:
            self._rollback_quietly()
            raise
        return outcome

    def _rollback_quietly(self) -> None:
        # The original error is the one worth reporting; a failed rollback on a dead
        # connection would only hide it.
        with contextlib.suppress(pymysql.MySQLError):
            self._connection.rollback()


def _run(cursor: Cursor, operation: Operation) -> Outcome:
    match operation:
        case OpenAccount():
            change = checked_write(cursor, _INSERT_ACCOUNT,
                                   (operation.owner, operation.currency),
                                   table="accounts", kind=INSERT)
            return Outcome(cursor.lastrowid, (change,))
        case MakePayment():
            return _make_payment(cursor, operation)
        case FailPayment():
            return _fail_payment(cursor, operation)
        case RefundPayment():
            return _refund(cursor, operation)
        case PurgeFailedPayment():
            change = checked_write(cursor, _PURGE, (operation.payment_id,),
                                   table="payments", kind=DELETE)
            return Outcome(None, (change,))
        case ChangeAccountStatus():
            return Outcome(None, (_change_status(cursor, operation),))
        case RewriteTortureRow():
            return Outcome(None, rewrite_row(cursor, operation.row_id, operation.source_row_id))
        case ReinsertTortureRow():
            return Outcome(None, reinsert_row(cursor, operation.row_id))


def _insert_pending_payment(cursor: Cursor, payment: MakePayment | FailPayment) -> RowChange:
    return checked_write(
        cursor, _INSERT_PAYMENT,
        (payment.reference, payment.from_account, payment.to_account, payment.amount,
         payment.currency, payment.metadata_json),
        table="payments", kind=INSERT,
    )


def _make_payment(cursor: Cursor, payment: MakePayment) -> Outcome:
    inserted = _insert_pending_payment(cursor, payment)
    payment_id = cursor.lastrowid
    changes = (
        inserted,
        checked_write(cursor, _INSERT_LEDGER_PAIR,
                      (payment_id, None, payment.from_account, payment.amount,
                       payment_id, None, payment.to_account, payment.amount),
                      table="ledger_entries", kind=INSERT, expected_rows=2),
        checked_write(cursor, _DEBIT, (payment.amount, payment.from_account),
                      table="accounts", kind=UPDATE),
        checked_write(cursor, _CREDIT, (payment.amount, payment.to_account),
                      table="accounts", kind=UPDATE),
        checked_write(cursor, _SETTLE, (payment_id,), table="payments", kind=UPDATE),
    )
    return Outcome(payment_id, changes)


def _fail_payment(cursor: Cursor, payment: FailPayment) -> Outcome:
    inserted = _insert_pending_payment(cursor, payment)
    payment_id = cursor.lastrowid
    failed = checked_write(cursor, _FAIL, (payment.failure_reason, payment_id),
                           table="payments", kind=UPDATE)
    return Outcome(payment_id, (inserted, failed))


def _refund(cursor: Cursor, refund: RefundPayment) -> Outcome:
    inserted = checked_write(cursor, _INSERT_REFUND,
                             (refund.payment_id, refund.amount, refund.reason),
                             table="refunds", kind=INSERT)
    refund_id = cursor.lastrowid
    # The reversing legs: the payee is debited and the payer credited.
    changes = (
        inserted,
        checked_write(cursor, _INSERT_LEDGER_PAIR,
                      (refund.payment_id, refund_id, refund.payee_account, refund.amount,
                       refund.payment_id, refund_id, refund.payer_account, refund.amount),
                      table="ledger_entries", kind=INSERT, expected_rows=2),
        checked_write(cursor, _DEBIT, (refund.amount, refund.payee_account),
                      table="accounts", kind=UPDATE),
        checked_write(cursor, _CREDIT, (refund.amount, refund.payer_account),
                      table="accounts", kind=UPDATE),
        checked_write(cursor, _MARK_REFUNDED, (refund.payment_id,),
                      table="payments", kind=UPDATE),
    )
    return Outcome(refund_id, changes)


def _change_status(cursor: Cursor, change: ChangeAccountStatus) -> RowChange:
    if change.new_status is AccountStatus.CLOSED:
        return checked_write(cursor, _CLOSE, (change.account_id, change.old_status.value),
                             table="accounts", kind=UPDATE)
    return checked_write(cursor, _SET_STATUS,
                         (change.new_status.value, change.account_id, change.old_status.value),
                         table="accounts", kind=UPDATE)
