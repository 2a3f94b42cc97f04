"""Turns torture values into SQL parameters and read-back values into torture values.

Pure functions, one per direction. Writing goes through explicit literals for the types
where a driver's defaults lose information: aware datetimes (MariaDB rejects an offset in a
literal), TIME (some PyMySQL releases format negative timedeltas wrongly) and zero dates.
Reading back is strict: anything that is not what the column kind allows raises ValueError,
so a mangled value is reported, never normalised into the expected one.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bench.workload.torture_columns import TortureColumn, ValueKind
from bench.workload.torture_rows import ZERO_DATE, TortureValue, ZeroDate

SqlParam = int | float | Decimal | str | bytes | None

_TEMPORAL = {ValueKind.DATE, ValueKind.DATETIME, ValueKind.TIMESTAMP}
# sql_mode flags that forbid zero dates; TRADITIONAL is listed because MariaDB shows it as a
# flag of its own and setting it back would turn the other two on again.
_ZERO_DATE_FLAGS = frozenset({"NO_ZERO_DATE", "NO_ZERO_IN_DATE", "TRADITIONAL"})


def allow_zero_dates(sql_mode: str) -> str:
    """The session sql_mode with only the zero-date checks removed; strictness stays on."""
    flags = [f for f in sql_mode.split(",") if f and f.upper() not in _ZERO_DATE_FLAGS]
    return ",".join(flags)


def format_time_literal(value: timedelta) -> str:
    """A TIME literal such as '-12:10:48.835870' or '838:59:59'."""
    sign = "-" if value < timedelta(0) else ""
    magnitude = abs(value)
    total_seconds = magnitude.days * 86_400 + magnitude.seconds
    hours, rest = divmod(total_seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
    if magnitude.microseconds:
        text += f".{magnitude.microseconds:06d}"
    return text


def to_sql_param(column: TortureColumn, value: TortureValue) -> SqlParam:
    if value is None:
        return None
    kind = column.kind
    if isinstance(value, ZeroDate):
        if kind not in _TEMPORAL:
            raise ValueError(f"{column.name}: a zero date only fits DATE/DATETIME/TIMESTAMP")
        return "0000-00-00" if kind is ValueKind.DATE else "0000-00-00 00:00:00"
    match kind:
        case ValueKind.TIMESTAMP if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{column.name}: a TIMESTAMP value must be timezone-aware")
            # The session time zone is +00:00, so the UTC wall clock is the instant.
            return _datetime_literal(value.astimezone(UTC).replace(tzinfo=None))
        case ValueKind.DATETIME if isinstance(value, datetime):
            if value.tzinfo is not None:
                raise ValueError(f"{column.name}: a DATETIME value has no time zone")
            return _datetime_literal(value)
        case ValueKind.DATE if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        case ValueKind.TIME if isinstance(value, timedelta):
            return format_time_literal(value)
        case ValueKind.SET if isinstance(value, frozenset):
            return ",".join(sorted(value))
        case ValueKind.JSON:
            return json.dumps(value, ensure_ascii=False)
        case ValueKind.INTEGER | ValueKind.BIT | ValueKind.YEAR if (
            isinstance(value, int) and not isinstance(value, bool)
        ):
            return value
        case ValueKind.DECIMAL if isinstance(value, Decimal):
            return value
        case ValueKind.FLOAT | ValueKind.DOUBLE if isinstance(value, float):
            return value
        case ValueKind.TEXT | ValueKind.ENUM if isinstance(value, str):
            return value
        case ValueKind.BYTES if isinstance(value, bytes):
            return value
    raise ValueError(f"{column.name}: {type(value).__name__} does not fit a {kind.value} column")


def from_readback(column: TortureColumn, raw: object) -> TortureValue:
    """Convert what PyMySQL returns (session time zone +00:00) into the torture value form."""
    if raw is None:
        return None
    kind = column.kind
    if kind in _TEMPORAL and isinstance(raw, str) and raw.startswith("0000-00-00"):
        # PyMySQL hands back zero dates as the server's text, since no datetime can hold them.
        return ZERO_DATE
    match kind:
        case ValueKind.BIT if isinstance(raw, bytes):
            return int.from_bytes(raw, "big")
        case ValueKind.TIMESTAMP if isinstance(raw, datetime):
            return raw.replace(tzinfo=UTC)
        case ValueKind.DATETIME if isinstance(raw, datetime):
            return raw
        case ValueKind.DATE if isinstance(raw, date) and not isinstance(raw, datetime):
            return raw
        case ValueKind.TIME if isinstance(raw, timedelta):
            return raw
        case ValueKind.SET if isinstance(raw, str | set | frozenset):
            members = raw.split(",") if isinstance(raw, str) else list(raw)
            return frozenset(str(m) for m in members if m != "")
        case ValueKind.JSON if isinstance(raw, str | bytes):
            parsed: TortureValue = json.loads(raw)
            return parsed
        case ValueKind.INTEGER | ValueKind.YEAR if (
            isinstance(raw, int) and not isinstance(raw, bool)
        ):
            return raw
        case ValueKind.DECIMAL if isinstance(raw, Decimal):
            return raw
        case ValueKind.FLOAT | ValueKind.DOUBLE if isinstance(raw, float):
            return raw
        case ValueKind.TEXT | ValueKind.ENUM if isinstance(raw, str):
            return raw
        case ValueKind.BYTES if isinstance(raw, bytes):
            return raw
    raise ValueError(f"{column.name}: read back {type(raw).__name__} {raw!r:.80} from a "
                     f"{kind.value} column")


def _datetime_literal(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="microseconds")
