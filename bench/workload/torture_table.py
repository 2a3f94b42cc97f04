"""Writing and reading the type-torture table (the SQL side of torture_rows)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pymysql
from pymysql.cursors import Cursor

from bench.workload.checked_write import checked_write
from bench.workload.connection import MySQLConnection, translate_error
from bench.workload.torture_codec import allow_zero_dates, from_readback, to_sql_param
from bench.workload.torture_columns import TORTURE_COLUMNS, TORTURE_TABLE, ValueKind
from bench.workload.torture_rows import TORTURE_ROWS, TORTURE_ROWS_BY_ID, TortureValue
from bench.workload.types import ChangeKind, RowChange

_NAMES = [column.name for column in TORTURE_COLUMNS]
_INSERT = (
    f"INSERT INTO `{TORTURE_TABLE}` (`id`, {', '.join(f'`{n}`' for n in _NAMES)}) "
    f"VALUES ({', '.join(['%s'] * (len(_NAMES) + 1))})"
)
_UPDATE = (
    f"UPDATE `{TORTURE_TABLE}` SET {', '.join(f'`{n}` = %s' for n in _NAMES)} WHERE `id` = %s"
)
_DELETE = f"DELETE FROM `{TORTURE_TABLE}` WHERE `id` = %s"


def _select_list() -> str:
    # FLOAT is read through DOUBLE: the text protocol prints a FLOAT with about six digits,
    # which would turn an exact binary32 value such as 3.4028234663852886e38 into 3.40282e38.
    return ", ".join(
        f"CAST(`{c.name}` AS DOUBLE)" if c.kind is ValueKind.FLOAT else f"`{c.name}`"
        for c in TORTURE_COLUMNS
    )


@contextmanager
def zero_dates_allowed(cursor: Cursor) -> Iterator[None]:
    """Lift NO_ZERO_DATE and NO_ZERO_IN_DATE for this session while the block runs."""
    cursor.execute("SELECT @@session.sql_mode")
    row = cursor.fetchone()
    original = str(row[0]) if row else ""
    cursor.execute("SET SESSION sql_mode = %s", (allow_zero_dates(original),))
    try:
        yield
    finally:
        cursor.execute("SET SESSION sql_mode = %s", (original,))


def row_params(row_id: int) -> list[object]:
    """The values of a torture row as SQL parameters, in column order."""
    values = TORTURE_ROWS_BY_ID[row_id].values
    return [to_sql_param(column, values[column.name]) for column in TORTURE_COLUMNS]


def insert_missing_rows(connection: MySQLConnection) -> int:
    """Insert the torture rows not present yet, in one transaction; returns how many."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT `id` FROM `{TORTURE_TABLE}`")
            present = {int(row[0]) for row in cursor.fetchall()}
            missing = [row.row_id for row in TORTURE_ROWS if row.row_id not in present]
            with zero_dates_allowed(cursor):
                for row_id in missing:
                    checked_write(cursor, _INSERT, [row_id, *row_params(row_id)],
                                  table=TORTURE_TABLE, kind=ChangeKind.INSERT)
        connection.commit()
    except pymysql.MySQLError as exc:
        connection.rollback()
        raise translate_error(exc, "inserting the type-torture rows") from None
    return len(missing)


def rewrite_row(cursor: Cursor, row_id: int, source_row_id: int) -> tuple[RowChange, ...]:
    """Give row ``row_id`` the values of ``source_row_id``, then its own values back."""
    with zero_dates_allowed(cursor):
        return (
            checked_write(cursor, _UPDATE, [*row_params(source_row_id), row_id],
                          table=TORTURE_TABLE, kind=ChangeKind.UPDATE),
            checked_write(cursor, _UPDATE, [*row_params(row_id), row_id],
                          table=TORTURE_TABLE, kind=ChangeKind.UPDATE),
        )


def reinsert_row(cursor: Cursor, row_id: int) -> tuple[RowChange, ...]:
    with zero_dates_allowed(cursor):
        return (
            checked_write(cursor, _DELETE, [row_id], table=TORTURE_TABLE,
                          kind=ChangeKind.DELETE),
            checked_write(cursor, _INSERT, [row_id, *row_params(row_id)],
                          table=TORTURE_TABLE, kind=ChangeKind.INSERT),
        )


def read_torture_rows(connection: MySQLConnection,
                      database: str) -> dict[int, dict[str, TortureValue]]:
    """Every torture row in ``database``, converted to the pure-data form for comparison.

    The session time zone must be +00:00 (connection.connect sets it), so TIMESTAMPs read
    back as the UTC instants they are.
    """
    sql = f"SELECT `id`, {_select_list()} FROM `{database}`.`{TORTURE_TABLE}` ORDER BY `id`"
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        connection.rollback()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, f"reading {database}.{TORTURE_TABLE}") from None
    return {
        int(row[0]): {
            column.name: from_readback(column, raw)
            for column, raw in zip(TORTURE_COLUMNS, row[1:], strict=True)
        }
        for row in rows
    }
