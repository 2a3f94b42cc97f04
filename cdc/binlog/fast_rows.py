"""The compiled fast path: a rows event's images straight from binlog bytes to Avro bytes.

``_fastrows`` (C, built with the package) does for the common types what ``row_decoder``
followed by ``RowCodec.encode`` does, without a Python value per column. It takes only the
values it is sure of; for anything else in an event (a zero date, text invalid in its character
set, a value out of range, NULL in a NOT NULL column) it declines the whole event, and the
reference path decodes it, with the reference's values and errors. A table with a column it
does not know (MySQL's binary JSON, UTF-16 text, pre-5.6 temporal formats, DECIMAL over 38
digits) always goes the reference way. The unit tests hold the two paths to the same bytes.

Without a C compiler the package still installs and works through the reference path alone;
``CDC_PURE_PYTHON=1`` chooses that path on purpose (the tests run both).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from cdc.avro.binary import write_string
from cdc.binlog import decoders
from cdc.binlog.events import EncodedImages
from cdc.binlog.row_decoder import (
    BIT,
    BLOB,
    DATE,
    DATETIME2,
    DECIMAL_NEW,
    DOUBLE,
    ENUM,
    FLOAT,
    GEOMETRY,
    INT24,
    LONG,
    LONGLONG,
    SET,
    SHORT,
    STRING,
    TIME2,
    TIMESTAMP2,
    TINY,
    VAR_STRING,
    VARCHAR,
    YEAR,
    ColumnLayout,
)

_fastrows: Any
try:
    _fastrows = importlib.import_module("cdc.binlog._fastrows")
except ImportError:  # built without a compiler: the reference path does everything
    _fastrows = None


KINDS = {"insert": 0, "update": 1, "delete": 2}

# The C module's column kinds (enum kind in _fastrows.c).
(_INT, _UINT64, _FLOAT, _DOUBLE, _DECIMAL, _YEAR, _BIT, _DATE, _DATETIME2, _TIMESTAMP2, _TIME2,
 _STRING, _ENUM, _SET) = range(1, 15)
_TEXT_MODES = {None: 0, "utf8mb4": 1, "utf8mb3": 1, "utf8": 1, "ascii": 2, "latin1": 3}
_INTEGERS = {TINY: (1, "tinyint"), SHORT: (2, "smallint"), INT24: (3, "mediumint"),
             LONG: (4, "int"), LONGLONG: (8, "bigint")}
# The Avro writers check values against the column's family; each binlog form holds exactly
# its family's range, so the fast path takes a column only when the two agree.
_FAMILIES = {FLOAT: "float", DOUBLE: "double", YEAR: "year", DATE: "date",
             DECIMAL_NEW: "decimal", BIT: "bit", DATETIME2: "datetime", TIMESTAMP2: "timestamp",
             TIME2: "time", ENUM: "enum", SET: "set"}
_BINARY_FAMILIES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob",
                              "longblob", "geometry"})
_MAX_DECIMAL_DIGITS = 65  # MySQL's largest; the C module's integers hold 256 bits

if _fastrows is not None:
    _fastrows.set_latin1(tuple(ord(c) for c in decoders.MYSQL_LATIN1_DECODING))


def enabled() -> bool:
    """Whether the compiled path is built and not turned off."""
    return _fastrows is not None and os.environ.get("CDC_PURE_PYTHON", "") not in ("1", "true")


def compile_fast_plan(database: str, table: str, layouts: tuple[ColumnLayout, ...],
                      primary_key: tuple[str, ...]) -> Any | None:
    """The compiled plan of a table map, or None when the reference path must do it all."""
    if not enabled():
        return None
    specs = []
    for layout in layouts:
        spec = _spec(layout)
        if spec is None:
            return None
        specs.append(spec)
    names = [layout.column.name for layout in layouts]
    prefix = bytearray()
    write_string(prefix, database)
    write_string(prefix, table)
    keys = tuple(names.index(name) for name in primary_key)
    return _fastrows.plan(tuple(specs), keys, bytes(prefix))


def encode_rows(plan: Any, kind: str, body: bytes | memoryview) -> list[EncodedImages] | None:
    """The row changes of one rows event's images (``body``, after its columns-present
    bitmaps, which the caller has checked are full); None: decode it the reference way."""
    encoded: list[EncodedImages] | None = _fastrows.encode_rows(plan, KINDS[kind], body)
    return encoded


def _spec(layout: ColumnLayout) -> tuple[int, bool, int, int, int, tuple[bytes, ...] | None] | None:
    """(kind, nullable, p1, p2, p3, members) for the C module; None: not handled there."""
    code, column = layout.type_code, layout.column
    nullable = column.nullable
    if code in _INTEGERS:
        size, family = _INTEGERS[code]
        if column.type != family:
            return None
        if size == 8 and column.unsigned:
            return _UINT64, nullable, 8, 1, 0, None
        return _INT, nullable, size, int(column.unsigned), 0, None
    if code in _FAMILIES and column.type != _FAMILIES[code]:
        return None
    simple = {FLOAT: _FLOAT, DOUBLE: _DOUBLE, YEAR: _YEAR, DATE: _DATE}.get(code)
    if simple is not None:
        return simple, nullable, 0, 0, 0, None
    if code == DECIMAL_NEW:
        precision, scale = column.precision, column.scale or 0
        if precision is None or not 0 < precision <= _MAX_DECIMAL_DIGITS or scale > precision:
            return None
        return _DECIMAL, nullable, precision, scale, 0, None
    if code == BIT:
        return _BIT, nullable, column.precision or 1, 0, 0, None
    temporal = {DATETIME2: _DATETIME2, TIMESTAMP2: _TIMESTAMP2, TIME2: _TIME2}.get(code)
    if temporal is not None:
        fsp = column.scale or 0
        return (temporal, nullable, fsp, 0, 0, None) if 0 <= fsp <= 6 else None
    return _string_spec(layout)


def _string_spec(layout: ColumnLayout
                 ) -> tuple[int, bool, int, int, int, tuple[bytes, ...] | None] | None:
    code, column = layout.type_code, layout.column
    if code in (ENUM, SET):
        members = ("", *column.members) if code == ENUM else column.members
        encoded = []
        for member in members:
            out = bytearray()
            write_string(out, member)
            encoded.append(bytes(out))
        if code == ENUM and layout.length in (1, 2):
            return _ENUM, column.nullable, layout.length, 0, 0, tuple(encoded)
        if code == SET and 1 <= layout.length <= 8 and len(members) <= 64:
            return _SET, column.nullable, layout.length, 0, 0, tuple(encoded)
        return None
    mode = _TEXT_MODES.get(column.charset, -1)
    if mode < 0 or (column.charset is None) != (column.type in _BINARY_FAMILIES):
        return None
    if code in (STRING, VARCHAR, VAR_STRING):
        pad = layout.length if code == STRING and column.charset is None else 0
        if code == STRING and column.charset is None and pad <= 0:
            return None  # BINARY(0): the reference says what that means
        return _STRING, column.nullable, 2 if layout.length > 255 else 1, mode, pad, None
    if code in (BLOB, GEOMETRY) and 1 <= layout.length <= 4:
        return _STRING, column.nullable, layout.length, mode, 0, None
    return None
