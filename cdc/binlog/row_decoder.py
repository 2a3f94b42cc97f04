"""Decodes the row images of one rows event from its raw bytes into canonical rows.

The binlog library's own row decoding was most of capture's time: a generic, per-value
dispatch through its packet reader. Here each table map is compiled once into a ``RowPlan``,
one small reader function per column, and a rows event's body is decoded straight from its
bytes. The plan and the decoding are pure (bytes in, canonical values out), so they can run
in another process: a reader can hand ``(plan, body)`` pairs to a pool of workers and keep
the order itself.

The formats follow the server's own packing code (``log_event.cc``, ``my_decimal.cc``);
``cdc/binlog/decoders.py`` holds the temporal ones.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from cdc.binlog import decoders
from cdc.changes import Column, Row
from cdc.errors import SourceCheckError, TypeMappingError

Reader = Callable[[bytes, int], tuple[object, int]]
"""Reads one non-NULL value at an offset; returns it and the offset after it."""
Image = tuple[Row | None, Row | None]
"""(before, after) of one row change."""

# Binlog type codes (MySQL's enum_field_types).
DECIMAL_NEW = 246
TINY, SHORT, LONG, FLOAT, DOUBLE, TIMESTAMP, LONGLONG, INT24 = 1, 2, 3, 4, 5, 7, 8, 9
DATE, TIME, DATETIME, YEAR, VARCHAR, BIT = 10, 11, 12, 13, 15, 16
TIMESTAMP2, DATETIME2, TIME2, JSON = 17, 18, 19, 245
ENUM, SET, BLOB, VAR_STRING, STRING, GEOMETRY = 247, 248, 252, 253, 254, 255

_DIGITS_PER_WORD = 9
_BYTES_FOR_DIGITS = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


class UnsupportedLayout(Exception):  # noqa: N818 - a signal to fall back, not an error
    """A column this decoder does not read (MySQL's binary JSON): use the library's path."""


@dataclass(frozen=True, slots=True)
class ColumnLayout:
    """How one column's values are laid out in row images.

    ``length`` is what the table map's metadata gives: the maximum byte length of a
    CHAR/VARCHAR/BINARY/VARBINARY, the size of a BLOB/TEXT/GEOMETRY length prefix, or the
    byte size of an ENUM/SET value; 0 for other types. Text is decoded in ``column.charset``
    (None: binary data). Layouts are plain values, so they can be sent to a worker process,
    which compiles its own plan from them.
    """

    type_code: int
    length: int
    column: Column


@dataclass(frozen=True, slots=True)
class RowPlan:
    """The compiled readers of one table map."""

    table: str
    names: tuple[str, ...]
    readers: tuple[Reader, ...]
    nullable: tuple[bool, ...]
    columns: tuple[Column, ...]
    named_readers: tuple[tuple[str, Reader], ...]


def compile_plan(table: str, layouts: tuple[ColumnLayout, ...]) -> RowPlan:
    """The plan of a table; raises ``UnsupportedLayout`` for a column it cannot read."""
    names = tuple(layout.column.name for layout in layouts)
    readers = tuple(_reader(layout) for layout in layouts)
    return RowPlan(
        table=table,
        names=names,
        readers=readers,
        nullable=tuple(layout.column.nullable for layout in layouts),
        columns=tuple(layout.column for layout in layouts),
        named_readers=tuple(zip(names, readers, strict=True)),
    )


def decode_rows(plan: RowPlan, kind: str, body: bytes, present: bytes,
                present_after: bytes | None = None) -> list[Image]:
    """The row changes of one rows event.

    ``kind`` is insert, update or delete; ``body`` is the event's bytes after its
    columns-present bitmaps (which are ``present`` and, for updates, ``present_after``).
    """
    require_full_images(plan, present, present_after)
    count = len(plan.names)
    null_bytes = (count + 7) // 8
    images: list[Image] = []
    position = 0
    end = len(body)
    while position < end:
        first, position = _image(plan, body, position, null_bytes)
        if kind == "insert":
            images.append((None, first))
        elif kind == "delete":
            images.append((first, None))
        else:
            second, position = _image(plan, body, position, null_bytes)
            images.append((first, second))
    if position != end:
        raise TypeMappingError(
            f"{plan.table}: the rows event ends inside a row ({position} of {end} bytes read)",
            hint="the binlog event is truncated or the table map does not match it; "
                 "capture stops rather than guess")
    return images


def require_full_images(plan: RowPlan, present: bytes | memoryview,
                        present_after: bytes | memoryview | None) -> None:
    """Refuse a rows event whose images leave out columns (``binlog_row_image`` not FULL)."""
    _require_full_image(plan, present, len(plan.names))
    if present_after is not None:
        _require_full_image(plan, present_after, len(plan.names))


def _require_full_image(plan: RowPlan, present: bytes | memoryview, count: int) -> None:
    if int.from_bytes(present, "little") != (1 << count) - 1:
        raise SourceCheckError(
            f"{plan.table}: a row image leaves out columns",
            hint="set binlog_row_image=FULL on the source; capture needs every column of "
                 "every row")


def _image(plan: RowPlan, body: bytes, position: int, null_bytes: int) -> tuple[Row, int]:
    nulls = int.from_bytes(body[position:position + null_bytes], "little")
    position += null_bytes
    row: Row = {}
    try:
        if not nulls:  # the common case: one call per column and nothing else
            for name, read in plan.named_readers:
                row[name], position = read(body, position)
            return row, position
        for index, read in enumerate(plan.readers):
            if nulls >> index & 1:
                if not plan.nullable[index]:
                    raise decoders.DecodeError("the column is NOT NULL but the row has NULL")
                row[plan.names[index]] = None
            else:
                row[plan.names[index]], position = read(body, position)
    except (decoders.DecodeError, UnicodeDecodeError, struct.error, IndexError,
            ValueError) as exc:
        # The failing column is the first one the row does not have yet.
        column = plan.columns[len(row)]
        raise TypeMappingError(
            f"{plan.table}.{column.name} ({column.type}): {exc}",
            hint="capture stops rather than change a value; see docs/types.md") from None
    return row, position


# --- readers --------------------------------------------------------------------------------


def _reader(layout: ColumnLayout) -> Reader:
    code = layout.type_code
    column = layout.column
    fixed = _FIXED_INTEGERS.get(code)
    if fixed is not None:
        return _integer_reader(*fixed[column.unsigned])
    if code == INT24:
        return _int24_reader(column.unsigned)
    if code in (FLOAT, DOUBLE):
        return _float_reader("<f" if code == FLOAT else "<d")
    if code == DECIMAL_NEW:
        return _decimal_reader(column.precision or 0, column.scale or 0)
    if code == YEAR:
        return _bytes_reader(1, decoders.decode_year)
    if code == BIT:
        return _bit_reader(column.precision or 1)
    temporal = _temporal_reader(code, column.scale or 0)
    if temporal is not None:
        return temporal
    if code in (STRING, VARCHAR, VAR_STRING):
        return _short_string_reader(layout)
    if code in (BLOB, GEOMETRY):
        return _blob_reader(layout)
    if code == ENUM:
        return _enum_reader(layout.length, column.members)
    if code == SET:
        return _set_reader(layout.length, column.members)
    raise UnsupportedLayout(f"binlog type {code} of column {column.name!r}")


_FIXED_INTEGERS = {
    TINY: (("<b", 1), ("<B", 1)),
    SHORT: (("<h", 2), ("<H", 2)),
    LONG: (("<i", 4), ("<I", 4)),
    LONGLONG: (("<q", 8), ("<Q", 8)),
}


def _integer_reader(form: str, size: int) -> Reader:
    unpack = struct.Struct(form).unpack_from

    def read(body: bytes, position: int) -> tuple[object, int]:
        return unpack(body, position)[0], position + size
    return read


def _int24_reader(unsigned: bool) -> Reader:
    def read(body: bytes, position: int) -> tuple[object, int]:
        end = position + 3
        return int.from_bytes(body[position:end], "little", signed=not unsigned), end
    return read


def _float_reader(form: str) -> Reader:
    unpack = struct.Struct(form).unpack_from
    size = struct.calcsize(form)

    def read(body: bytes, position: int) -> tuple[object, int]:
        value: float = unpack(body, position)[0]
        if not math.isfinite(value):
            raise decoders.DecodeError(f"{value} is not a finite number")
        return value, position + size
    return read


def _bytes_reader(size: int, decode: Callable[[bytes], object]) -> Reader:
    def read(body: bytes, position: int) -> tuple[object, int]:
        end = position + size
        return decode(body[position:end]), end
    return read


def _temporal_reader(code: int, fsp: int) -> Reader | None:
    if code == DATE:
        return _bytes_reader(3, decoders.decode_date)
    if code == TIME:
        return _bytes_reader(3, decoders.decode_time)
    if code == DATETIME:
        return _bytes_reader(8, decoders.decode_datetime)
    if code == TIMESTAMP:
        return _bytes_reader(4, decoders.decode_timestamp)
    if code == TIME2:
        return _bytes_reader(decoders.time2_size(fsp), lambda b: decoders.decode_time2(b, fsp))
    if code == DATETIME2:
        return _bytes_reader(decoders.datetime2_size(fsp),
                             lambda b: decoders.decode_datetime2(b, fsp))
    if code == TIMESTAMP2:
        return _bytes_reader(decoders.timestamp2_size(fsp),
                             lambda b: decoders.decode_timestamp2(b, fsp))
    return None


def _bit_reader(bits: int) -> Reader:
    size = (bits + 7) // 8
    limit = 1 << bits

    def read(body: bytes, position: int) -> tuple[object, int]:
        end = position + size
        value = int.from_bytes(body[position:end], "big")
        if value >= limit:
            raise decoders.DecodeError(f"{value} does not fit BIT({bits})")
        return value, end
    return read


def _decimal_reader(precision: int, scale: int) -> Reader:
    """DECIMAL(precision, scale) in MySQL's binary form: groups of nine digits in four bytes,
    big-endian, the leading and trailing partial groups in fewer; the sign bit inverted and
    every byte of a negative value complemented."""
    integral = precision - scale
    leading = _BYTES_FOR_DIGITS[integral % _DIGITS_PER_WORD]
    whole_integral = integral // _DIGITS_PER_WORD
    whole_fraction = scale // _DIGITS_PER_WORD
    trailing_digits = scale % _DIGITS_PER_WORD
    trailing = _BYTES_FOR_DIGITS[trailing_digits]
    size = leading + 4 * (whole_integral + whole_fraction) + trailing
    integral_end = leading + 4 * whole_integral
    fraction_end = integral_end + 4 * whole_fraction

    def read(body: bytes, position: int) -> tuple[object, int]:
        end = position + size
        raw = bytearray(body[position:end])
        if len(raw) != size:
            raise decoders.DecodeError(f"DECIMAL needs {size} bytes, got {len(raw)}")
        negative = not raw[0] & 0x80
        raw[0] ^= 0x80
        if negative:
            raw = bytearray(byte ^ 0xFF for byte in raw)
        parts = [str(int.from_bytes(raw[:leading], "big"))]
        parts.extend(f"{int.from_bytes(raw[i:i + 4], 'big'):09d}"
                     for i in range(leading, integral_end, 4))
        fraction = [f"{int.from_bytes(raw[i:i + 4], 'big'):09d}"
                    for i in range(integral_end, fraction_end, 4)]
        if trailing:
            fraction.append(f"{int.from_bytes(raw[fraction_end:], 'big'):0{trailing_digits}d}")
        text = "".join(parts)
        if scale:
            text += "." + "".join(fraction)
        value = Decimal(text)
        if negative and not value.is_zero():
            value = value.copy_negate()  # exact; unary minus rounds to the context's 28 digits
        return value, end
    return read


def _text_decoder(layout: ColumnLayout) -> Callable[[bytes], str] | None:
    charset = layout.column.charset
    return None if charset is None else decoders.text_decoder(charset)


def _short_string_reader(layout: ColumnLayout) -> Reader:
    """CHAR/VARCHAR/BINARY/VARBINARY: one length byte, two above 255 bytes."""
    decode = _text_decoder(layout)
    pad_to = layout.length if layout.type_code == STRING and decode is None else None
    return _length_prefixed_reader(2 if layout.length > 255 else 1, decode, pad_to)


def _blob_reader(layout: ColumnLayout) -> Reader:
    """TEXT/BLOB/GEOMETRY: the table map says how many length bytes."""
    return _length_prefixed_reader(layout.length, _text_decoder(layout), None)


def _length_prefixed_reader(prefix: int, decode: Callable[[bytes], str] | None,
                            pad_to: int | None) -> Reader:
    def read(body: bytes, position: int) -> tuple[object, int]:
        start = position + prefix
        end = start + int.from_bytes(body[position:start], "little")
        data = body[start:end]
        if len(data) != end - start:
            raise decoders.DecodeError("the value runs past the end of the rows event")
        if decode is not None:
            return decode(data), end
        if pad_to is not None:
            return decoders.pad_binary(data, pad_to), end
        return data, end
    return read


def _enum_reader(size: int, members: tuple[str, ...]) -> Reader:
    # Index 0 is the '' MySQL stores for a value that was not a member.
    values = ("", *members)

    def read(body: bytes, position: int) -> tuple[object, int]:
        end = position + size
        index = int.from_bytes(body[position:end], "little")
        if index >= len(values):
            raise decoders.DecodeError(f"ENUM index {index} is past its {len(members)} members")
        return values[index], end
    return read


def _set_reader(size: int, members: tuple[str, ...]) -> Reader:
    return _bytes_reader(size, lambda data: decoders.decode_set(data, members))
