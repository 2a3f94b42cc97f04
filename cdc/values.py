"""Canonical column values: what the source held, as exact Python values.

One Python form per MySQL/MariaDB type family, chosen so that no value is rounded, re-zoned or
dropped (docs/types.md lists them):

- integers of every width and signedness: ``int`` (BIGINT UNSIGNED included); YEAR: ``int``
  (``0`` is the zero year ``0000``)
- DECIMAL: ``Decimal`` whose exponent is exactly ``-scale``; FLOAT/DOUBLE: ``float`` (a FLOAT
  is the exact binary32 value widened, not a rounded decimal)
- BIT(n): ``int`` in ``[0, 2**n)``
- DATE: ``date``; DATETIME: naive ``datetime`` (wall clock); TIMESTAMP: ``datetime`` aware in
  UTC (an instant); dates no Python ``date`` can hold (``0000-00-00``, ``2020-00-15``):
  ``ZeroDate`` / ``ZeroDateTime``, never None
- TIME: ``timedelta``, negative allowed, within +-838:59:59.999999
- text types, ENUM, JSON: ``str``; binary types and GEOMETRY: ``bytes``; SET: ``frozenset[str]``
- SQL NULL: ``None``

``canonical_row`` turns a row decoded by the binlog library (with ``cdc.binlog.library_fixes``
installed) into these values and refuses anything it cannot carry exactly.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import TypeAlias

from cdc.changes import Column, Row
from cdc.errors import TypeMappingError

# --- dates that Python cannot hold -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZeroDate:
    """A DATE with a zero or impossible part (``0000-00-00``, ``2020-00-15``), kept as its parts.

    Only dates that ``datetime.date`` cannot represent take this form, so every value has
    exactly one canonical form.
    """

    year: int
    month: int
    day: int

    def __post_init__(self) -> None:
        _check_date_parts(self.year, self.month, self.day)
        if _is_real_date(self.year, self.month, self.day):
            raise ValueError(f"{self.text} is a real date: use datetime.date")

    @property
    def text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class ZeroDateTime:
    """A DATETIME or TIMESTAMP whose date part no ``datetime`` can hold, kept as its parts.

    The zero TIMESTAMP is ``ZeroDateTime(0, 0, 0)``: MySQL stores it as second 0 of the epoch,
    which no valid TIMESTAMP uses.
    """

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    second: int = 0
    microsecond: int = 0

    def __post_init__(self) -> None:
        _check_date_parts(self.year, self.month, self.day)
        _check_time_of_day(self.hour, self.minute, self.second, self.microsecond)
        if _is_real_date(self.year, self.month, self.day):
            raise ValueError(f"{self.text} is a real date and time: use datetime.datetime")

    @property
    def text(self) -> str:
        """MySQL's literal, with six fraction digits only when there is a fraction."""
        text = (f"{self.year:04d}-{self.month:02d}-{self.day:02d} "
                f"{self.hour:02d}:{self.minute:02d}:{self.second:02d}")
        if self.microsecond:
            text += f".{self.microsecond:06d}"
        return text

    def __str__(self) -> str:
        return self.text


def _check_date_parts(year: int, month: int, day: int) -> None:
    if not (0 <= year <= 9999 and 0 <= month <= 12 and 0 <= day <= 31):
        raise ValueError(f"not a MySQL date: year {year}, month {month}, day {day}")


def _check_time_of_day(hour: int, minute: int, second: int, microsecond: int) -> None:
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59
            and 0 <= microsecond <= 999_999):
        raise ValueError(f"not a time of day: {hour}:{minute}:{second}.{microsecond}")


def _is_real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


ZERO_DATE = ZeroDate(0, 0, 0)
ZERO_DATETIME = ZeroDateTime(0, 0, 0)


def date_or_zero(year: int, month: int, day: int) -> date | ZeroDate:
    """The canonical value of a DATE given as parts."""
    try:
        return date(year, month, day)
    except ValueError:
        return ZeroDate(year, month, day)


