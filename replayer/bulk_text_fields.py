"""How each column family is read from a snapshot block and written as bulk-load text, for
the fused encoders of ``replayer.bulk_text`` (the parts both targets share; the targets pick
and complete them in ``bulk_text_postgres`` and ``bulk_text_mysql``).

Tables are built from the canonical path itself (the small integers' fields are what the
target's reference formatter writes for them), the date checks are regular expressions over a
block's values of a column at once, and TIMESTAMPs are written from an hour cache and a table
of the seconds of an hour.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from cdc.avro.binary import Reader
from cdc.avro.row_schema import row_codec
from cdc.changes import Column, TableSchema
from cdc.errors import TypeMappingError
from replayer.bulk_text import NULL, FieldCode, Post, UnusualValueError

FieldText = Callable[[Any], bytes]
"""A non-NULL canonical value to its field, as the target's reference formatter writes it."""


def one_byte_fields(column: Column, format_value: Callable[[Any], bytes]) -> tuple[Any, ...]:
    """The field of each long whose varint is the one byte ``b`` (-64 to 63), as the canonical
    path gives it, for a column whose values are Avro longs: its reader decodes the value, then
    ``format_value`` formats it; None where either refuses it (the fast path then reads the
    value the long way, and its checks refuse it)."""
    read = row_codec(TableSchema("", "", 0, (column,), ())).decode_from
    fields: list[bytes | None] = [None] * 256
    for byte in range(0x80):
        try:
            row = read(Reader(bytes((2, byte))))
            fields[byte] = format_value(row[column.name])
        except (ValueError, OverflowError, TypeMappingError):
            continue
    return tuple(fields)


# --- dates and times ----------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1)
_HOUR_CACHE = 1 << 14
MINUTES_SECONDS: Final = tuple(b":%02d:%02d" % divmod(second, 60) for second in range(3600))
"""``:mm:ss`` of each second of an hour."""


def hour_texts() -> tuple[dict[int, bytes], Callable[[int], bytes]]:
    """A cache of ``YYYY-MM-DD hh`` by hours since the epoch (UTC), and the function that
    fills it."""
    cache: dict[int, bytes] = {}

    def text(hours: int) -> bytes:
        if len(cache) >= _HOUR_CACHE:
            cache.clear()
        value = cache[hours] = (_EPOCH + timedelta(hours=hours)).isoformat(" ")[:13].encode()
        return value

    return cache, text


def time_bytes(micros: int) -> bytes:
    """A TIME of signed microseconds in MySQL's literal form (``cdc.values.time_text``)."""
    sign = b""
    if micros < 0:
        sign, micros = b"-", -micros
    seconds, fraction = divmod(micros, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if fraction:
        return b"%s%02d:%02d:%02d.%06d" % (sign, hours, minutes, seconds, fraction)
    return b"%s%02d:%02d:%02d" % (sign, hours, minutes, seconds)


_MONTH_DAY = (rb"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
              rb"|(?:0[13578]|1[02])-31)")
_LEAP_YEAR = rb"(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
_REAL_DAY = rb"(?:\d{4}-" + _MONTH_DAY + b"|" + _LEAP_YEAR + rb"-02-29)"
"""A real date but for the year 0000, which ``date_post`` refuses without a regex."""
REAL_DATE: Final = rb"(?!0000)" + _REAL_DAY
"""The text of every date ``datetime.date`` can hold, as ``date.isoformat`` writes it."""
ANY_DATE: Final = rb"\d{4}-(?:0\d|1[0-2])-(?:[0-2]\d|3[01])"
"""The text of every date a DATE or DATETIME can hold, real or zero (``ZeroDate.text``)."""
TIME_OF_DAY: Final = rb"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"


def lines_of(pattern: bytes) -> Callable[[bytes], re.Match[bytes] | None]:
    """``fullmatch`` of lines that are each ``pattern`` or NULL (``\\N``)."""
    line = rb"(?:" + pattern + rb"|\\N)"
    return re.compile(line + rb"(?:\n" + line + rb")*").fullmatch


def date_post(*, real: bool, time: bool = False, scale: int = 0) -> Post:
    """The post of DATE (DATETIME with ``time``) values passed on as the file holds them: as
    ``date.isoformat`` (``datetime.isoformat(" ")``) writes them when ``real``, else as MySQL's
    literal, zero dates included; a fraction has six digits, of which those past ``scale`` are
    zeros, and is left out when zero."""
    pattern = _REAL_DAY if real else ANY_DATE
    if time:
        pattern += b" " + TIME_OF_DAY
        if scale:
            pattern += rb"(?:\.\d{%d}0{%d})?" % (scale, 6 - scale)
    fullmatch = lines_of(pattern)
    zero_fraction = b".000000" if time and scale else None  # isoformat leaves it out
    zero_year = b"0000-" if real else None  # no date has the year 0000

    def post(values: list[bytes], nulls: int) -> list[bytes] | None:
        joined = b"\n".join(values)
        if (joined.count(b"\\") != nulls or joined.count(b"\n") != len(values) - 1
                or (zero_fraction is not None and zero_fraction in joined)
                or (zero_year is not None and (joined.startswith(zero_year)
                                               or b"\n" + zero_year in joined))
                or not fullmatch(joined)):
            raise UnusualValueError("a value of an unusual shape")
        return None

    return post


# --- checks and escapes over a column's fields in a block ---------------------------------------


def escape_post(escape: Callable[[bytes], bytes], special: bytes, *, utf8: bool = False,
                refused: tuple[bytes, ...] = ()) -> Post:
    """The post of a column whose fields are escaped by ``escape`` when they hold a byte of
    ``special`` (the escape character first). With ``utf8`` the values must be UTF-8 text; a
    value that holds one of ``refused`` leaves the block to the canonical path."""
    backslash = special[:1]
    others = tuple(special[i:i + 1] for i in range(1, len(special)) if special[i:i + 1] != b"\n")

    def post(values: list[bytes], nulls: int) -> list[bytes] | None:
        joined = b"\n".join(values)  # a newline cannot complete a broken UTF-8 sequence
        if utf8 and not joined.isascii():
            joined.decode("utf-8")
        for text in refused:
            if text in joined:
                raise UnusualValueError(f"a value holds {text!r}")
        if (joined.count(backslash) == nulls and joined.count(b"\n") == len(values) - 1
                and not any(byte in joined for byte in others)):
            return None
        return [value if value is NULL else escape(value) for value in values]

    return post


# --- the families ------------------------------------------------------------------------------

_INTEGER_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "bigint": 64}
_TIME_LIMIT_US = (838 * 3600 + 59 * 60 + 59) * 1_000_000 + 999_999
_SET_CACHE = 4096
UNSIGNED_64_MAX: Final = (1 << 64) - 1


