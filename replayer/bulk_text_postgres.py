"""PostgreSQL COPY text (text format: tab, newline, ``\\N``) of snapshot blocks, fused.

``postgres_copy_encoder(schema)`` gives, for a block's record count and records, the bytes
``"".join(copy_row(schema, row) for row in rows).encode("utf-8")`` of the block's canonical
rows, exactly, and raises what those would: ``copy_row``'s ``TypeMappingError`` for a value
PostgreSQL cannot hold (zero dates, NUL in text, ``\\u0000`` in JSON), ``BlockDecodeError`` for
records that do not decode (see ``replayer.bulk_text``; ``encode_blocks`` names the file).
The lines are for ``COPY t (columns) FROM STDIN`` in a session whose client_encoding is UTF8.

The encoder tries the compiled path first (``copy_text_compiled``, the same bytes in C), then
this module's fused encoder (``postgres_fused_encoder``), then the canonical path.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cdc.avro.row_schema import row_codec
from cdc.changes import Column, Row, TableSchema
from cdc.errors import TypeMappingError
from replayer.bulk_text import (
    BlockEncode,
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
from replayer.copy_text_compiled import CopyEncoder
from replayer.postgres_types import copy_row, copy_text_field

_INTEGERS = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint", "year"})
_TEXT = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext"})
_BINARY = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                     "geometry"})
_SPECIAL = b"\\\t\n\r"  # what copy_escape escapes, the escape character first
_BYTEA_PREFIX = b"\\\\x"  # bytea's \x, its backslash escaped for COPY


def postgres_copy_encoder(schema: TableSchema) -> BlockEncode:
    """The encoder of one table version's blocks to COPY text (see the module)."""
    return _copy_encoder(schema)


@lru_cache(maxsize=32)
def _copy_encoder(schema: TableSchema) -> CopyEncoder:
    return CopyEncoder(schema, postgres_fused_encoder(schema))


@lru_cache(maxsize=32)
def postgres_fused_encoder(schema: TableSchema) -> FusedEncoder:
    """The fused encoder in Python alone (the compiled path's fallback)."""
    row_codec(schema)  # refuses a column without an Avro form, as reading the file would

    def format_row(row: Row) -> bytes:
        return copy_row(schema, row).encode("utf-8")

    codes = [field_code(column, key=column.name in schema.primary_key)
             for column in schema.columns]
    return FusedEncoder(schema, codes, format_row)


def copy_escape_bytes(value: bytes) -> bytes:
    """``postgres_types.copy_escape`` of UTF-8 text, in bytes."""
    return (value.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n")
            .replace(b"\r", b"\\r"))


def field_text(column: Column) -> FieldText:
    """A non-NULL canonical value's COPY field, as ``copy_text_field`` writes it."""

    def text(value: Any) -> bytes:
        return copy_text_field(column, value).encode("utf-8")

    return text


def field_code(column: Column, *, key: bool = False) -> FieldCode:
    """How the fast path reads and writes one column (``bulk_text.FieldCode``); the fields of
    numbers kept in bytes are cached unless the column is part of the ``key``."""
    family = column.type
    if family == "bigint" and column.unsigned:
        return unsigned_64_code() if key else cached(unsigned_64_code())
    if family in _INTEGERS:
        return integer_code(column, field_text(column))
    if family == "decimal":
        code = decimal_code(column.precision or 0, column.scale or 0)
        return code if key else cached(code)
    if family == "float":  # NaN is not a binary32 value to copy_text_field
        return FieldCode("float", ("if {v} != {v}:", "    raise U", "{f} = b'%r' % {v}"))
    if family == "double":
        return FieldCode("double", ("{f} = b'%r' % {v}",))
    if family == "bit":
        width = column.precision or 64
        return FieldCode("bytes", ("{v} = from_bytes({v}, 'big')", f"if {{v}} >> {width}:",
                                   "    raise U", f"{{f}} = format({{v}}, '0{width}b').encode()"))
    if family == "date":
        return FieldCode("bytes", post=date_post(real=True))
    if family in ("datetime", "timestamp", "time"):
        scale = column.scale or 0
        if not 0 <= scale <= 6:
            return refused_code()
        if family == "datetime":
            return FieldCode("bytes", post=date_post(real=True, time=True, scale=scale))
        if family == "timestamp":  # the zero timestamp is refused
            return timestamp_code(column, b"+00:00", zero=None)
        return time_code(column, field_text(column))
    if family in _TEXT:
        return FieldCode("bytes", post=escape_post(copy_escape_bytes, _SPECIAL, utf8=True,
                                                   refused=(b"\x00",)))
    if family == "json":  # a \u0000 escape (or an escaped backslash before u0000): canonical
        return FieldCode("bytes", post=escape_post(copy_escape_bytes, _SPECIAL, utf8=True,
                                                   refused=(b"\x00", b"\\u0000")))
    if family == "enum":
        return enum_code(column, field_text(column))
    if family == "set":
        return set_code(column, field_text(column))
    if family in _BINARY:
        return FieldCode("bytes", ("{f} = {K}PREFIX + hexlify({v})",), {"PREFIX": _BYTEA_PREFIX})
    raise TypeMappingError(f"column {column.name!r} has the type {family!r}, which has no "
                           "PostgreSQL form", hint="see docs/postgres-types.md")
