"""Cheap checks that a copy of the payments table holds the source's rows, in MariaDB and in
PostgreSQL alike: aggregates both servers compute the same (row count, sums of the integer and
DECIMAL columns, counts of the nullable ones), plus, between two PostgreSQL copies, a hash of
every row's text (order-independent, so it needs no sort).

The SQL is pure text; the caller runs it on each server.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

PAYMENTS_AGGREGATES = (
    "COUNT(*)", "SUM(id)", "SUM(amount)", "SUM(from_account_id)", "SUM(to_account_id)",
    "COUNT(failure_reason)", "COUNT(metadata)", "COUNT(settled_at)",
)


def aggregates_sql(qualified_table: str, aggregates: Sequence[str] = PAYMENTS_AGGREGATES) -> str:
    return f"SELECT {', '.join(aggregates)} FROM {qualified_table}"


def normalised(values: Sequence[object]) -> tuple[str, ...]:
    """The aggregates as text both servers agree on (a DECIMAL sum has the column's scale in
    both, but a driver may hand an integer sum back as Decimal or int)."""
    out = []
    for value in values:
        if isinstance(value, Decimal):
            out.append(format(value.normalize(), "f") if value else "0")
        else:
            out.append("NULL" if value is None else str(value))
    return tuple(out)


def postgres_row_hash_sql(qualified_table: str) -> str:
    """The sum over rows of 60 bits of the MD5 of the row's text: equal for two tables with
    the same column types and rows, whatever their physical order."""
    return (f"SELECT COALESCE(SUM(('x' || SUBSTR(MD5(t::text), 1, 15))::bit(60)::bigint), 0) "
            f"FROM {qualified_table} t")
