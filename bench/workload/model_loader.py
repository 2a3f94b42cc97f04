"""Builds the workload model from what the database already holds, so runs can continue."""

from __future__ import annotations

from decimal import Decimal

import pymysql

from bench.workload.connection import MySQLConnection, translate_error
from bench.workload.errors import WorkloadError
from bench.workload.model import REFUND_WINDOW, AccountState, SettledPayment, WorkloadModel
from bench.workload.planner import parse_reference_serial
from bench.workload.torture_columns import TORTURE_TABLE
from bench.workload.torture_rows import TORTURE_ROWS
from bench.workload.types import AccountStatus


def load_model(connection: MySQLConnection, refund_window: int = REFUND_WINDOW) -> WorkloadModel:
    """Read the current database's workload tables (the session must have USEd it)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, currency, status, balance FROM accounts ORDER BY id")
            accounts = [
                AccountState(int(r[0]), str(r[1]), AccountStatus(r[2]), Decimal(r[3]))
                for r in cursor.fetchall()
            ]
            cursor.execute(
                "SELECT id, from_account_id, to_account_id, amount FROM payments "
                "WHERE status = 'settled' ORDER BY id DESC LIMIT %s", (refund_window,),
            )
            settled = [
                SettledPayment(int(r[0]), int(r[1]), int(r[2]), Decimal(r[3]))
                for r in reversed(cursor.fetchall())
            ]
            cursor.execute("SELECT id FROM payments WHERE status = 'failed' ORDER BY id")
            failed = [int(r[0]) for r in cursor.fetchall()]
            cursor.execute("SELECT reference FROM payments ORDER BY id DESC LIMIT 1")
            last = cursor.fetchone()
            cursor.execute(f"SELECT id FROM `{TORTURE_TABLE}`")
            torture_ids = {int(r[0]) for r in cursor.fetchall()}
        connection.rollback()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, "reading the workload's tables") from None
    return WorkloadModel(
        accounts=accounts,
        settled_payments=settled,
        failed_payment_ids=failed,
        next_payment_serial=_next_serial(None if last is None else str(last[0])),
        torture_row_ids=_checked_torture_ids(torture_ids),
        refund_window=refund_window,
    )


def _next_serial(last_reference: str | None) -> int:
    if last_reference is None:
        return 1
    serial = parse_reference_serial(last_reference)
    if serial is None:
        raise WorkloadError(
            f"the newest payment's reference {last_reference!r} was not written by the workload",
            "run the workload on a database of its own, or start over with --reset",
        )
    return serial + 1


def _checked_torture_ids(present: set[int]) -> tuple[int, ...]:
    expected = {row.row_id for row in TORTURE_ROWS}
    missing = sorted(expected - present)
    if missing:
        raise WorkloadError(
            f"type-torture rows {missing} are missing from {TORTURE_TABLE}",
            "run cdc-workload --setup-only to insert them again",
        )
    return tuple(sorted(expected))