def datetime_or_zero(year: int, month: int, day: int, *, hour: int = 0, minute: int = 0,
                     second: int = 0, microsecond: int = 0) -> datetime | ZeroDateTime:
    """The canonical value of a DATETIME given as parts (naive: wall-clock time)."""
    try:
        return datetime(year, month, day, hour, minute, second, microsecond)
    except ValueError:
        if _is_real_date(year, month, day):
            raise  # the time of day is wrong, not the date
        return ZeroDateTime(year, month, day, hour, minute, second, microsecond)


CanonicalValue: TypeAlias = (
    "int | float | Decimal | str | bytes | date | datetime | timedelta | frozenset[str]"
    " | ZeroDate | ZeroDateTime | None"
)

TIME_LIMIT = timedelta(hours=838, minutes=59, seconds=59, microseconds=999_999)
"""The largest TIME magnitude MariaDB accepts (MySQL stops at 838:59:59)."""

# --- from the binlog library's values to canonical ones ----------------------------------------

_NULL_SOURCES = frozenset({"null"})
_EMPTY_SET_SOURCE = "empty set"
_NONE_SOURCE_HINTS = {
    "cols bitmap": "the row image lacks this column: set binlog_row_image=FULL on the source",
    "same with before values": (
        "a partial JSON update carries no full value: set binlog_row_value_options='' "
        "on the source"
    ),
}
_MISSING_FIXES_HINT = (
    "the row was decoded without cdc.binlog.library_fixes.install(); call it before reading "
    "the binlog"
)


# DECIMAL(65, 30) has 65 digits; the default decimal context would round to 28.
_EXACT = Context(prec=100)


class _ValueMismatchError(Exception):
    """A library value of the wrong Python type or out of range for its column."""


Converter = Callable[[object, Column], CanonicalValue]


def canonical_row(columns: tuple[Column, ...], values: Mapping[str, object],
                  none_sources: Mapping[str, str]) -> Row:
    """The canonical row of one row image, in column order.

    ``values`` and ``none_sources`` are what the binlog library gives for one image (for
    example ``row["values"]`` and ``row["none_sources"]``). Raises ``TypeMappingError`` naming
    the column for a value that cannot be carried exactly.
    """
    if len(values) != len(columns):
        raise TypeMappingError(
            f"the row has {len(values)} values but the table map has {len(columns)} columns",
            hint="the table map and the row event disagree; restart capture from its last "
                 "position",
        )
    row: Row = {}
    for column, convert in zip(columns, _converters_for(columns), strict=True):
        try:
            value = values[column.name]
        except KeyError:
            raise TypeMappingError(f"column {column.name!r} is missing from the row",
                                   hint="the table map and the row event disagree") from None
        if value is None:
            row[column.name] = _canonical_none(column, none_sources.get(column.name, "null"))
            continue
        try:
            row[column.name] = convert(value, column)
        except (_ValueMismatchError, ValueError, InvalidOperation) as exc:
            raise TypeMappingError(
                f"column {column.name!r} ({column.type}): {exc}",
                hint=_MISSING_FIXES_HINT if column.type == "timestamp" else
                "report this value; capture stops rather than change it",
            ) from None
    return row


def _canonical_none(column: Column, source: str) -> CanonicalValue:
    if source in _NULL_SOURCES:
        if not column.nullable:
            raise TypeMappingError(f"column {column.name!r} is NOT NULL but the row has NULL",
                                   hint="the table map and the row event disagree")
        return None
    if source == _EMPTY_SET_SOURCE and column.type == "set":
        return frozenset()
    raise TypeMappingError(
        f"column {column.name!r} ({column.type}) has no value ({source})",
        hint=_NONE_SOURCE_HINTS.get(source, _MISSING_FIXES_HINT),
    )


