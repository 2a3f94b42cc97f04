"""MariaDB/MySQL ``LOAD DATA LOCAL INFILE`` text of snapshot blocks, fused.

``mysql_load_encoder(schema)`` gives a ``MysqlLoad``: ``encode(count, records)``, the block's
lines, and ``statement(path)``, the LOAD DATA statement that loads a file of those lines into
the table, so that every value arrives exactly as the source held it. The session must be the
one ``apply_mysql.prepare_session`` sets up: ``time_zone = '+00:00'`` (TIMESTAMPs are written
in UTC), ``sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'`` (zero dates allowed, a
0 in an AUTO_INCREMENT column kept, backslash escapes in string literals), and the connection
opened with ``local_infile`` allowed.

The file's format (``load_data_row`` is the reference, from canonical rows):

- the file is ``CHARACTER SET binary``: the server takes every field's bytes as they are, so
  binary values, BIT and text are never converted. Text is therefore written in its column's
  character set (UTF-8 for utf8mb4/utf8mb3, MySQL's latin1, that is cp1252 with its five
  holes, for latin1; ascii, ucs2 and utf16/utf16le/utf32 as those); a character the column's
  set cannot hold is refused. A MySQL JSON column is read through ``@variable`` and stored
  with ``CONVERT(@v USING utf8mb4)``, since JSON refuses binary strings;
- fields are separated by a tab, lines end with a newline, NULL is ``\\N``; the escape
  character is the backslash: ``\\\\``, ``\\0``, ``\\t`` and ``\\n`` stand for backslash, NUL,
  tab and newline (a value ``\\N`` is written ``\\\\N``);
- integers, DECIMAL and BIGINT UNSIGNED in decimal digits (DECIMAL with its scale), FLOAT and
  DOUBLE as ``repr`` (shortest exact digits; a FLOAT's are its binary32 value's), YEAR 0 as
  ``0000`` (``0`` would be read as 2000), BIT(n) as its big-endian bytes (``(n + 7) // 8``);
- DATE and DATETIME as MySQL's literals, zero and partial-zero dates included; TIMESTAMP in
  UTC, the zero timestamp as ``0000-00-00 00:00:00``; TIME as ``-12:10:48.835870``; a
  fraction finer than the column's digits is refused;
- ENUM as its member, SET as its members joined by commas.

LOAD DATA LOCAL turns errors into warnings and skips duplicate keys: ``check_load_info`` with
the connection's ``info()`` after the statement refuses a load that skipped a row or gave
other warnings than those expected. One is: ENUM's ``''`` (what MySQL stores for a value that
was not a member) is stored by LOAD DATA as by INSERT, with a warning 1265 ("Data truncated")
each, whatever its spelling; ``MysqlLoad.encode_counted`` counts them.
"""

from __future__ import annotations

import codecs
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from cdc.avro.row_schema import row_codec
from cdc.binlog.decoders import MYSQL_LATIN1_ENCODING
from cdc.changes import Column, Row, TableSchema
from cdc.errors import CdcError, TypeMappingError
from cdc.snapshot.source_tables import quote
from cdc.values import TIME_LIMIT, ZERO_DATETIME, ZeroDate, ZeroDateTime, time_text
from replayer.bulk_text import (
    NULL,
    BlockEncode,
    Counted,
    FieldCode,
    FusedEncoder,
)
from replayer.bulk_text_fields import (
    FieldText,
    cached,
    date_post,
    decimal_code,
    enum_code,
    escape_post,
    integer_code,
    refused_code,
    set_code,
    time_code,
    timestamp_code,
    unsigned_64_code,
)

_INTEGERS = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint"})
_TEXT = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json"})
_BINARY = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                     "geometry"})
_SPECIAL = b"\\\x00\t\n"  # what LOAD DATA needs escaped, the escape character first
_UTF8 = frozenset({"utf8mb4", "utf8mb3", "utf8"})
_BMP_ONLY = frozenset({"utf8mb3", "utf8", "ucs2"})
_FOUR_BYTE_LEADS = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")  # UTF-8 beyond the BMP
_CODECS = {"ascii": "ascii", "ucs2": "utf-16-be", "utf16": "utf-16-be",
           "utf16le": "utf-16-le", "utf32": "utf-32-be"}
_EXACT_FIELDS = ("FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'")
_T = TypeVar("_T")
_LOAD_INFO = re.compile(r"Records: (\d+)\s+Deleted: (\d+)\s+Skipped: (\d+)\s+Warnings: (\d+)")


