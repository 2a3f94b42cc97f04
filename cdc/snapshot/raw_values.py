"""Avro bytes of snapshot rows straight from the driver's values, without canonical values. Pure.

A snapshot worker reads each row as the tuple mysqlclient returns: numbers as ``int`` and
``float``, character columns as ``str``, everything else as the server's text or bytes (see
``cdc.snapshot.text_values``). Making each value canonical and then encoding it was most of a
snapshot's time, so rows are encoded here straight from those values, a batch of rows at a
time, column by column.

The contract, which the unit tests hold for every column family: ``column_encoder(column)``
turns a batch of one column's raw values into exactly the bytes ``RowCodec`` writes for their
canonical values ``converter_for(column)(raw)`` (the ``["null", T]`` union's branch, then the
value), and refuses (``ValueError``) exactly what that refuses. A batch whose non-NULL values
all have the usual shape takes its family's fast path, checked once for the whole batch
(types, ranges, one regular expression over the joined text); any other batch is encoded value
by value, each value alone by the fast path when it has that shape and otherwise by
``canonical_encoder``, the canonical value and ``RowCodec``'s writer.

The fast paths: integers, floats and text are canonical already; BIGINT UNSIGNED is its
decimal(20, 0) bytes; DECIMAL text with exactly ``scale`` fraction digits is its unscaled
integer; DATE and DATETIME text is MySQL's literal, which is also their Avro string once a
DATETIME's fraction has six digits or, when zero, none (zero and partial-zero dates included);
TIMESTAMP is selected as microseconds since the epoch (``text_values.select_expression``),
which is its Avro long; binary values are their bytes.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Sequence
from typing import Any, cast

from cdc.avro.column_types import avro_column_type
from cdc.changes import Column, TableSchema
from cdc.snapshot.text_values import MAX_TIMESTAMP_US, converter_for, identity

ColumnEncode = Callable[[Sequence[Any]], list[bytes]]
"""One column's values in a batch of rows (None for NULL) to their fields' encodings."""
FieldEncode = Callable[[Any], bytes]
"""One non-NULL value to its field's encoding: the union's value branch, then the value."""
EncodeBatch = Callable[[Sequence[Sequence[object]]], list[bytes]]
"""A batch of rows, the driver's tuples, to each row's Avro encoding."""
_Fast = Callable[[Sequence[Any]], list[bytes] | None]
"""A family's fast path: the fields of a batch's values, or None when some non-NULL value
does not have the shape it takes."""

_NULL_FIELD = b"\x00"  # the ["null", T] union's branch 0
_BRANCH = b"\x02"  # branch 1, as a zig-zag varint
_ERRORS = (ValueError, TypeError, AttributeError, OverflowError, struct.error)
_NONE = type(None)
_INT = frozenset((int,))
_FLOAT_OR_NONE = frozenset((float, _NONE))
_STR_OR_NONE = frozenset((str, _NONE))
_BYTES, _BYTES_OR_NONE = frozenset((bytes,)), frozenset((bytes, _NONE))
_UNSIGNED_64_MAX = (1 << 64) - 1
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
_DATE = rb"\d{4}-(?:0\d|1[0-2])-(?:[0-2]\d|3[01])"
"""Any date a DATE or DATETIME can hold, real or zero: year 0-9999, month 0-12, day 0-31."""
_TIME_OF_DAY = rb"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"


# --- varints ------------------------------------------------------------------------------------

# A varint's 7-bit groups two at a time: 14 bits as the two bytes that both say "more follows",
# and the last (up to 14) bits as the one or two bytes that end a varint.
_GROUPS = tuple(bytes(((n & 0x7F) | 0x80, (n >> 7) | 0x80)) for n in range(1 << 14))
_LAST = tuple(bytes((n,)) if n < 0x80 else bytes(((n & 0x7F) | 0x80, n >> 7))
              for n in range(1 << 14))
_FIRST_GROUPS = tuple(_BRANCH + group for group in _GROUPS)
_FIELD_PREFIXES = tuple(_BRANCH + _LAST[size << 1] for size in range(1 << 12))
"""The value branch and a length, for lengths below 4096."""
_TIMESTAMP_LOW, _TIMESTAMP_HIGH = 1 << 41, 1 << 55
"""Microseconds (1970-01-26 to 3111) whose zig-zag number (43 to 56 bits) is three whole groups
of 14 bits and a last, non-zero one."""


def long_bytes(value: int) -> bytes:
    """An Avro long (zig-zag, then base-128 varint, low group first), like ``write_long``."""
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError(f"{value} does not fit an Avro long")
    number = (value << 1) ^ (value >> 63)
    if number < 1 << 14:
        return _LAST[number]
    groups = [_GROUPS[number & 0x3FFF]]
    number >>= 14
    while number >= 1 << 14:
        groups.append(_GROUPS[number & 0x3FFF])
        number >>= 14
    groups.append(_LAST[number])
    return b"".join(groups)


def _long_field(value: int) -> bytes:
    return _BRANCH + long_bytes(value)


def _prefix(size: int) -> bytes:
    """The value branch, then ``size``: the length of the bytes or string that follow."""
    return _FIELD_PREFIXES[size] if size < 1 << 12 else _BRANCH + long_bytes(size)


def _types(values: Sequence[Any]) -> set[type]:
    return set(map(type, values))


def _present(values: Sequence[Any]) -> list[Any]:
    return [value for value in values if value is not None]


def _all_lines(pattern: bytes) -> Callable[[bytes], re.Match[bytes] | None]:
    """Whether text is lines that each match ``pattern`` (which matches no newline)."""
    return re.compile(b"(?:" + pattern + b"\n)*" + pattern).fullmatch


# --- rows ---------------------------------------------------------------------------------------


def batch_encoder(schema: TableSchema) -> EncodeBatch:
    """Encodes batches of rows given as the driver's tuples, each row as ``RowCodec.encode``
    does its canonical row; a value that does not fit raises ``ValueError`` naming its
    column."""
    names = tuple(column.name for column in schema.columns)
    encoders = tuple(column_encoder(column) for column in schema.columns)

    def encode_batch(rows: Sequence[Sequence[object]]) -> list[bytes]:
        if not rows:
            return []
        try:
            columns = tuple(zip(*rows, strict=True))
        except ValueError:
            raise ValueError("the rows have different numbers of values") from None
        if len(columns) != len(names):
            raise ValueError(f"the row has {len(columns)} values, the schema {len(names)} "
                             "columns")
        fields = []
        for name, encode, values in zip(names, encoders, columns, strict=True):
            try:
                fields.append(encode(values))
            except _ERRORS as exc:
                raise ValueError(f"column {name!r}: {exc}") from None
        return list(map(b"".join, zip(*fields, strict=True)))

    return encode_batch


# --- columns ------------------------------------------------------------------------------------


def column_encoder(column: Column) -> ColumnEncode:
    """The encoder of one column's values in a batch (see the module's contract)."""
    slow = canonical_encoder(column)
    fast = _fast_path(column)
    if fast is None:
        def canonical(values: Sequence[Any]) -> list[bytes]:
            return [_NULL_FIELD if value is None else slow(value) for value in values]

        return canonical
    return _fast_or_alone(fast, slow)


def _fast_or_alone(fast: _Fast, slow: FieldEncode) -> ColumnEncode:
    def one(value: Any) -> bytes:
        fields = fast((value,))
        return slow(value) if fields is None else fields[0]

    def encode(values: Sequence[Any]) -> list[bytes]:
        fields = fast(values)
        if fields is None:  # not all in the usual shape: each value alone
            fields = [_NULL_FIELD if value is None else one(value) for value in values]
        return fields

    return encode


def canonical_encoder(column: Column) -> FieldEncode:
    """The path every fast one must agree with: the canonical value, then ``RowCodec``'s
    writer of the column."""
    write = avro_column_type(column).write
    convert = converter_for(column)

    def encode(raw: Any) -> bytes:
        out = bytearray(_BRANCH)
        write(out, convert(raw))
        return bytes(out)

    return encode


def _fast_path(column: Column) -> _Fast | None:
    family = column.type
    if family == "decimal" and column.precision is not None:
        return _decimal(column.precision, column.scale or 0)
    if family == "date":
        return _date()
    if family == "datetime":
        return _datetime(column.scale or 0)
    if family == "timestamp":
        return _timestamp
    if family == "bigint" and column.unsigned:
        return _unsigned_64
    if family == "enum":
        return _enum(canonical_encoder(column), column.members)
    avro_type = avro_column_type(column).avro_type
    if avro_type in ("int", "long") and family != "year":
        return _integer(family, unsigned=column.unsigned)
    if avro_type in ("float", "double"):
        return _float("<f" if avro_type == "float" else "<d")
    if avro_type == "string" and converter_for(column) is identity:
        return _text
    if avro_type == "bytes":
        return _binary
    return None


# --- numbers ------------------------------------------------------------------------------------


def _integer(family: str, *, unsigned: bool) -> _Fast:
    bits = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "bigint": 64}[family]
    low, high = (0, (1 << bits) - 1) if unsigned else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)

    def fast(values: Sequence[Any]) -> list[bytes] | None:
        present = _present(values)
        if not present:
            return [_NULL_FIELD] * len(values)
        if _types(present) != _INT or min(present) < low or max(present) > high:
            return None
        return [_NULL_FIELD if value is None else _long_field(value) for value in values]

    return fast


def _unsigned_64(values: Sequence[Any]) -> list[bytes] | None:
    """decimal(20, 0): ``decimal_bytes``' two's complement, which keeps a zero sign bit."""
    present = _present(values)
    if not present:
        return [_NULL_FIELD] * len(values)
    if _types(present) != _INT or min(present) < 0 or max(present) > _UNSIGNED_64_MAX:
        return None
    # The prefix is indexed first, which computes `size` for the bytes after it.
    return [_NULL_FIELD if value is None else
            _FIELD_PREFIXES[size := (value.bit_length() + 8) >> 3] + value.to_bytes(size, "big")
            for value in values]


def _float(layout: str) -> _Fast:
    pack = struct.Struct(layout).pack

    def fast(values: Sequence[Any]) -> list[bytes] | None:
        if not _types(values) <= _FLOAT_OR_NONE:
            return None
        return [_NULL_FIELD if value is None else _BRANCH + pack(value) for value in values]

    return fast


def _decimal(precision: int, scale: int) -> _Fast:
    """``-12.3400`` in a DECIMAL(p, 4): its digits without the point are the unscaled value.

    At most ``p - s`` integral digits (one 0 when ``p == s``), so that it fits."""
    if scale:
        integral = precision - scale
        digits = (rb"\d{0,%d}" % integral) if integral else b"0?"
        lines = _all_lines(b"-?" + digits + rb"\.\d{%d}" % scale)
    else:
        lines = _all_lines(rb"-?\d{1,%d}" % precision)

    def fast(values: Sequence[Any]) -> list[bytes] | None:
        present = _present(values)
        if not present:
            return [_NULL_FIELD] * len(values)
        if _types(present) != _BYTES:
            return None
        text = b"\n".join(present)
        if text.count(b"\n") != len(present) - 1 or not lines(text):
            return None
        # The prefix is indexed first, which computes `unscaled` and `size` for the bytes.
        return [_NULL_FIELD if value is None else
                _FIELD_PREFIXES[size := (abs(unscaled := int(value.replace(b".", b"")))
                                         .bit_length() + 8) >> 3]
                + unscaled.to_bytes(size, "big", signed=True)
                for value in values]

    return fast


# --- dates and times ----------------------------------------------------------------------------


def _date() -> _Fast:
    lines = _all_lines(_DATE)
    prefix = _FIELD_PREFIXES[10]

    def fast(values: Sequence[Any]) -> list[bytes] | None:
        present = _present(values)
        if not present:
            return [_NULL_FIELD] * len(values)
        if _types(present) != _BYTES:
            return None
        text = b"\n".join(present)  # every line 10 bytes: no value holds a newline
        if len(text) != 11 * len(present) - 1 or not lines(text):
            return None
        return [_NULL_FIELD if value is None else prefix + value for value in values]

    return fast


def _datetime(scale: int) -> _Fast:
    """The server prints ``scale`` fraction digits; the Avro string has six, or none if zero."""
    lines = _all_lines(_DATE + b" " + _TIME_OF_DAY + (rb"\.\d{%d}" % scale if scale else b""))
    size = 19 + (scale + 1 if scale else 0)
    zero_fraction = b"." + b"0" * scale
    padding = b"0" * (6 - scale)
    whole, fractional = _FIELD_PREFIXES[19], _FIELD_PREFIXES[26]

    def fast(values: Sequence[Any]) -> list[bytes] | None:
        present = _present(values)
        if not present:
            return [_NULL_FIELD] * len(values)
        if _types(present) != _BYTES:
            return None
        text = b"\n".join(present)  # every line `size` bytes: no value holds a newline
        if len(text) != (size + 1) * len(present) - 1 or not lines(text):
            return None
        if not scale:
            return [_NULL_FIELD if value is None else whole + value for value in values]
        if scale == 6:
            return [_NULL_FIELD if value is None else
                    (whole + value[:19] if value.endswith(zero_fraction) else fractional + value)
                    for value in values]
        return [_NULL_FIELD if value is None else
                (whole + value[:19] if value.endswith(zero_fraction) else
                 fractional + value + padding)
                for value in values]

    return fast


def _timestamp(values: Sequence[Any]) -> list[bytes] | None:
    """Selected as microseconds since the epoch: the Avro long itself (0: the zero date)."""
    present = _present(values)
    if not present:
        return [_NULL_FIELD] * len(values)
    if _types(present) != _INT:
        return None
    low, high = min(present), max(present)
    if low < 0 or high > MAX_TIMESTAMP_US:
        return None
    if low < _TIMESTAMP_LOW or high >= _TIMESTAMP_HIGH:
        return [_NULL_FIELD if value is None else _long_field(value) for value in values]
    # Non-negative: the zig-zag number is value << 1.
    return [_NULL_FIELD if value is None else
            _FIRST_GROUPS[(number := value << 1) & 0x3FFF] + _GROUPS[(number >> 14) & 0x3FFF]
            + _GROUPS[(number >> 28) & 0x3FFF] + _LAST[number >> 42]
            for value in values]


# --- text and bytes -----------------------------------------------------------------------------


def _text(values: Sequence[Any]) -> list[bytes] | None:
    if not _types(values) <= _STR_OR_NONE:
        return None
    # The condition is evaluated first, which computes `data` and `size` for the rest.
    return [_NULL_FIELD if value is None else
            (_FIELD_PREFIXES[size] if (size := len(data := value.encode("utf-8"))) < 1 << 12
             else _prefix(size)) + data
            for value in values]


def _enum(slow: FieldEncode, members: tuple[str, ...]) -> _Fast:
    # '' as well, as the ENUM writer allows: MySQL's value for a non-member (non-strict mode).
    known = {member: slow(member) for member in ("", *members)}

    def fast(values: Sequence[Any]) -> list[bytes] | None:
        if not _types(values) <= _STR_OR_NONE:
            return None
        fields = [_NULL_FIELD if value is None else known.get(value) for value in values]
        return None if None in fields else cast("list[bytes]", fields)

    return fast


def _binary(values: Sequence[Any]) -> list[bytes] | None:
    if not _types(values) <= _BYTES_OR_NONE:
        return None
    return [_NULL_FIELD if value is None else
            (_FIELD_PREFIXES[size] if (size := len(value)) < 1 << 12 else _prefix(size)) + value
            for value in values]
