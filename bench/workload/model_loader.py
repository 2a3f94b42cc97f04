"""Builds the workload model from what the database already holds, so runs can continue.

Reading the tables (I/O) and building a model from what was read (pure) are apart, so that
each worker of a parallel run can take its part of the same tables (see partition.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pymysql

from bench.workload.connection import MySQLConnection, translate_error
from bench.workload.errors import WorkloadError
from bench.workload.model import REFUND_WINDOW, AccountState, SettledPayment, WorkloadModel
from bench.workload.partition import Partition
from bench.workload.planner import parse_reference_serial
from bench.workload.torture_columns import TORTURE_TABLE
from bench.workload.torture_rows import TORTURE_ROWS
from bench.workload.types import AccountStatus


@dataclass(frozen=True)
class FailedPayment:
    payment_id: int
    payer_account: int


@dataclass(frozen=True)
class TablesRead:
    """What the model needs from the tables, as read (oldest first)."""

    accounts: tuple[AccountState, ...]
    settled_payments: tuple[SettledPayment, ...]  # the newest, at most a refund window
    failed_payments: tuple[FailedPayment, ...]
    last_reference: str | None  # the reference with the highest serial
    torture_row_ids: frozenset[int]


def load_model(connection: MySQLConnection, refund_window: int = REFUND_WINDOW,
               partition: Partition | None = None) -> WorkloadModel:
    """Read the current database's workload tables (the session must have USEd it)."""
    return build_model(read_tables(connection, refund_window), partition or Partition(),
                       refund_window)


def read_tables(connection: MySQLConnection, refund_window: int = REFUND_WINDOW) -> TablesRead:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, currency, status, balance FROM accounts ORDER BY id")
            accounts = tuple(
                AccountState(int(r[0]), str(r[1]), AccountStatus(r[2]), Decimal(r[3]))
                for r in cursor.fetchall()
            )
            cursor.execute(
                "SELECT id, from_account_id, to_account_id, amount FROM payments "
                "WHERE status = 'settled' ORDER BY id DESC LIMIT %s", (refund_window,),
            )
            settled = tuple(
                SettledPayment(int(r[0]), int(r[1]), int(r[2]), Decimal(r[3]))
                for r in reversed(cursor.fetchall())
            )
            cursor.execute("SELECT id, from_account_id FROM payments WHERE status = 'failed' "
                           "ORDER BY id")
            failed = tuple(FailedPayment(int(r[0]), int(r[1])) for r in cursor.fetchall())
            # The highest serial, not the newest row: workers of a parallel run take serials
            # in turn, so the newest row need not hold the highest one. References are
            # fixed-width, so the highest serial sorts last.
            cursor.execute("SELECT reference FROM payments ORDER BY reference DESC LIMIT 1")
            last = cursor.fetchone()
            cursor.execute(f"SELECT id FROM `{TORTURE_TABLE}`")
            torture_ids = frozenset(int(r[0]) for r in cursor.fetchall())
        connection.rollback()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, "reading the workload's tables") from None
    return TablesRead(accounts, settled, failed, None if last is None else str(last[0]),
                      torture_ids)


def build_model(tables: TablesRead, partition: Partition,
                refund_window: int = REFUND_WINDOW) -> WorkloadModel:
    """The model of ``partition``'s part of the tables: its accounts, the payments between
    two of them (a refund or purge then touches only its rows), its torture rows."""
    owns = partition.owns
    return WorkloadModel(
        accounts=[a for a in tables.accounts if owns(a.account_id)],
        settled_payments=[p for p in tables.settled_payments
                          if owns(p.payer_account) and owns(p.payee_account)],
        failed_payment_ids=[p.payment_id for p in tables.failed_payments
                            if owns(p.payer_account)],
        next_payment_serial=partition.first_serial(_next_serial(tables.last_reference)),
        serial_step=partition.serial_step,
        torture_row_ids=[i for i in _checked_torture_ids(tables.torture_row_ids) if owns(i)],
        torture_value_ids=_checked_torture_ids(tables.torture_row_ids),
        refund_window=refund_window,
    )


def _next_serial(last_reference: str | None) -> int:
    if last_reference is None:
        return 1
    serial = parse_reference_serial(last_reference)
    if serial is None:
        raise WorkloadError(
            f"the payment reference {last_reference!r} was not written by the workload",
            "run the workload on a database of its own, or start over with --reset",
        )
    return serial + 1


def _checked_torture_ids(present: frozenset[int]) -> tuple[int, ...]:
    expected = {row.row_id for row in TORTURE_ROWS}
    missing = sorted(expected - present)
    if missing:
        raise WorkloadError(
            f"type-torture rows {missing} are missing from {TORTURE_TABLE}",
            "run cdc-workload --setup-only to insert them again",
        )
    return tuple(sorted(expected))