@dataclass(frozen=True)
class MysqlLoad:
    """The LOAD DATA text of one table version: ``encode`` a block, load the file of blocks
    with ``statement(path)``."""

    schema: TableSchema
    encode: BlockEncode
    encode_counted: Callable[[int, bytes], tuple[bytes, int]]
    """``encode``, and the number of warnings LOAD DATA gives for the block's lines: one per
    ENUM ``''``."""
    columns_clause: str
    """``(`a`, @v1, ...) SET `b` = CONVERT(@v1 USING utf8mb4)``, the part after the format."""

    def statement(self, path: str, into: str | None = None) -> str:
        """The LOAD DATA LOCAL INFILE statement for a file at ``path`` (on the client), into
        the table, or into ``into`` (a qualified name) of the same columns."""
        table = into or f"{quote(self.schema.database)}.{quote(self.schema.table)}"
        return (f"LOAD DATA LOCAL INFILE {quote_string(path)} INTO TABLE {table} "
                f"CHARACTER SET binary {_EXACT_FIELDS} {self.columns_clause}")


def mysql_load_encoder(schema: TableSchema) -> MysqlLoad:
    """The fused LOAD DATA encoder of one table version's blocks (see the module)."""
    return _load(schema)


@lru_cache(maxsize=32)
def _load(schema: TableSchema) -> MysqlLoad:
    row_codec(schema)  # refuses a column without an Avro form, as reading the file would
    names, sets = [], []
    for index, column in enumerate(schema.columns):
        if column.type == "json":  # a JSON column refuses a binary string
            names.append(f"@v{index}")
            sets.append(f"{quote(column.name)} = CONVERT(@v{index} USING utf8mb4)")
        else:
            names.append(quote(column.name))
    clause = f"({', '.join(names)})" + (f" SET {', '.join(sets)}" if sets else "")

    def format_row(row: Row) -> bytes:
        return load_data_row(schema, row)

    counted = [Counted(index, b"", "") for index, column in enumerate(schema.columns)
               if column.type == "enum"]
    codes = [field_code(column, key=column.name in schema.primary_key)
             for column in schema.columns]
    encoder = FusedEncoder(schema, codes, format_row, counted)
    return MysqlLoad(schema, encoder, encoder.encode_counted, clause)


def quote_string(text: str) -> str:
    """A string literal in a session without NO_BACKSLASH_ESCAPES."""
    if "\x00" in text:
        raise ValueError(f"{text!r} holds a NUL character")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def check_load_info(info: str | None, rows: int, table: str, warnings: int = 0) -> None:
    """Refuse a LOAD DATA whose outcome (the connection's ``info()``) is not ``rows`` records
    stored with ``warnings`` warnings (``MysqlLoad.encode_counted``'s): LOAD DATA LOCAL skips
    duplicate keys and stores a value it has to change (a date no mode allows, text that is
    not the column's) with a mere warning."""
    found = _LOAD_INFO.search(info or "")
    if found is None:
        raise CdcError(f"loading {table}: the server did not report the rows loaded "
                       f"({info!r})", "check that the statement was a LOAD DATA")
    records, _, skipped, warned = map(int, found.groups())
    if records != rows or skipped or warned != warnings:
        raise CdcError(
            f"loading {table}: {rows} rows sent, the server read {records}, skipped "
            f"{skipped}, with {warned} warnings ({warnings} expected)",
            "SHOW WARNINGS in the loading session names them; a skipped row is a duplicate "
            "key (is the table empty?), a warning a value the target changed")


# --- the reference: canonical values to LOAD DATA text ------------------------------------------


def escape(value: bytes) -> bytes:
    """A field's bytes escaped for LOAD DATA (backslash, NUL, tab, newline)."""
    return (value.replace(b"\\", b"\\\\").replace(b"\x00", b"\\0").replace(b"\t", b"\\t")
            .replace(b"\n", b"\\n"))


def load_data_row(schema: TableSchema, row: Row) -> bytes:
    """One line of LOAD DATA text: the row's fields in column order, newline-terminated."""
    if len(row) != len(schema.columns):
        raise TypeMappingError(
            f"{schema.qualified_name} v{schema.version}: the row has {len(row)} values for "
            f"{len(schema.columns)} columns",
            hint="the row and the table version disagree; replay with the row's own version")
    fields = []
    for column in schema.columns:
        try:
            value = row[column.name]
        except KeyError:
            raise TypeMappingError(f"{schema.qualified_name}: column {column.name!r} is missing "
                                   "from the row", hint="the row and the table version disagree"
                                   ) from None
        fields.append(load_data_field(column, value))
    return b"\t".join(fields) + b"\n"


