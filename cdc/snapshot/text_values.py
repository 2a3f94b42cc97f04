"""Canonical values from what a snapshot's SELECT returns. Pure.

The snapshot reads rows over the text protocol with PyMySQL's conversion of temporal types, BIT
and SET switched off, because PyMySQL turns zero dates into strings or None and reads the empty
SET as ``{''}``. Those come here as text and leave as the same canonical values capture's
binlog reader produces (``cdc/values.py``). FLOAT columns are selected as
``CAST(c AS DOUBLE)``, which widens the stored binary32 value exactly, as the binlog does.
The session's time zone is UTC, so TIMESTAMP text is UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cdc.changes import Column
from cdc.values import (
    TIME_LIMIT,
    ZERO_DATETIME,
    ZeroDate,
    ZeroDateTime,
    date_or_zero,
    datetime_or_zero,
)

Convert = Callable[[object], object]
"""Turns one non-NULL value of a column, as PyMySQL returns it, into its canonical value."""

_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$")
_TIME = re.compile(r"^(-)?(\d{1,3}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")


class TextValueError(ValueError):
    """Text the server returned that is not a value of the column's type."""


def parse_date(text: str) -> date | ZeroDate:
    if len(text) == 10:
        try:  # the common case, in C
            return date.fromisoformat(text)
        except ValueError:
            pass
    match = _DATETIME.match(text)
    if match is None or match.group(4) is not None:
        raise TextValueError(f"{text!r} is not a DATE")
    return date_or_zero(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def parse_datetime(text: str) -> datetime | ZeroDateTime:
    if len(text) in (19, 26) and text[10] == " ":
        try:  # the common case, in C
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    match = _DATETIME.match(text)
    if match is None:
        raise TextValueError(f"{text!r} is not a DATETIME")
    year, month, day, hour, minute, second, fraction = match.groups()
    return datetime_or_zero(
        int(year), int(month), int(day), hour=int(hour or 0), minute=int(minute or 0),
        second=int(second or 0), microsecond=int((fraction or "0").ljust(6, "0")))


def parse_timestamp(text: str) -> datetime | ZeroDateTime:
    """A TIMESTAMP read in a UTC session: an aware UTC instant, or the zero timestamp."""
    if len(text) in (19, 26) and text[10] == " ":
        try:  # the common case, in C
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            pass
    value = parse_datetime(text)
    if isinstance(value, ZeroDateTime):
        if value != ZERO_DATETIME:
            raise TextValueError(f"{text!r} is not a TIMESTAMP")
        return value
    return value.replace(tzinfo=UTC)


def parse_time(text: str) -> timedelta:
    match = _TIME.match(text)
    if match is None:
        raise TextValueError(f"{text!r} is not a TIME")
    sign, hours, minutes, seconds, fraction = match.groups()
    value = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds),
                      microseconds=int((fraction or "0").ljust(6, "0")))
    if int(minutes) > 59 or int(seconds) > 59 or value > TIME_LIMIT:
        raise TextValueError(f"{text!r} is outside the TIME range")
    return -value if sign else value


def parse_set(text: str) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii")
    if not isinstance(value, str):
        raise TextValueError(f"expected text, got {type(value).__name__}")
    return value


def _bit(value: object) -> int:
    if not isinstance(value, bytes):
        raise TextValueError(f"expected the bytes of a BIT, got {type(value).__name__}")
    return int.from_bytes(value, "big")


def _decimal(value: object) -> Decimal:
    if not isinstance(value, Decimal):
        raise TextValueError(f"expected a Decimal, got {type(value).__name__}")
    return value.copy_abs() if value.is_zero() else value


def _identity(value: object) -> object:
    return value


def _binary(value: object) -> object:
    if isinstance(value, str):  # a binary column read through a text conversion
        raise TextValueError("a binary value arrived as text")
    return value


_CONVERTERS: dict[str, Convert] = {
    "bit": _bit,
    "decimal": _decimal,
    "date": lambda v: parse_date(_text(v)),
    "datetime": lambda v: parse_datetime(_text(v)),
    "timestamp": lambda v: parse_timestamp(_text(v)),
    "time": lambda v: parse_time(_text(v)),
    "set": lambda v: parse_set(_text(v)),
    **dict.fromkeys(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                     "geometry"), _binary),
}


def converter_for(column: Column) -> Convert:
    """The conversion of one column's non-NULL values (ints, floats, text and ENUM arrive in
    their canonical form already)."""
    return _CONVERTERS.get(column.type, _identity)


def select_expression(column: Column, quoted_name: str) -> str:
    """The SELECT expression that reads ``column`` exactly."""
    if column.type == "float":
        return f"CAST({quoted_name} AS DOUBLE)"
    return quoted_name
