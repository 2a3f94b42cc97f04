"""Avro binary encoding of the primitive types, written and read by hand.

fastavro resolves every union branch by validating the value against each branch, which
limited a nine-column row with nullable fields to about 4,000 updates/s; capture needs tens of
thousands. The codec therefore writes the bytes itself from schemas known in advance. The
format is the Avro specification's (zig-zag varints, length-prefixed bytes and strings,
little-endian IEEE floats, blocked arrays); the unit tests hold every encoding byte-for-byte
equal to fastavro's and readable by fastavro.
"""

from __future__ import annotations

import struct

_FLOAT = struct.Struct("<f")
_DOUBLE = struct.Struct("<d")
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1


class AvroDecodeError(ValueError):
    """Bytes that do not follow the Avro encoding of the expected schema."""


def write_long(out: bytearray, value: int) -> None:
    """An Avro int or long: zig-zag, then base-128 varint, low group first."""
    if 0 <= value < 64:  # most lengths, branches and small numbers: one byte
        out.append(value << 1)
        return
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError(f"{value} does not fit an Avro long")
    number = (value << 1) ^ (value >> 63)
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)


def write_int(out: bytearray, value: int) -> None:
    if not -(1 << 31) <= value < 1 << 31:
        raise ValueError(f"{value} does not fit an Avro int")
    write_long(out, value)


def write_bytes(out: bytearray, value: bytes) -> None:
    size = len(value)
    if size < 64:
        out.append(size << 1)
    else:
        write_long(out, size)
    out += value


def write_string(out: bytearray, value: str) -> None:
    data = value.encode("utf-8")
    size = len(data)
    if size < 64:
        out.append(size << 1)
    else:
        write_long(out, size)
    out += data


def write_float(out: bytearray, value: float) -> None:
    out += _FLOAT.pack(value)


def write_double(out: bytearray, value: float) -> None:
    out += _DOUBLE.pack(value)


def write_boolean(out: bytearray, value: bool) -> None:
    out.append(1 if value else 0)


def decimal_bytes(unscaled: int) -> bytes:
    """Two's-complement big-endian bytes of a decimal's unscaled value, sized as fastavro does."""
    size = (abs(unscaled).bit_length() + 8) // 8
    return unscaled.to_bytes(size, "big", signed=True)


class Reader:
    """Reads Avro primitives from one buffer, front to back."""

    __slots__ = ("data", "position")

    def __init__(self, data: bytes, position: int = 0) -> None:
        self.data = data
        self.position = position

    def read_long(self) -> int:
        data, position = self.data, self.position
        try:
            byte = data[position]
            if byte < 0x80:  # one byte: most lengths, branches and small numbers
                self.position = position + 1
                return (byte >> 1) ^ -(byte & 1)
            number, shift = byte & 0x7F, 7
            while byte & 0x80:
                position += 1
                byte = data[position]
                number |= (byte & 0x7F) << shift
                shift += 7
                if shift > 70:
                    raise AvroDecodeError("a varint longer than ten bytes")
        except IndexError:
            raise AvroDecodeError("the data ends inside a number") from None
        self.position = position + 1
        return (number >> 1) ^ -(number & 1)

    def read_fixed(self, size: int) -> bytes:
        start, end = self.position, self.position + size
        if size < 0 or end > len(self.data):
            raise AvroDecodeError(f"the data ends inside a value of {size} bytes")
        self.position = end
        return self.data[start:end]

    def read_bytes(self) -> bytes:
        size = self.read_long()
        start = self.position
        end = start + size
        if size < 0 or end > len(self.data):
            raise AvroDecodeError(f"the data ends inside a value of {size} bytes")
        self.position = end
        return self.data[start:end]

    def read_string(self) -> str:
        size = self.read_long()
        start = self.position
        end = start + size
        if size < 0 or end > len(self.data):
            raise AvroDecodeError(f"the data ends inside a string of {size} bytes")
        self.position = end
        try:
            return self.data[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AvroDecodeError(f"a string is not UTF-8: {exc.reason}") from None

    def read_float(self) -> float:
        value: float = _FLOAT.unpack(self.read_fixed(4))[0]
        return value

    def read_double(self) -> float:
        value: float = _DOUBLE.unpack(self.read_fixed(8))[0]
        return value

    def read_boolean(self) -> bool:
        byte = self.read_fixed(1)[0]
        if byte > 1:
            raise AvroDecodeError(f"a boolean byte is {byte}")
        return byte == 1

    def read_branch(self, branches: int) -> int:
        """The index of a union's branch (or of an enum's symbol)."""
        try:
            byte = self.data[self.position]
        except IndexError:
            raise AvroDecodeError("the data ends before a union branch") from None
        if byte < 0x80 and not byte & 1:  # one byte, not negative: the usual case
            self.position += 1
            index = byte >> 1
        else:
            index = self.read_long()
        if not 0 <= index < branches:
            raise AvroDecodeError(f"union branch {index} of a union of {branches}")
        return index

    def read_string_array(self) -> list[str]:
        items: list[str] = []
        while True:
            count = self.read_long()
            if count == 0:
                return items
            if count < 0:  # a block that also gives its size in bytes
                count = -count
                self.read_long()
            items.extend(self.read_string() for _ in range(count))

    def at_end(self) -> bool:
        return self.position == len(self.data)