def load_data_field(column: Column, value: object) -> bytes:
    """One canonical value as a field of LOAD DATA text (escaped); NULL is ``\\N``."""
    if value is None:
        if not column.nullable:
            raise _error(column, "NULL in a NOT NULL column", "the row is broken")
        return NULL
    return escape(load_data_value(column, value))


def load_data_value(column: Column, value: object) -> bytes:
    """A non-NULL canonical value as the bytes LOAD DATA stores it from (unescaped)."""
    family = column.type
    if family in _INTEGERS or family == "year":
        number = _expect(column, value, int)
        return b"0000" if family == "year" and number == 0 else b"%d" % number
    if family == "decimal":
        decimal = _expect(column, value, Decimal)
        if not decimal.is_finite():
            raise _error(column, f"the non-finite DECIMAL {decimal}", "the row is broken")
        return format(decimal, "f").encode("ascii")
    if family in ("float", "double"):
        real = _expect(column, value, float)
        if real - real != 0:
            raise _error(column, f"{real!r}, which MySQL cannot store", "the row is broken")
        if family == "float" and _binary32(real) != real:
            raise _error(column, f"{real!r} is not a binary32 value", "the row is not canonical")
        return repr(real).encode("ascii")
    if family == "bit":
        width = column.precision or 64
        bits = _expect(column, value, int)
        if not 0 <= bits < 1 << width:
            raise _error(column, f"{bits} does not fit BIT({width})", "the row is broken")
        return bits.to_bytes((width + 7) // 8, "big")
    if family in ("date", "datetime", "timestamp", "time"):
        return _temporal(column, value).encode("ascii")
    if family == "set":
        members = _expect(column, value, frozenset)
        if not members <= frozenset(column.members):
            raise _error(column, f"{sorted(members)} are not members of the SET",
                         "the row is broken")
        return _text(column, ",".join(m for m in column.members if m in members))
    if family == "enum":
        member = _expect(column, value, str)
        if member not in ("", *column.members):
            raise _error(column, f"{member!r} is not a member of the ENUM", "the row is broken")
        return _text(column, member)
    if family in _TEXT:
        return _text(column, _expect(column, value, str))
    if family in _BINARY:
        return _expect(column, value, bytes)
    raise _error(column, f"the unsupported type {family!r}", "see docs/types.md")


def _temporal(column: Column, value: object) -> str:
    family = column.type
    scale = column.scale or 0
    if family in ("datetime", "timestamp", "time") and not 0 <= scale <= 6:
        raise _error(column, f"{scale} fractional-second digits", "MySQL allows 0 to 6")
    if family == "date":
        if isinstance(value, ZeroDate):
            return value.text
        return _expect(column, value, date).isoformat()
    if family == "time":
        interval = _expect(column, value, timedelta)
        if abs(interval) > TIME_LIMIT:
            raise _error(column, f"{interval!r} is outside the TIME range", "the row is broken")
        _check_fraction(column, interval.microseconds)
        return time_text(interval)
    if isinstance(value, ZeroDateTime):
        if family == "timestamp" and value != ZERO_DATETIME:
            raise _error(column, f"a TIMESTAMP has no partial zero date: {value}",
                         "the row is broken")
        _check_fraction(column, value.microsecond)
        return value.text
    moment = _expect(column, value, datetime)
    if (moment.tzinfo is None) != (family == "datetime"):
        raise _error(column, f"a {'naive' if moment.tzinfo is None else 'aware'} datetime in "
                     f"a {family.upper()} column", "the row is not canonical")
    _check_fraction(column, moment.microsecond)
    if moment.tzinfo is not None:  # the session's time zone is UTC
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ")


def _text(column: Column, text: str) -> bytes:
    """Text in the column's character set."""
    charset = column.charset or "utf8mb4"
    try:
        if charset in _BMP_ONLY and any(ord(char) > 0xFFFF for char in text):
            raise ValueError("a character beyond the Basic Multilingual Plane")
        if charset in _UTF8:
            return text.encode("utf-8")
        if charset == "latin1":
            return codecs.charmap_encode(text, "strict", MYSQL_LATIN1_ENCODING)[0]
        return text.encode(_CODECS[charset])
    except (ValueError, KeyError) as exc:
        reason = (exc.reason if isinstance(exc, UnicodeEncodeError | UnicodeDecodeError)
                  else str(exc))
        raise _error(column, f"text the character set {charset} cannot hold: {reason}",
                     "the row is not the column's: report it") from None


def _check_fraction(column: Column, microseconds: int) -> None:
    """The server would round a fraction finer than the column's digits: refuse it."""
    if microseconds % 10 ** (6 - (column.scale or 0)):
        raise _error(column, f"a fraction ({microseconds} us) finer than the column's "
                     f"{column.scale or 0} digits", "the row and the table version disagree")


def _binary32(number: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", number))[0])


def _expect(column: Column, value: object, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or isinstance(value, bool) or (
            kind is date and isinstance(value, datetime)):
        raise _error(column, f"expected a {kind.__name__} value, got {type(value).__name__} "
                     f"{value!r}", "the row is not canonical")
    return value


def _error(column: Column, what: str, hint: str) -> TypeMappingError:
    return TypeMappingError(f"column {column.name!r} ({column.type}): {what}", hint=hint)


# --- the fast path ------------------------------------------------------------------------------


def field_text(column: Column) -> FieldText:
    """A non-NULL canonical value's LOAD DATA field, as ``load_data_field`` writes it."""

    def text(value: Any) -> bytes:
        return load_data_field(column, value)

    return text


def _latin1(value: bytes) -> bytes:
    return codecs.charmap_encode(value.decode("utf-8"), "strict", MYSQL_LATIN1_ENCODING)[0]


def _transcoder(codec: str) -> Callable[[bytes], bytes]:
    def transcode(value: bytes) -> bytes:
        return value.decode("utf-8").encode(codec)

    return transcode


def field_code(column: Column, *, key: bool = False) -> FieldCode:
    """How the fast path reads and writes one column (``bulk_text.FieldCode``); the fields of
    numbers kept in bytes are cached unless the column is part of the ``key``."""
    family = column.type
    binary_post = escape_post(escape, _SPECIAL)
    if family == "bigint" and column.unsigned:
        return unsigned_64_code() if key else cached(unsigned_64_code())
    if family in _INTEGERS or family == "year":
        return integer_code(column, field_text(column))
    if family == "decimal":
        code = decimal_code(column.precision or 0, column.scale or 0)
        return code if key else cached(code)
    if family in ("float", "double"):  # NaN and infinities cannot be stored
        return FieldCode(family, ("if {v} - {v}:", "    raise U", "{f} = b'%r' % {v}"))
    if family == "bit":
        width = column.precision or 64
        size = (width + 7) // 8
        return FieldCode("bytes", ("{v} = from_bytes({v}, 'big')", f"if {{v}} >> {width}:",
                                   "    raise U", f"{{f}} = {{v}}.to_bytes({size}, 'big')"),
                         post=binary_post)
    if family in ("datetime", "timestamp", "time") and not 0 <= (column.scale or 0) <= 6:
        return refused_code()
    if family == "date":
        return FieldCode("bytes", post=date_post(real=False))
    if family == "datetime":
        return FieldCode("bytes", post=date_post(real=False, time=True,
                                                 scale=column.scale or 0))
    if family == "timestamp":
        return timestamp_code(column, b"", zero=b"0000-00-00 00:00:00")
    if family == "time":
        return time_code(column, field_text(column))
    if family == "enum":
        return enum_code(column, field_text(column))
    if family == "set":
        return set_code(column, field_text(column))
    if family in _TEXT:
        return _text_code(column)
    if family in _BINARY:
        return FieldCode("bytes", post=binary_post)
    raise TypeMappingError(f"column {column.name!r} has the type {family!r}, which LOAD DATA "
                           "cannot load", hint="see docs/types.md")


def _text_code(column: Column) -> FieldCode:
    charset = column.charset or "utf8mb4"
    if charset in _UTF8:
        refused = _FOUR_BYTE_LEADS if charset in _BMP_ONLY else ()
        return FieldCode("bytes", post=escape_post(escape, _SPECIAL, utf8=True, refused=refused))
    if charset == "latin1":  # ASCII is the same in both
        lines: tuple[str, ...] = ("if not {v}.isascii():", "    {v} = {K}ENCODE({v})",
                                  "{f} = {v}")
        encode: Callable[[bytes], bytes] = _latin1
    elif charset in _CODECS and charset not in _BMP_ONLY:  # ascii, utf16, utf16le, utf32
        lines, encode = ("{f} = {K}ENCODE({v})",), _transcoder(_CODECS[charset])
    else:  # ucs2 (the Basic Multilingual Plane only) and sets not known here
        return FieldCode("bytes", ("{f} = {K}FIELD({v})",),
                         {"FIELD": _checked_transcoder(column)}, post=escape_post(escape, _SPECIAL))
    return FieldCode("bytes", lines, {"ENCODE": encode}, post=escape_post(escape, _SPECIAL))


def _checked_transcoder(column: Column) -> Callable[[bytes], bytes]:
    def transcode(value: bytes) -> bytes:
        try:
            return _text(column, value.decode("utf-8"))
        except TypeMappingError:
            raise ValueError("text the column cannot hold") from None

    return transcode