# Converting a row runs per row change, so the converters of a column tuple are looked up by
# identity first: hashing a tuple of frozen dataclasses costs more than the conversion itself.
# The cache keeps the tuple alive, so its id cannot be reused by another tuple meanwhile.
_CONVERTERS_BY_ID: dict[int, tuple[tuple[Column, ...], tuple[Converter, ...]]] = {}
_CONVERTER_CACHE_LIMIT = 4096


def _converters_for(columns: tuple[Column, ...]) -> tuple[Converter, ...]:
    cached = _CONVERTERS_BY_ID.get(id(columns))
    if cached is not None and cached[0] is columns:
        return cached[1]
    converters = tuple(converter_for(column) for column in columns)
    if len(_CONVERTERS_BY_ID) >= _CONVERTER_CACHE_LIMIT:
        _CONVERTERS_BY_ID.clear()
    _CONVERTERS_BY_ID[id(columns)] = (columns, converters)
    return converters


def _integer(value: object, column: Column) -> int:
    if type(value) is not int:
        raise _ValueMismatchError(f"expected an int, got {type(value).__name__}")
    return value


def _decimal(value: object, column: Column) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _ValueMismatchError(f"expected a finite Decimal, got {value!r}")
    scale = column.scale or 0
    if value.as_tuple().exponent != -scale:
        exact = value.quantize(Decimal(1).scaleb(-scale), context=_EXACT)
        if exact != value:
            raise _ValueMismatchError(f"{value} does not fit scale {scale}")
        value = exact
    if value.is_zero() and value.is_signed():
        value = value.copy_abs()
    return value


def _float(value: object, column: Column) -> float:
    if type(value) is not float or not math.isfinite(value):
        raise _ValueMismatchError(f"expected a finite float, got {value!r}")
    return value


def _bit(value: object, column: Column) -> int:
    width = column.precision or 64
    if isinstance(value, str):  # the library spells BIT as '0'/'1' text of the column's width
        number = int(value, 2)
    elif isinstance(value, bytes):
        number = int.from_bytes(value, "big")
    elif type(value) is int:
        number = value
    else:
        raise _ValueMismatchError(f"expected bits, got {type(value).__name__}")
    if not 0 <= number < 1 << width:
        raise _ValueMismatchError(f"{number} does not fit BIT({width})")
    return number


def _date(value: object, column: Column) -> date | ZeroDate:
    if isinstance(value, ZeroDate) or (type(value) is date):
        return value
    raise _ValueMismatchError(f"expected a date, got {value!r}")


def _datetime(value: object, column: Column) -> datetime | ZeroDateTime:
    if isinstance(value, ZeroDateTime):
        return value
    if type(value) is datetime and value.tzinfo is None:
        return value
    raise _ValueMismatchError(f"expected a naive datetime, got {value!r}")


def _timestamp(value: object, column: Column) -> datetime | ZeroDateTime:
    if isinstance(value, ZeroDateTime):
        if value != ZERO_DATETIME:
            raise _ValueMismatchError(f"a TIMESTAMP has no partial zero date: {value}")
        return value
    if type(value) is datetime and value.tzinfo is not None:
        if value.utcoffset() != timedelta(0):
            raise _ValueMismatchError(f"expected a UTC datetime, got {value!r}")
        return value if value.tzinfo is UTC else value.replace(tzinfo=UTC)
    raise _ValueMismatchError(f"expected an aware UTC datetime, got {value!r}")


def _time(value: object, column: Column) -> timedelta:
    if type(value) is not timedelta:
        raise _ValueMismatchError(f"expected a timedelta, got {value!r}")
    if abs(value) > TIME_LIMIT:
        raise _ValueMismatchError(f"{value} is outside the TIME range")
    return value


def _text(value: object, column: Column) -> str:
    if type(value) is not str:
        raise _ValueMismatchError(f"expected text, got {type(value).__name__}")
    return value


def _binary(value: object, column: Column) -> bytes:
    if type(value) is not bytes:
        raise _ValueMismatchError(f"expected bytes, got {type(value).__name__}")
    return value


