"""Comparing the source's rows with the rows the changelog describes, type-normalized."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pymysql.constants import FIELD_TYPE

from tests.db import MySQLConnection


def comparable(value: Any) -> Any:
    """One spelling per value for both sides: instants as naive UTC, sets as sorted tuples."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, set | frozenset):
        return tuple(sorted(value))
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Decimal):
        return value
    return value


def comparable_row(row: dict[str, Any]) -> dict[str, Any]:
    return {name: comparable(value) for name, value in row.items()}


def source_rows(conn: MySQLConnection, database: str, table: str,
                key: Iterable[str] = ("id",)) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every row of a source table keyed by primary key, TIMESTAMPs read as UTC."""
    key_columns = tuple(key)
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
        cur.execute(f"SELECT * FROM `{database}`.`{table}`")
        names = [str(d[0]) for d in cur.description or ()]
        types = [int(d[1]) for d in cur.description or ()]
        rows = {}
        for raw in cur.fetchall():
            row = {n: _from_select(t, v) for n, t, v in zip(names, types, raw, strict=True)}
            rows[tuple(row[c] for c in key_columns)] = comparable_row(row)
    return rows


def _from_select(field_type: int, value: Any) -> Any:
    if value is None:
        return None
    if field_type == FIELD_TYPE.BIT and isinstance(value, bytes):
        return int.from_bytes(value, "big")
    return value


def changelog_rows(rows: dict[tuple[Any, ...], dict[str, Any]]
                   ) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {key: comparable_row(row) for key, row in rows.items()}
