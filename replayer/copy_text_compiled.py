"""The compiled COPY-text encoder: a snapshot block's records to PostgreSQL COPY text in C.

``_copytext`` (C, built with the package) does what the fused encoder of
``bulk_text_postgres`` does, with the same bytes, about ten times faster: the load into
PostgreSQL is bound by this step. Each table version is compiled once into a program, an op
and its parameters per column (``column_op``); ENUM and SET columns carry their members'
fields, made here by the reference formatter (``copy_text_field``) so that the C code never
formats text of its own.

The C code writes only the values the snapshot writer makes; at anything else in a block (a
value out of its column's range, a zero date, NUL in text, text that is not UTF-8, a JSON
``\\u0000``, a varint the writer would not write, an array in more than one block, NULL in a
NOT NULL column, bytes after the records) it gives up on that block, which ``CopyEncoder``
then hands to the Python fused encoder, and that in turn to the canonical path: the bytes or
the error are always the reference's. A table with a column it has no op for (a DATETIME with
more than six fractional digits, a SET of more than 64 members) is encoded the Python way
throughout.

Without a C compiler the package still installs and works through the Python path alone;
``CDC_PURE_PYTHON=1`` chooses that path on purpose, as for capture's fast rows.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, Final

from cdc.changes import Column, TableSchema
from cdc.errors import TypeMappingError
from replayer.postgres_types import copy_text_field

_copytext: Any
try:
    _copytext = importlib.import_module("replayer._copytext")
except ImportError:  # built without a compiler: the Python path does everything
    _copytext = None

# The C module's ops (enum op in _copytext.c).
(INTEGER, YEAR, UNSIGNED_64, DECIMAL, FLOAT, DOUBLE, BIT, DATE, DATETIME, TIMESTAMP, TIME, TEXT,
 JSON, ENUM, SET, BYTEA) = range(1, 17)

Op = tuple[int, bool, int, int, tuple[tuple[bytes, bytes], ...] | None]
"""(op, nullable, p1, p2, table) of one column, as ``_copytext.program`` takes it."""

_INTEGER_BITS: Final = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "bigint": 64}
_SIMPLE: Final = {"float": FLOAT, "double": DOUBLE, "date": DATE, "year": YEAR, "json": JSON,
                  **dict.fromkeys(("char", "varchar", "tinytext", "text", "mediumtext",
                                   "longtext"), TEXT),
                  **dict.fromkeys(("binary", "varbinary", "tinyblob", "blob", "mediumblob",
                                   "longblob", "geometry"), BYTEA)}
_FRACTIONAL: Final = {"datetime": DATETIME, "timestamp": TIMESTAMP, "time": TIME}
_MAX_DECIMAL_DIGITS: Final = 77  # what the C code's 256-bit numbers hold
_MAX_SET_MEMBERS: Final = 64  # one bit each in the C code; MySQL's own limit


def enabled() -> bool:
    """Whether the compiled path is built and not turned off."""
    return _copytext is not None and os.environ.get("CDC_PURE_PYTHON", "") not in ("1", "true")


def column_op(column: Column) -> Op | None:
    """How the C code reads and writes one column; None: it has no op for it."""
    family, nullable = column.type, column.nullable
    if family == "bigint" and column.unsigned:
        return UNSIGNED_64, nullable, 0, 0, None
    if family in _INTEGER_BITS:
        bits = _INTEGER_BITS[family]
        low, high = ((0, (1 << bits) - 1) if column.unsigned
                     else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1))
        return INTEGER, nullable, low, high, None
    if family in _SIMPLE:
        return _SIMPLE[family], nullable, 0, 0, None
    if family == "decimal":
        precision = column.precision
        if precision is None or not 1 <= precision <= _MAX_DECIMAL_DIGITS:
            return None
        return DECIMAL, nullable, precision, column.scale or 0, None
    if family == "bit":
        width = column.precision or 64  # as postgres_types reads BIT
        return (BIT, nullable, width, 0, None) if 1 <= width <= 64 else None
    if family in _FRACTIONAL:
        scale = column.scale or 0
        return (_FRACTIONAL[family], nullable, scale, 0, None) if 0 <= scale <= 6 else None
    if family == "enum":
        return ENUM, nullable, 0, 0, _enum_fields(column)
    if family == "set":
        elements = _set_elements(column)
        return None if elements is None else (SET, nullable, 0, 0, elements)
    return None


def _enum_fields(column: Column) -> tuple[tuple[bytes, bytes], ...]:
    """Each member's UTF-8 bytes (and ``''``'s) and its field; a member the reference refuses
    is left out, so that the C code gives its values up."""
    fields: dict[bytes, bytes] = {}
    for member in ("", *column.members):
        try:
            fields[member.encode("utf-8")] = copy_text_field(column, member).encode("utf-8")
        except (TypeMappingError, ValueError):
            continue
    return tuple(fields.items())


def _set_elements(column: Column) -> tuple[tuple[bytes, bytes], ...] | None:
    """Each member's UTF-8 bytes and its element of the array's field, in the order the
    reference sorts members (code points, which is UTF-8's byte order); None for more members
    than the C code holds."""
    members = sorted(set(column.members))
    if len(members) > _MAX_SET_MEMBERS:
        return None
    elements = []
    for member in members:
        try:  # the field of {member} without its braces: escaping is per character
            field = copy_text_field(column, frozenset((member,))).encode("utf-8")[1:-1]
            elements.append((member.encode("utf-8"), field))
        except (TypeMappingError, ValueError):
            continue
    return tuple(elements)


def compile_program(schema: TableSchema) -> Any | None:
    """The compiled program of a table version, or None when the Python path does it all."""
    if not enabled() or not schema.columns:
        return None
    ops = []
    for column in schema.columns:
        op = column_op(column)
        if op is None:
            return None
        ops.append(op)
    return _copytext.program(tuple(ops))


class CopyEncoder:
    """A table version's block encoder: the compiled path, and ``fallback`` (the Python fused
    encoder) for the blocks it gives up on and for tables it has no program for. Counts the
    blocks each way went, for the tests and the benchmarks."""

    def __init__(self, schema: TableSchema, fallback: Callable[[int, bytes], bytes]) -> None:
        self.schema = schema
        self.fallback = fallback
        self.program = compile_program(schema)
        self.compiled_blocks = 0
        self.given_up_blocks = 0

    def __call__(self, count: int, data: bytes) -> bytes:
        program = self.program
        if program is not None:
            result = _copytext.encode(program, count, data)
            if type(result) is bytes:
                self.compiled_blocks += 1
                return result
            self.given_up_blocks += 1
        return self.fallback(count, data)

    def compiled(self, count: int, data: bytes) -> bytes | str:
        """The compiled path alone: the block's COPY text, or why it gave the block up."""
        if self.program is None:
            raise ValueError(f"{self.schema.qualified_name} v{self.schema.version} has no "
                             "compiled program")
        result: bytes | str = _copytext.encode(self.program, count, data)
        return result
