"""The Avro type of each column type family, and its exact writer and reader.

Chosen so that every canonical value (``cdc/values.py``) comes back equal, with the same Python
type, whatever the host's time zone:

- no ``datetime`` is handed to an Avro library to convert (fastavro reads a naive one as
  host-local time): DATE and DATETIME travel as their MySQL text, which also holds zero dates;
  TIMESTAMP as microseconds since the epoch, where 0 is the zero timestamp (MySQL's own
  encoding of it, and never a valid instant);
- integers that do not fit an Avro long (BIGINT UNSIGNED) travel as decimal(20, 0);
- TIME as signed microseconds, BIT(n) as its big-endian bytes, SET as its members in
  declaration order.

Writers take a non-NULL canonical value and append its Avro encoding; readers return the
canonical value. Both refuse values that do not fit the column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any

from cdc.avro.binary import (
    AvroDecodeError,
    Reader,
    decimal_bytes,
    write_bytes,
    write_double,
    write_float,
    write_long,
    write_string,
)
from cdc.changes import Column
from cdc.errors import TypeMappingError
from cdc.values import (
    TIME_LIMIT,
    ZERO_DATETIME,
    ZeroDate,
    ZeroDateTime,
    date_or_zero,
    datetime_or_zero,
)

AvroType = str | dict[str, Any]
Write = Callable[[bytearray, Any], None]
Read = Callable[[Reader], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TIME_LIMIT_US = TIME_LIMIT // _MICROSECOND
# DECIMAL(65, 30) needs 65 digits; the default context would round to 28.
_EXACT = Context(prec=100)


@dataclass(frozen=True)
class AvroColumnType:
    """How one column's non-NULL values travel: the Avro type, its writer and reader."""

    avro_type: AvroType
    write: Write
    read: Read


# --- integers -----------------------------------------------------------------------------------

_INTEGER_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "bigint": 64}


def _integer(bits: int, *, unsigned: bool) -> AvroColumnType:
    low, high = (0, (1 << bits) - 1) if unsigned else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    kind = f"{'un' if unsigned else ''}signed {bits}-bit integer"

    def checked(value: int) -> int:
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"{value!r} is not a {kind}")
        return value

    if bits == 64 and unsigned:
        def write_unsigned(out: bytearray, value: int) -> None:
            write_bytes(out, decimal_bytes(checked(value)))

        def read_unsigned(reader: Reader) -> int:
            return checked(int.from_bytes(reader.read_bytes(), "big", signed=True))

        return AvroColumnType(_decimal_type(20, 0), write_unsigned, read_unsigned)

    def write(out: bytearray, value: int) -> None:
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"{value!r} is not a {kind}")
        write_long(out, value)

    def read(reader: Reader) -> int:
        value = reader.read_long()
        if not low <= value <= high:
            raise AvroDecodeError(f"{value} is not a {kind}")
        return value

    return AvroColumnType("int" if high < 1 << 31 else "long", write, read)