def integer_code(column: Column, text: FieldText) -> FieldCode:
    """TINYINT to BIGINT (not BIGINT UNSIGNED) and YEAR: decimal digits."""
    if column.type == "year":  # 0 only as its one-byte varint, from the table
        check = "if not 1901 <= {v} <= 2155:"
    else:
        bits = _INTEGER_BITS[column.type]
        low, high = ((0, (1 << bits) - 1) if column.unsigned
                     else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1))
        check = f"if not {low} <= {{v}} <= {high}:"
    return FieldCode("long", (check, "    raise U", "{f} = b'%d' % {v}"),
                     table=one_byte_fields(column, text))


_FIELD_CACHE = 8192


def cached(code: FieldCode) -> FieldCode:
    """``code`` (of shape ``bytes``) with its fields cached by the value's bytes: for columns
    whose values repeat (foreign keys, amounts), not for keys. At most 8192 per column."""
    lines = ["{f} = {K}CACHE.get({v})", "if {f} is None:", "    k = {v}",
             *("    " + line for line in code.lines),
             f"    if len({{K}}CACHE) < {_FIELD_CACHE}:", "        {K}CACHE[k] = {f}"]
    return replace(code, lines=tuple(lines), constants={**code.constants, "CACHE": {}})


def unsigned_64_code() -> FieldCode:
    """BIGINT UNSIGNED, from decimal(20, 0) bytes: decimal digits."""
    return FieldCode("bytes", ("{v} = from_bytes({v}, 'big')",
                               f"if {{v}} >= HALVES[n] or {{v}} > {UNSIGNED_64_MAX}:",
                               "    raise U", "{f} = b'%d' % {v}"))


def decimal_code(precision: int, scale: int) -> FieldCode:
    """DECIMAL(p, s) from its unscaled two's-complement bytes to ``format(d, "f")``: the
    digits, with exactly ``s`` of them after the point."""
    lines = ["{v} = from_bytes({v}, 'big')", "if {v} >= HALVES[n]:", "    {v} -= WHOLES[n]"]
    safe = (10**precision - 1).bit_length() // 8  # fewer bytes cannot exceed the precision
    lines += [f"if n > {safe} and not -{{K}}LIMIT < {{v}} < {{K}}LIMIT:", "    raise U"]
    constants: dict[str, object] = {"LIMIT": 10**precision}
    if 0 < scale <= _TABLED_SCALE:  # the digits from tables: quicker than formatting them
        constants["DIGITS"], constants["FRACTIONS"] = digits(), fractions(scale)
        lines += ["if {v} < 0:", f"    q, r = divmod(-{{v}}, {10**scale})",
                  "    {f} = (b'-' + {K}DIGITS[q] if q < 10000 else b'-%d' % q) + {K}FRACTIONS[r]",
                  "else:", f"    q, r = divmod({{v}}, {10**scale})",
                  "    {f} = ({K}DIGITS[q] if q < 10000 else b'%d' % q) + {K}FRACTIONS[r]"]
    elif scale:
        pattern = f"%d.%0{scale}d"
        lines += ["if {v} < 0:", f"    {{f}} = b'-{pattern}' % divmod(-{{v}}, {10**scale})",
                  "else:", f"    {{f}} = b'{pattern}' % divmod({{v}}, {10**scale})"]
    else:
        lines += ["{f} = b'%d' % {v}"]
    return FieldCode("bytes", tuple(lines), constants)


