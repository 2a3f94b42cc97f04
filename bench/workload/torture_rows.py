"""The type-torture rows as pure data: the exact values the table must hold, in Python form.

Tests compare round trips (capture, snapshot, restore) against these values, so each value is
what a lossless path must give back: Decimal with its full scale, int for BIGINT UNSIGNED and
BIT, naive datetime for DATETIME (wall clock), UTC-aware datetime for TIMESTAMP (an instant),
timedelta for TIME (negative ones included), bytes for binary types, frozenset for SET, the
parsed document for JSON, and ZERO_DATE for MySQL's zero dates. Missing columns are NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Final, TypeAlias

from bench.workload.torture_columns import COLUMNS_BY_NAME, SET_MEMBERS, TORTURE_COLUMNS


class ZeroDate(Enum):
    """MySQL's zero date: '0000-00-00' in DATE, '0000-00-00 00:00:00' in DATETIME/TIMESTAMP.

    No Python date can hold it, and it is not NULL: a lossless path keeps it or refuses it
    loudly, it never turns it into NULL.
    """

    ZERO = "0000-00-00"


ZERO_DATE: Final = ZeroDate.ZERO

JsonValue: TypeAlias = "dict[str, JsonValue] | list[JsonValue] | str | int | float | bool | None"
TortureValue: TypeAlias = (
    "int | float | Decimal | str | bytes | date | datetime | timedelta | frozenset[str] "
    "| ZeroDate | JsonValue"
)


@dataclass(frozen=True)
class TortureRow:
    row_id: int
    name: str
    purpose: str
    values: Mapping[str, TortureValue]  # every column; None is SQL NULL


def _row(row_id: int, name: str, purpose: str, **values: TortureValue) -> TortureRow:
    unknown = set(values) - set(COLUMNS_BY_NAME)
    if unknown:
        raise ValueError(f"torture row {name!r} names unknown columns: {sorted(unknown)}")
    complete = {column.name: values.get(column.name) for column in TORTURE_COLUMNS}
    return TortureRow(row_id, name, purpose, MappingProxyType(complete))


def _negative_time(hours: int, minutes: int, seconds: int, microseconds: int = 0) -> timedelta:
    return -timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=microseconds)


FLOAT_MAX = 3.4028234663852886e38  # largest binary32, exactly
FLOAT_MIN_NORMAL = 1.1754943508222875e-38
DOUBLE_MAX = 1.7976931348623157e308
DOUBLE_MIN_NORMAL = 2.2250738585072014e-308
DOUBLE_MIN_SUBNORMAL = 5e-324

# Written out in full, negatives too: Decimal's unary minus rounds to the context's 28
# digits, which silently turned -DECIMAL_65_30_MAX into -1E+35.
DECIMAL_65_30_MAX = Decimal("99999999999999999999999999999999999.999999999999999999999999999999")
DECIMAL_65_30_MIN = Decimal("-99999999999999999999999999999999999.999999999999999999999999999999")
DECIMAL_19_4_MAX = Decimal("999999999999999.9999")
DECIMAL_19_4_MIN = Decimal("-999999999999999.9999")
DECIMAL_65_30_TINY = Decimal("0.000000000000000000000000000001")
DECIMAL_65_30_TINY_NEGATIVE = Decimal("-0.000000000000000000000000000001")

MINIMUMS = _row(
    1, "minimums", "the smallest value of every type",
    tiny_signed=-128, tiny_unsigned=0, small_signed=-32768, small_unsigned=0,
    medium_signed=-8388608, medium_unsigned=0, int_signed=-2147483648, int_unsigned=0,
    big_signed=-9223372036854775808, big_unsigned=0,
    decimal_65_30=DECIMAL_65_30_MIN, decimal_19_4=DECIMAL_19_4_MIN,
    float_value=-FLOAT_MAX, double_value=-DOUBLE_MAX,
    bit_1=0, bit_64=0,
    date_value=date(1000, 1, 1),
    datetime_value=datetime(1000, 1, 1, 0, 0, 0),
    datetime_6=datetime(1000, 1, 1, 0, 0, 0, 0),
    timestamp_value=datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
    timestamp_6=datetime(1970, 1, 1, 0, 0, 1, 0, tzinfo=UTC),
    time_value=_negative_time(838, 59, 59),
    time_6=_negative_time(838, 59, 59),
    year_value=1901,
    enum_value="pending",
    set_value=frozenset({"card"}),
    json_value=[],
)

MAXIMUMS = _row(
    2, "maximums", "the largest value of every type",
    tiny_signed=127, tiny_unsigned=255, small_signed=32767, small_unsigned=65535,
    medium_signed=8388607, medium_unsigned=16777215, int_signed=2147483647,
    int_unsigned=4294967295, big_signed=9223372036854775807,
    big_unsigned=18446744073709551615,
    decimal_65_30=DECIMAL_65_30_MAX, decimal_19_4=DECIMAL_19_4_MAX,
    float_value=FLOAT_MAX, double_value=DOUBLE_MAX,
    bit_1=1, bit_64=2**64 - 1,
    date_value=date(9999, 12, 31),
    datetime_value=datetime(9999, 12, 31, 23, 59, 59),
    datetime_6=datetime(9999, 12, 31, 23, 59, 59, 999999),
    timestamp_value=datetime(2038, 1, 19, 3, 14, 7, tzinfo=UTC),
    timestamp_6=datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=UTC),
    time_value=timedelta(hours=838, minutes=59, seconds=59),
    time_6=timedelta(hours=838, minutes=59, seconds=59),
    year_value=2155,
    enum_value="ünïcödé ✓",
    set_value=frozenset(SET_MEMBERS),
    json_value={"bigint_unsigned_max": 18446744073709551615,
                "bigint_min": -9223372036854775808, "double": 1.5e300},
)

SIGN_BOUNDARIES = _row(
    3, "sign_boundaries",
    "-1 in every signed type and the high bit alone in every unsigned one: values that come "
    "back wrong when signed and unsigned are confused",
    tiny_signed=-1, tiny_unsigned=2**7, small_signed=-1, small_unsigned=2**15,
    medium_signed=-1, medium_unsigned=2**23, int_signed=-1, int_unsigned=2**31,
    big_signed=-1, big_unsigned=2**63,
    decimal_65_30=DECIMAL_65_30_TINY_NEGATIVE, decimal_19_4=Decimal("0.0001"),
    float_value=-0.375, double_value=DOUBLE_MIN_SUBNORMAL,
    bit_1=1, bit_64=2**63,
    datetime_6=datetime(1999, 12, 31, 23, 59, 59, 999999),
    timestamp_6=datetime(1970, 1, 1, 0, 0, 1, 1, tzinfo=UTC),
    time_value=_negative_time(1, 0, 0),
    time_6=_negative_time(0, 0, 0, 1),
    year_value=1970,
)

FRACTIONS_AND_ZONES = _row(
    4, "fractions_and_time_zones",
    "fractional seconds, negative TIME with fractions, and wall-clock times that are "
    "ambiguous or missing in America/New_York",
    decimal_65_30=DECIMAL_65_30_TINY, decimal_19_4=Decimal("-0.0001"),
    float_value=FLOAT_MIN_NORMAL, double_value=DOUBLE_MIN_NORMAL,
    date_value=date(2024, 2, 29),
    # 01:30 happens twice in New York that night (EDT, then EST).
    datetime_value=datetime(2026, 11, 1, 1, 30, 0),
    # 02:30 never happens in New York that night (clocks jump from 02:00 to 03:00).
    datetime_6=datetime(2026, 3, 8, 2, 30, 0, 500000),
    # Two instants that are both 01:30 on New York's wall clock.
    timestamp_value=datetime(2026, 11, 1, 5, 30, 0, tzinfo=UTC),
    timestamp_6=datetime(2026, 11, 1, 6, 30, 0, 123456, tzinfo=UTC),
    time_value=_negative_time(0, 0, 1),
    time_6=_negative_time(12, 10, 48, 835870),
    year_value=2000,
    bit_64=0x00FF00FF00FF00FF,
    json_value="a JSON document that is just a string",
)

ZERO_DATES = _row(
    5, "zero_dates",
    "MySQL's zero date in every temporal column, and YEAR 0000; written with a session "
    "sql_mode that allows zero dates",
    date_value=ZERO_DATE, datetime_value=ZERO_DATE, datetime_6=ZERO_DATE,
    timestamp_value=ZERO_DATE, timestamp_6=ZERO_DATE,
    time_value=timedelta(0), time_6=timedelta(0),
    year_value=0,
)

UNICODE_AND_ESCAPES = _row(
    6, "unicode_and_escapes",
    "4-byte UTF-8 (emoji, a ZWJ sequence, CJK extension B), latin1 accents, and the "
    "characters that break quoting and COPY: backslashes, quotes, newlines, tabs, ctrl-Z",
    char_value="Zoë ☕ 💳 Ñ",
    varchar_utf8mb4="Pay 💶 → 👨‍👩‍👧‍👦 family, 𝄞 clef, 𠜎 ext-B, ✓",
    varchar_latin1="Café crème, naïve Ålborg, Øre ½ © ÿ ß",
    tinytext_value='He said "hi" & it\'s fine',
    text_value=(
        "backslash \\ quote ' double \" backquote ` newline\nCRLF\r\ntab\tliteral \\n \\0 "
        "\\N percent % underscore _ ctrl-Z \x1a end"
    ),
    mediumtext_value="Ελληνικά · русский · 日本語 · עברית · العربية · हिन्दी · 한국어 🧾",
    longtext_value="line one\nline two\n\n\ttabbed\r\nends in backslashes \\\\\\",
    float_value=0.5, double_value=0.1,
    enum_value="ünïcödé ✓",
    set_value=frozenset({"card", "sepa", "wallet"}),
    json_value={
        "name": "Zoë Núñez",
        "emoji": "💳🧾👨‍👩‍👧",
        "nested": {"list": [1, -2.5, True, None, "ünïcode"], "empty_object": {},
                   "empty_list": [], "deeper": {"日本": {"키": "值"}}},
        "escapes": "quote \" backslash \\ newline \n tab \t",
    },
)

BINARY_WITH_NUL_BYTES = _row(
    7, "binary_with_nul_bytes",
    "NUL bytes at the start, middle and end of binary values, every byte value, and the "
    "bytes SQL escaping must handle",
    binary_16=b"\x00\x01NUL\x00inside\x00\xff\xfe\x7f",
    varbinary_value=b"\x00leading, \x00 middle, trailing\x00\x00 \\'\"\n\r\x1a",
    tinyblob_value=b"\xff" + bytes(range(254)),  # the maximum 255 bytes
    blob_value=bytes(range(256)) * 16,
    mediumblob_value=b"\xff" + b"\x00" * 1024 + b"\xff" * 1024,
    longblob_value=b"%PDF-1.7\n\x00\x01\x02\xe2\xe3\xcf\xd3\n" + bytes(range(255, -1, -1)),
    bit_1=1,
    json_value=[1, "two", {"3": [4.5, None]}, []],
)

EMPTY_VALUES = _row(
    8, "empty_values",
    "empty strings, empty bytes and the empty SET, which are not NULL; zeros with full scale",
    tiny_signed=0, tiny_unsigned=0, small_signed=0, small_unsigned=0, medium_signed=0,
    medium_unsigned=0, int_signed=0, int_unsigned=0, big_signed=0, big_unsigned=0,
    decimal_65_30=Decimal("0.000000000000000000000000000000"), decimal_19_4=Decimal("0.0000"),
    float_value=0.0, double_value=0.0,
    bit_64=0,
    char_value="", varchar_utf8mb4="", varchar_latin1="",
    # BINARY(16) pads with NUL bytes, so an empty value reads back as sixteen of them.
    binary_16=bytes(16),
    varbinary_value=b"", tinyblob_value=b"", blob_value=b"", mediumblob_value=b"",
    longblob_value=b"",
    tinytext_value="", text_value="", mediumtext_value="", longtext_value="",
    set_value=frozenset(),
    json_value={},
)

LARGE_VALUES = _row(
    9, "large_values",
    "every string and binary type at or past the size where its length prefix grows",
    decimal_65_30=Decimal("12345678901234567890123456789012345.123456789012345678901234567890"),
    decimal_19_4=Decimal("-123456789012345.6789"),
    char_value="💳" * 16,
    varchar_utf8mb4="😀" * 255,
    varchar_latin1="ÿ" * 255,
    binary_16=b"\xff" * 16,
    varbinary_value=b"\xff" * 255,
    tinyblob_value=bytes(255),
    blob_value=(bytes(range(256)) * 256)[: 2**16 - 1],
    mediumblob_value=bytes((i * 7) % 256 for i in range(70_000)),
    longblob_value=bytes((i * 13 + 5) % 256 for i in range(100_000)),
    tinytext_value="é" * 127 + "a",
    text_value="x" * (2**16 - 1),
    mediumtext_value="0123456789abcdef" * 4_200,
    longtext_value="€💶ü" * 8_000,
    set_value=frozenset({"wire", "crypto"}),
    json_value={"items": [{"i": i, "name": f"item {i} ✓"} for i in range(200)]},
)

ALL_NULL = _row(10, "all_null", "NULL in every column but the key")

TORTURE_ROWS: tuple[TortureRow, ...] = (
    MINIMUMS, MAXIMUMS, SIGN_BOUNDARIES, FRACTIONS_AND_ZONES, ZERO_DATES, UNICODE_AND_ESCAPES,
    BINARY_WITH_NUL_BYTES, EMPTY_VALUES, LARGE_VALUES, ALL_NULL,
)

TORTURE_ROWS_BY_ID: Mapping[int, TortureRow] = MappingProxyType(
    {row.row_id: row for row in TORTURE_ROWS},
)