def _decimal_type(precision: int, scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


def _decimal(precision: int, scale: int) -> AvroColumnType:
    limit = 10**precision

    def write(out: bytearray, value: Decimal) -> None:
        scaled = _EXACT.scaleb(value, scale)
        unscaled = int(scaled)
        if scaled != unscaled or not -limit < unscaled < limit:
            raise ValueError(f"{value!r} does not fit DECIMAL({precision},{scale})")
        write_bytes(out, decimal_bytes(unscaled))

    def read(reader: Reader) -> Decimal:
        unscaled = int.from_bytes(reader.read_bytes(), "big", signed=True)
        if not -limit < unscaled < limit:
            raise AvroDecodeError(f"{unscaled} does not fit DECIMAL({precision},{scale})")
        return Decimal(unscaled).scaleb(-scale, _EXACT)

    return AvroColumnType(_decimal_type(precision, scale), write, read)


def _bits(width: int) -> AvroColumnType:
    size = (width + 7) // 8

    def write(out: bytearray, value: int) -> None:
        if type(value) is not int or not 0 <= value < 1 << width:
            raise ValueError(f"{value!r} does not fit BIT({width})")
        write_bytes(out, value.to_bytes(size, "big"))

    def read(reader: Reader) -> int:
        value = int.from_bytes(reader.read_bytes(), "big")
        if value >> width:
            raise AvroDecodeError(f"{value} does not fit BIT({width})")
        return value

    return AvroColumnType({"type": "bytes", "cdc.encoding": f"BIT({width}), big-endian"},
                          write, read)


# --- dates and times ----------------------------------------------------------------------------


def _write_date(out: bytearray, value: date | ZeroDate) -> None:
    if isinstance(value, ZeroDate):
        write_string(out, value.text)
    elif type(value) is date:
        write_string(out, value.isoformat())
    else:
        raise ValueError(f"{value!r} is not a DATE value")


def _read_date(reader: Reader) -> date | ZeroDate:
    text = reader.read_string()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return date_or_zero(int(text[0:4]), int(text[5:7]), int(text[8:10]))


def _write_datetime(out: bytearray, value: datetime | ZeroDateTime) -> None:
    # MySQL's literal: six fraction digits when there is a fraction, none otherwise.
    if isinstance(value, ZeroDateTime):
        write_string(out, value.text)
    elif type(value) is datetime and value.tzinfo is None:
        write_string(out, value.isoformat(" "))
    else:
        raise ValueError(f"{value!r} is not wall-clock time (a naive datetime)")


def _read_datetime(reader: Reader) -> datetime | ZeroDateTime:
    text = reader.read_string()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime_or_zero(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                                hour=int(text[11:13]), minute=int(text[14:16]),
                                second=int(text[17:19]),
                                microsecond=int(text[20:26]) if len(text) > 19 else 0)


def _write_timestamp(out: bytearray, value: datetime | ZeroDateTime) -> None:
    if isinstance(value, ZeroDateTime):
        if value != ZERO_DATETIME:
            raise ValueError(f"a TIMESTAMP has no partial zero date: {value}")
        write_long(out, 0)
        return
    if type(value) is not datetime or value.tzinfo is None:
        raise ValueError(f"{value!r} is not an instant (an aware datetime)")
    micros = (value - _EPOCH) // _MICROSECOND
    if micros <= 0:
        raise ValueError(f"{value} is before the first TIMESTAMP, 1970-01-01 00:00:01 UTC")
    write_long(out, micros)


def _read_timestamp(reader: Reader) -> datetime | ZeroDateTime:
    micros = reader.read_long()
    if micros < 0:
        raise AvroDecodeError(f"TIMESTAMP {micros} is before the epoch")
    return ZERO_DATETIME if micros == 0 else _EPOCH + _MICROSECOND * micros


def _write_time(out: bytearray, value: timedelta) -> None:
    if type(value) is not timedelta or abs(value) > TIME_LIMIT:
        raise ValueError(f"{value!r} is not a TIME value")
    write_long(out, value // _MICROSECOND)


def _read_time(reader: Reader) -> timedelta:
    micros = reader.read_long()
    if abs(micros) > _TIME_LIMIT_US:
        raise AvroDecodeError(f"TIME of {micros} microseconds is out of range")
    return _MICROSECOND * micros


def _read_year(reader: Reader) -> int:
    year = reader.read_long()
    if year != 0 and not 1901 <= year <= 2155:
        raise AvroDecodeError(f"{year} is not a YEAR")
    return year


def _write_year(out: bytearray, value: int) -> None:
    if type(value) is not int or (value != 0 and not 1901 <= value <= 2155):
        raise ValueError(f"{value!r} is not a YEAR")
    write_long(out, value)


# --- text, bytes, sets --------------------------------------------------------------------------


def _write_text(out: bytearray, value: str) -> None:
    if type(value) is not str:
        raise ValueError(f"{type(value).__name__} is not text")
    write_string(out, value)


def _write_binary(out: bytearray, value: bytes) -> None:
    if type(value) is not bytes:
        raise ValueError(f"{type(value).__name__} is not bytes")
    write_bytes(out, value)


def _set(members: tuple[str, ...]) -> AvroColumnType:
    order = {member: index for index, member in enumerate(members)}
    known = frozenset(members)

    def write(out: bytearray, value: frozenset[str]) -> None:
        if not isinstance(value, frozenset):
            raise ValueError(f"{value!r} is not a frozenset")
        try:
            ordered = sorted(value, key=order.__getitem__)
        except KeyError as exc:
            raise ValueError(f"{exc.args[0]!r} is not a member of the SET") from None
        if ordered:
            write_long(out, len(ordered))
            for member in ordered:
                write_string(out, member)
        out.append(0)

    def read(reader: Reader) -> frozenset[str]:
        value = frozenset(reader.read_string_array())
        if not value <= known:
            raise AvroDecodeError(f"{sorted(value - known)} are not members of the SET")
        return value

    return AvroColumnType({"type": "array", "items": "string"}, write, read)


def _enum(members: tuple[str, ...]) -> AvroColumnType:
    # '' is MySQL's value for a string that was not a member (inserted without strict mode).
    allowed = frozenset(("", *members))

    def write(out: bytearray, value: str) -> None:
        if value not in allowed:
            raise ValueError(f"{value!r} is not a member of the ENUM")
        write_string(out, value)

    def read(reader: Reader) -> str:
        value = reader.read_string()
        if value not in allowed:
            raise AvroDecodeError(f"{value!r} is not a member of the ENUM")
        return value

    return AvroColumnType("string", write, read)


def _read_string(reader: Reader) -> str:
    return reader.read_string()


def _read_bytes(reader: Reader) -> bytes:
    return reader.read_bytes()


def _write_float(out: bytearray, value: float) -> None:
    if type(value) is not float:
        raise ValueError(f"{value!r} is not a float")
    write_float(out, value)


def _write_double(out: bytearray, value: float) -> None:
    if type(value) is not float:
        raise ValueError(f"{value!r} is not a float")
    write_double(out, value)


_TEXT = AvroColumnType("string", _write_text, _read_string)
_BINARY = AvroColumnType("bytes", _write_binary, _read_bytes)
_FIXED: dict[str, AvroColumnType] = {
    "year": AvroColumnType("int", _write_year, _read_year),
    "float": AvroColumnType("float", _write_float, Reader.read_float),
    "double": AvroColumnType("double", _write_double, Reader.read_double),
    "date": AvroColumnType({"type": "string", "cdc.encoding": "YYYY-MM-DD"},
                           _write_date, _read_date),
    "datetime": AvroColumnType({"type": "string", "cdc.encoding": "YYYY-MM-DD hh:mm:ss[.ffffff]"},
                               _write_datetime, _read_datetime),
    "timestamp": AvroColumnType({"type": "long", "logicalType": "timestamp-micros"},
                                _write_timestamp, _read_timestamp),
    "time": AvroColumnType({"type": "long", "cdc.encoding": "signed microseconds"},
                           _write_time, _read_time),
    **dict.fromkeys(("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json"),
                    _TEXT),
    **dict.fromkeys(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                     "geometry"), _BINARY),
}


def avro_column_type(column: Column) -> AvroColumnType:
    """The Avro type, writer and reader of one column's non-NULL values."""
    family = column.type
    if family in _FIXED:
        return _FIXED[family]
    if family in _INTEGER_BITS:
        return _integer(_INTEGER_BITS[family], unsigned=column.unsigned)
    if family == "decimal" and column.precision is not None:
        return _decimal(column.precision, column.scale or 0)
    if family == "bit" and column.precision is not None:
        return _bits(column.precision)
    if family == "set":
        return _set(column.members)
    if family == "enum":
        return _enum(column.members)
    raise TypeMappingError(f"column {column.name!r} has the type {family!r} without an Avro form",
                           hint="see docs/types.md for the supported types")