def _set(value: object, column: Column) -> frozenset[str]:
    if not isinstance(value, set | frozenset) or not all(type(m) is str for m in value):
        raise _ValueMismatchError(f"expected a set of str, got {value!r}")
    return value if isinstance(value, frozenset) else frozenset(value)


def _json(value: object, column: Column) -> str:
    if type(value) is str:  # MariaDB: JSON is text already
        return value
    return mysql_json_text(value)


_CONVERTERS: dict[str, Converter] = {
    **dict.fromkeys(("tinyint", "smallint", "mediumint", "int", "bigint", "year"), _integer),
    "decimal": _decimal,
    "float": _float,
    "double": _float,
    "bit": _bit,
    "date": _date,
    "datetime": _datetime,
    "timestamp": _timestamp,
    "time": _time,
    **dict.fromkeys(("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum"),
                    _text),
    **dict.fromkeys(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                     "geometry"), _binary),
    "set": _set,
    "json": _json,
}


def converter_for(column: Column) -> Converter:
    """The function that checks and converts one non-NULL library value of ``column``."""
    try:
        return _CONVERTERS[column.type]
    except KeyError:
        raise TypeMappingError(f"column {column.name!r} has the unsupported type {column.type!r}",
                               hint="see docs/types.md for the supported types") from None


# --- MySQL's binary JSON, as the library hands it over -----------------------------------------


def mysql_json_text(value: object) -> str:
    """Canonical JSON text of a document decoded from MySQL's binary JSON.

    The library gives dicts with bytes keys, bytes strings, and Python numbers or temporal
    values for MySQL's opaque scalars. Keys keep the stored order (MySQL sorts them itself);
    the separators are MySQL's own (``", "`` and ``": "``).
    """
    parts: list[str] = []
    _render_json(value, parts)
    return "".join(parts)


def _render_json(value: object, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append(json.dumps(value))
    elif isinstance(value, bytes | str):
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        out.append(json.dumps(text, ensure_ascii=False))
    elif isinstance(value, int | Decimal):
        out.append(str(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"JSON has no {value}")
        out.append(repr(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, member) in enumerate(value.items()):
            if index:
                out.append(", ")
            _render_json(key, out)
            out.append(": ")
            _render_json(member, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, member in enumerate(value):
            if index:
                out.append(", ")
            _render_json(member, out)
        out.append("]")
    elif isinstance(value, datetime):
        out.append(json.dumps(value.isoformat(sep=" ", timespec="microseconds")))
    elif isinstance(value, date | time):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, timedelta):
        out.append(json.dumps(time_text(value)))
    else:
        raise ValueError(f"a JSON document holds a {type(value).__name__}: {value!r}")


# --- the JSON form for `cdc tail --json` -------------------------------------------------------

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"


def time_text(value: timedelta) -> str:
    """A TIME value in MySQL's literal form: ``-12:10:48.835870``, ``838:59:59``."""
    sign = "-" if value < timedelta(0) else ""
    magnitude = -value if sign else value
    seconds = magnitude.days * 86_400 + magnitude.seconds
    text = f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if magnitude.microseconds:
        text += f".{magnitude.microseconds:06d}"
    return text


_JSON_SAFE_INTEGER = 2**53


def to_json_value(value: object) -> JsonValue:
    """A canonical value in the JSON form of ``cdc tail --json`` (see docs/types.md).

    Exact rather than convenient: integers beyond 2**53 and DECIMAL as strings, bytes as
    ``{"base64": ...}``, TIMESTAMP as ISO 8601 with ``+00:00``, DATETIME without an offset,
    TIME and zero dates as MySQL's literals, SET as a sorted list.
    """
    if type(value) is int and abs(value) > _JSON_SAFE_INTEGER:
        # Most JSON readers (jq, JavaScript) hold numbers as doubles and would round it.
        return str(value)
    if value is None or type(value) in (int, str, float):
        return value  # type: ignore[return-value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return time_text(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, ZeroDate | ZeroDateTime):
        return value.text
    raise TypeError(f"not a canonical value: {type(value).__name__} {value!r}")