_TABLED_SCALE = 4


@lru_cache(maxsize=1)
def digits() -> tuple[bytes, ...]:
    """The decimal digits of 0 to 9999."""
    return tuple(b"%d" % number for number in range(10000))


@lru_cache(maxsize=_TABLED_SCALE)
def fractions(scale: int) -> tuple[bytes, ...]:
    """``.`` and the ``scale`` digits of each fraction: ``.0001`` is 1 at scale 4."""
    return tuple(b".%0*d" % (scale, number) for number in range(10**scale))


def timestamp_code(column: Column, suffix: bytes, zero: bytes | None) -> FieldCode:
    """TIMESTAMP from microseconds since the epoch to ``YYYY-MM-DD hh:mm:ss[.ffffff]`` then
    ``suffix``; 0 is the zero timestamp, written ``zero`` (None: refused). A fraction finer
    than the column's digits is refused."""
    scale = column.scale or 0
    lines = ["if {v} <= 0:", "    raise U"]
    if scale < 6:
        lines += [f"if {{v}} % {10 ** (6 - scale)}:", "    raise U"]
    lines += ["s, u = divmod({v}, 1000000)", "h, s = divmod(s, 3600)", "t = {K}HOURS.get(h)",
              "if t is None:", "    t = {K}HOUR(h)",
              "{f} = t + {K}MS[s] + {K}FRACTION % u if u else t + {K}MS[s] + {K}SUFFIX"]
    hours, hour = hour_texts()
    table: list[bytes | None] = [None] * 256
    table[0] = zero  # microseconds 1 to 63 (one-byte varints too) are read the long way
    return FieldCode("long8", tuple(lines), {"HOURS": hours, "HOUR": hour, "MS": MINUTES_SECONDS,
                                             "FRACTION": b".%06d" + suffix, "SUFFIX": suffix},
                     table=tuple(table))


def time_code(column: Column, text: FieldText) -> FieldCode:
    """TIME from signed microseconds to MySQL's literal (``cdc.values.time_text``), within
    +-838:59:59.999999; a fraction finer than the column's digits is refused."""
    scale = column.scale or 0
    lines = [f"if not -{_TIME_LIMIT_US} <= {{v}} <= {_TIME_LIMIT_US}:", "    raise U"]
    if scale < 6:
        lines += [f"if {{v}} % {10 ** (6 - scale)}:", "    raise U"]
    lines += ["{f} = {K}TIME({v})"]
    return FieldCode("long", tuple(lines), {"TIME": time_bytes},
                     table=one_byte_fields(column, text))


def enum_code(column: Column, text: FieldText) -> FieldCode:
    """ENUM: each member's UTF-8 bytes (and ``''``'s) to its field; others are refused."""
    fields = {}
    for member in ("", *column.members):
        try:
            fields[member.encode("utf-8")] = text(member)
        except (TypeMappingError, ValueError):  # the canonical path says why
            continue
    return FieldCode("bytes", ("{f} = {K}FIELDS[{v}]",), {"FIELDS": fields})


def set_code(column: Column, text: FieldText) -> FieldCode:
    """SET: the members' bytes as the file holds them to the field, cached per combination."""
    known = frozenset(column.members)
    cache: dict[tuple[bytes, ...], bytes] = {}

    def compute(members: tuple[bytes, ...]) -> bytes:
        try:
            value = frozenset(member.decode("utf-8") for member in members)
            if not value <= known:
                raise UnusualValueError("not a member")
            field = text(value)
        except (TypeMappingError, ValueError):
            raise UnusualValueError("a SET value the canonical path refuses") from None
        if len(cache) >= _SET_CACHE:
            cache.clear()
        cache[members] = field
        return field

    return FieldCode("members", ("{f} = {K}CACHE.get({v})", "if {f} is None:",
                                 "    {f} = {K}COMPUTE({v})"),
                     {"CACHE": cache, "COMPUTE": compute})


def refused_code() -> FieldCode:
    """A column whose every non-NULL value the reference refuses (the canonical path says
    why)."""
    return FieldCode("bytes", ("raise U",))


