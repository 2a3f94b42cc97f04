"""One write statement whose changed-row count is checked against what the model expects.

Without CLIENT_FOUND_ROWS (PyMySQL does not set it) the count is rows actually changed,
which is exactly the number of row events the statement puts in the binlog: the summary's
row-change counts are what capture must see.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymysql.cursors import Cursor

from bench.workload.errors import WorkloadError
from bench.workload.types import ChangeKind, RowChange


def checked_write(cursor: Cursor, sql: str, params: Sequence[object], *, table: str,
                  kind: ChangeKind, expected_rows: int = 1) -> RowChange:
    changed = cursor.execute(sql, params)
    if changed != expected_rows:
        raise WorkloadError(
            f"{kind.value} on {table} changed {changed} rows where the workload expected "
            f"{expected_rows}: {_shortened(sql)}",
            "something else writes to the workload's tables, or they were edited by hand; "
            "run the workload on a database of its own, or start over with --reset",
        )
    return RowChange(table, kind, changed)


def _shortened(sql: str, limit: int = 90) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
