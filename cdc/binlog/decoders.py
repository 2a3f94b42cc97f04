"""Exact decoders for the binlog row formats the binlog library gets wrong.

Pure functions of the raw bytes of one column value, written from the server's own packing
code (``my_time_packed_from_binary``, ``my_datetime_packed_from_binary``,
``my_timestamp_from_binary`` and the pre-5.6 formats). What the library gets wrong:

- TIME2 with a fraction and a negative sign: MySQL stores the fraction of a negative time
  counted down from the next whole second, so ``-12:10:48.835870`` came back as
  ``-12:10:48.164130``;
- DATE and DATETIME with a zero part (``0000-00-00``, ``2020-00-15``) came back as None;
- TIMESTAMP 0 (the zero timestamp ``0000-00-00 00:00:00``) came back as 1970-01-01;
- the empty SET came back as None, and YEAR 0000 as 1900;
- latin1 text was decoded as Windows-1252, which has no character for five bytes MySQL maps
  to U+0081, U+008D, U+008F, U+0090 and U+009D, so such a value stopped the stream;
- BINARY(n) values lost the trailing NUL bytes the binlog leaves out.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from cdc.values import ZERO_DATETIME, ZeroDate, ZeroDateTime, date_or_zero, datetime_or_zero


class DecodeError(ValueError):
    """Bytes that are not a valid value of the column type they were read for."""


_TIMEF_INT_OFS = 0x800000
_TIMEF_OFS = 0x800000000000
_DATETIMEF_INT_OFS = 0x8000000000
_PACKED_FRACTION_BITS = 24
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def fraction_size(fsp: int) -> int:
    """Bytes of the fractional-second part for ``fsp`` digits (0, 1, 2 or 3)."""
    if not 0 <= fsp <= 6:
        raise DecodeError(f"fractional-second precision {fsp} is not 0..6")
    return (fsp + 1) // 2


def time2_size(fsp: int) -> int:
    return 3 + fraction_size(fsp)


def datetime2_size(fsp: int) -> int:
    return 5 + fraction_size(fsp)


def timestamp2_size(fsp: int) -> int:
    return 4 + fraction_size(fsp)


def _check_size(data: bytes, size: int, kind: str) -> None:
    if len(data) != size:
        raise DecodeError(f"{kind} needs {size} bytes, got {len(data)}")


def _signed_fraction_us(data: bytes, fsp: int) -> int:
    """The fraction of DATETIME2/TIMESTAMP2 in microseconds (stored signed, big-endian)."""
    size = fraction_size(fsp)
    if size == 0:
        return 0
    raw = int.from_bytes(data, "big", signed=True)
    return raw * (10_000, 100, 1)[size - 1]


def decode_time2(data: bytes, fsp: int) -> timedelta:
    """TIME(fsp) in the 5.6+ format: a 24-bit offset-binary integer part, then the fraction."""
    _check_size(data, time2_size(fsp), "TIME2")
    size = fraction_size(fsp)
    if size == 3:
        packed = int.from_bytes(data, "big") - _TIMEF_OFS
    else:
        integer = int.from_bytes(data[:3], "big") - _TIMEF_INT_OFS
        fraction = int.from_bytes(data[3:], "big")
        # A negative time's fraction is stored as (1 - fraction) of the next whole second
        # down, so that the bytes sort like the values.
        if integer < 0 and fraction:
            integer += 1
            fraction -= 1 << (8 * size)
        packed = (integer << _PACKED_FRACTION_BITS) + fraction * (1, 10_000, 100)[size]
    negative = packed < 0
    magnitude = -packed if negative else packed
    hms = magnitude >> _PACKED_FRACTION_BITS
    microseconds = magnitude & ((1 << _PACKED_FRACTION_BITS) - 1)
    hours, minutes, seconds = (hms >> 12) & 0x3FF, (hms >> 6) & 0x3F, hms & 0x3F
    if minutes > 59 or seconds > 59 or microseconds > 999_999 or hours > 838:
        raise DecodeError(f"TIME2 bytes {data.hex()} hold no valid time")
    value = timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=microseconds)
    return -value if negative else value


def decode_time(data: bytes) -> timedelta:
    """TIME in the pre-5.6 format: a signed little-endian ±HHMMSS number."""
    _check_size(data, 3, "TIME")
    number = int.from_bytes(data, "little", signed=True)
    magnitude = abs(number)
    hours, minutes, seconds = magnitude // 10_000, magnitude // 100 % 100, magnitude % 100
    if minutes > 59 or seconds > 59 or hours > 838:
        raise DecodeError(f"TIME bytes {data.hex()} hold no valid time")
    value = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return -value if number < 0 else value


def decode_date(data: bytes) -> date | ZeroDate:
    """DATE: little-endian ``year << 9 | month << 5 | day``; zero parts are kept."""
    _check_size(data, 3, "DATE")
    number = int.from_bytes(data, "little")
    try:
        return date_or_zero(number >> 9, (number >> 5) & 0xF, number & 0x1F)
    except ValueError as exc:
        raise DecodeError(f"DATE bytes {data.hex()}: {exc}") from None


def decode_datetime2(data: bytes, fsp: int) -> datetime | ZeroDateTime:
    """DATETIME(fsp) in the 5.6+ format; zero parts are kept, the result is naive."""
    _check_size(data, datetime2_size(fsp), "DATETIME2")
    integer = int.from_bytes(data[:5], "big") - _DATETIMEF_INT_OFS
    microseconds = _signed_fraction_us(data[5:], fsp)
    if integer < 0 or not 0 <= microseconds <= 999_999:
        raise DecodeError(f"DATETIME2 bytes {data.hex()} hold a negative datetime")
    ymd, hms = integer >> 17, integer & 0x1FFFF
    year_month = ymd >> 5
    try:
        return datetime_or_zero(year_month // 13, year_month % 13, ymd & 0x1F, hour=hms >> 12,
                                minute=(hms >> 6) & 0x3F, second=hms & 0x3F,
                                microsecond=microseconds)
    except ValueError as exc:
        raise DecodeError(f"DATETIME2 bytes {data.hex()}: {exc}") from None


def decode_datetime(data: bytes) -> datetime | ZeroDateTime:
    """DATETIME in the pre-5.6 format: a little-endian YYYYMMDDhhmmss number."""
    _check_size(data, 8, "DATETIME")
    number = int.from_bytes(data, "little")
    day_part, time_part = divmod(number, 1_000_000)
    try:
        return datetime_or_zero(day_part // 10_000, day_part // 100 % 100, day_part % 100,
                                hour=time_part // 10_000, minute=time_part // 100 % 100,
                                second=time_part % 100)
    except ValueError as exc:
        raise DecodeError(f"DATETIME bytes {data.hex()}: {exc}") from None


def _instant(seconds: int, microseconds: int, data: bytes) -> datetime | ZeroDateTime:
    if seconds == 0:
        # Second 0 is how MySQL stores the zero timestamp; no valid TIMESTAMP uses it.
        if microseconds:
            raise DecodeError(f"TIMESTAMP bytes {data.hex()}: a fraction of the zero timestamp")
        return ZERO_DATETIME
    if not 0 <= microseconds <= 999_999:
        raise DecodeError(f"TIMESTAMP bytes {data.hex()} hold a negative fraction")
    return _EPOCH + timedelta(0, seconds, microseconds)


def decode_timestamp2(data: bytes, fsp: int) -> datetime | ZeroDateTime:
    """TIMESTAMP(fsp) in the 5.6+ format: big-endian unsigned seconds since the epoch, UTC."""
    _check_size(data, timestamp2_size(fsp), "TIMESTAMP2")
    return _instant(int.from_bytes(data[:4], "big"), _signed_fraction_us(data[4:], fsp), data)


def decode_timestamp(data: bytes) -> datetime | ZeroDateTime:
    """TIMESTAMP in the pre-5.6 format: little-endian seconds since the epoch, UTC."""
    _check_size(data, 4, "TIMESTAMP")
    return _instant(int.from_bytes(data, "little"), 0, data)


def decode_year(data: bytes) -> int:
    """YEAR: one byte counting from 1900, where 0 is the zero year ``0000``."""
    _check_size(data, 1, "YEAR")
    return data[0] + 1900 if data[0] else 0


def decode_set(data: bytes, members: tuple[str, ...]) -> frozenset[str]:
    """SET: a little-endian bitmask over the members in declaration order; may be empty."""
    mask = int.from_bytes(data, "little")
    if mask >> len(members):
        raise DecodeError(f"SET bitmask {mask:#x} names more than {len(members)} members")
    return frozenset(member for index, member in enumerate(members) if mask >> index & 1)


def pad_binary(data: bytes, length: int) -> bytes:
    """A BINARY(length) value: the binlog drops the trailing NUL bytes the column holds."""
    if len(data) > length:
        raise DecodeError(f"BINARY({length}) value of {len(data)} bytes")
    return data.ljust(length, b"\x00")


# --- text ---------------------------------------------------------------------------------------


def _mysql_latin1_table() -> str:
    # MySQL's latin1 is Windows-1252 with the five bytes that code page leaves undefined
    # mapped to the C1 control characters of the same number (ctype-latin1.c).
    characters = []
    for byte in range(256):
        try:
            characters.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            characters.append(chr(byte))
    return "".join(characters)


MYSQL_LATIN1_DECODING = _mysql_latin1_table()
MYSQL_LATIN1_ENCODING = codecs.charmap_build(MYSQL_LATIN1_DECODING)


def _latin1(data: bytes) -> str:
    return codecs.charmap_decode(data, "strict", MYSQL_LATIN1_DECODING)[0]


def _codec(name: str) -> Callable[[bytes], str]:
    def decode(data: bytes) -> str:
        return data.decode(name)
    return decode


_TEXT_DECODERS: dict[str, Callable[[bytes], str]] = {
    "utf8mb4": _codec("utf-8"),
    "utf8mb3": _codec("utf-8"),
    "utf8": _codec("utf-8"),
    "latin1": _latin1,
    "ascii": _codec("ascii"),
    "ucs2": _codec("utf-16-be"),
    "utf16": _codec("utf-16-be"),
    "utf16le": _codec("utf-16-le"),
    "utf32": _codec("utf-32-be"),
}
SUPPORTED_CHARSETS = frozenset(_TEXT_DECODERS)
"""Character sets whose text is decoded exactly; others are refused, never guessed."""


def charset_of_collation(collation: str) -> str:
    """The character set a collation belongs to (``latin1_swedish_ci`` -> ``latin1``)."""
    return collation if collation == "binary" else collation.split("_", 1)[0]


def text_decoder(charset: str) -> Callable[[bytes], str]:
    """The exact bytes-to-text function of a MySQL character set."""
    try:
        return _TEXT_DECODERS[charset]
    except KeyError:
        raise DecodeError(
            f"character set {charset!r} is not supported (supported: "
            f"{', '.join(sorted(SUPPORTED_CHARSETS))})",
        ) from None


def decode_text(data: bytes, charset: str) -> str:
    try:
        return text_decoder(charset)(data)
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"bytes {data[:32].hex()} are not valid {charset}: {exc.reason}") from None


MAX_BYTES_PER_CHARACTER = {
    "binary": 1, "latin1": 1, "ascii": 1, "utf8mb3": 3, "utf8": 3, "utf8mb4": 4, "ucs2": 2,
    "utf16": 4, "utf16le": 4, "utf32": 4,
}
