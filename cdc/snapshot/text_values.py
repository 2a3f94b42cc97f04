"""Canonical values from what a snapshot's SELECT returns. Pure.

The snapshot reads rows over the text protocol with only numbers converted by the driver:
drivers turn zero dates into strings or None and read the empty SET as ``{''}``. Everything
else comes here as the server's text and leaves as the same canonical values capture's binlog
reader produces (``cdc/values.py``). FLOAT columns are selected as
``CAST(c AS DOUBLE)``, which widens the stored binary32 value exactly, as the binlog does.
TIMESTAMP columns are selected as whole microseconds since the epoch (0 for the zero
timestamp), which is exact for every fraction precision and is also their Avro form; the
session's time zone is UTC, so TIMESTAMP text, which ``parse_timestamp`` still reads, is UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

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
"""Turns one non-NULL value of a column, as the driver returns it, into its canonical value."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
"""The largest number of microseconds since the epoch a ``datetime`` can hold."""
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


def timestamp_from_micros(micros: int) -> datetime | ZeroDateTime:
    """A TIMESTAMP selected as microseconds since the epoch; 0 is the zero timestamp."""
    if not 0 <= micros <= MAX_TIMESTAMP_US:
        raise TextValueError(f"{micros} microseconds since the epoch is not a TIMESTAMP")
    return ZERO_DATETIME if micros == 0 else _EPOCH + timedelta(microseconds=micros)


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


def _timestamp(value: object) -> datetime | ZeroDateTime:
    if type(value) is int:
        return timestamp_from_micros(value)
    return parse_timestamp(_text(value))


def _bit(value: object) -> int:
    if not isinstance(value, bytes):
        raise TextValueError(f"expected the bytes of a BIT, got {type(value).__name__}")
    return int.from_bytes(value, "big")


def _decimal(value: object) -> Decimal:
    if isinstance(value, bytes | str):
        try:
            value = Decimal(_text(value))
        except InvalidOperation:
            raise TextValueError(f"{value!r} is not a decimal number") from None
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TextValueError(f"expected a decimal number, got {value!r}")
    return value.copy_abs() if value.is_zero() else value


def identity(value: object) -> object:
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
    "timestamp": _timestamp,
    "time": lambda v: parse_time(_text(v)),
    "set": lambda v: parse_set(_text(v)),
    **dict.fromkeys(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                     "geometry"), _binary),
}


def converter_for(column: Column) -> Convert:
    """The conversion of one column's non-NULL values (ints, floats, text and ENUM arrive in
    their canonical form already)."""
    return _CONVERTERS.get(column.type, identity)


def select_expression(column: Column, quoted_name: str) -> str:
    """The SELECT expression that reads ``column`` exactly."""
    if column.type == "float":
        return f"CAST({quoted_name} AS DOUBLE)"
    if column.type == "timestamp":  # UNIX_TIMESTAMP(0000-00-00 00:00:00) is 0
        return f"CAST(UNIX_TIMESTAMP({quoted_name}) * 1000000 AS SIGNED)"
    return quoted_name
