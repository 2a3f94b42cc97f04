"""How a changelog record is shown to people and scripts (pure)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from cdc.changes import ChangeRecord, Operation, Row
from cdc.first_start import decision_of
from cdc.values import to_json_value


def commit_time_text(commit_time_us: int) -> str:
    instant = dt.datetime.fromtimestamp(commit_time_us / 1_000_000, tz=dt.UTC)
    return instant.isoformat(timespec="microseconds")


def _row_json(row: Row | None) -> dict[str, Any] | None:
    return None if row is None else {name: to_json_value(value) for name, value in row.items()}


def record_as_json(record: ChangeRecord, offset: int) -> dict[str, Any]:
    return {
        "offset": offset,
        "op": record.operation.value,
        "database": record.database,
        "table": record.table,
        "schema_version": record.schema_version,
        "gtid": record.position.gtid,
        "gtid_position": record.position.gtid_position,
        "commit_time": commit_time_text(record.commit_time_us),
        "binlog": f"{record.position.binlog_file}:{record.position.binlog_position}",
        "transaction_index": record.transaction_index,
        "transaction_last": record.transaction_last,
        "before": _row_json(record.before),
        "after": _row_json(record.after),
        "statement": record.statement,
    }


def record_as_line(record: ChangeRecord, offset: int) -> str:
    shown = record_as_json(record, offset)
    head = f"{offset:>8}  {shown['commit_time']}  {record.position.gtid or '-':<14}"
    if record.operation is Operation.START:
        return (f"{head}  start: the changelog begins after position "
                f"{record.position.gtid_position or '(empty)'}, chosen by "
                f"{decision_of(record).describe()}")
    if record.statement is not None:
        return f"{head}  ddl {record.database}.{record.table}: {record.statement}"
    if record.operation is Operation.HEARTBEAT:
        return f"{head}  heartbeat at position {record.position.gtid_position}"
    body = {k: shown[k] for k in ("before", "after") if shown[k] is not None}
    return f"{head}  {record.operation.value} {record.database}.{record.table} " \
           f"{json.dumps(body, ensure_ascii=False)}"
