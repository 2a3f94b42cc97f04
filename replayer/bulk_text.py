"""Fused bulk-load encoders: a snapshot block's Avro records straight to bulk-load text.

A restore reads each snapshot file block by block (``chunk_file.iter_blocks``: the record
count and the decompressed records of one block) and turns the block into lines of PostgreSQL
COPY text (``bulk_text_postgres``) or MariaDB LOAD DATA text (``bulk_text_mysql``) without
making a canonical row dict or a Python value per field on the way: for each table version a
function is generated (``exec``, compiled once) that walks the block's bytes field by field,
with every column's reading and formatting written inline, as ``cdc.snapshot.raw_values``
does in the other direction. UTF-8 text stays bytes, small integers are looked up in a table,
and the checks that cost per value in Python (UTF-8 validity, characters that need escaping,
date shapes) are made once per column per block, over the column's values joined
(``bulk_text_fields`` has how each family is read and written).

Each encoder has two paths that give the same bytes:

- the fast one, the generated function: it handles every value of a well-formed file and gives
  up on the block (``UnusualValueError``, or any decoding error) at the first thing it does
  not expect: a value outside its column's range, a zero date PostgreSQL cannot hold, bytes
  after the records, a non-minimal varint;
- the canonical one: ``RowCodec`` decodes each record to its canonical row, which the target's
  reference formatter (``postgres_types.copy_row``, ``bulk_text_mysql.load_data_row``) turns
  into a line. A block the fast path gave up on is redone this way, which either gives the
  lines or raises the reference's own error: ``TypeMappingError`` for a value the target cannot
  hold, ``chunk_file.BlockDecodeError`` (with ``decode_chunk``'s wording) for records that do
  not decode. ``encode_blocks`` turns the latter into the ``SnapshotIntegrityError`` naming the
  file and block that ``decode_chunk`` raises.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from cdc.avro.binary import Reader
from cdc.avro.row_schema import row_codec
from cdc.changes import Column, Row, TableSchema
from cdc.snapshot.chunk_file import BlockDecodeError, Blocks, record_error, trailing_error

BlockEncode = Callable[[int, bytes], bytes]
"""A block's record count and decompressed records to the block's lines of bulk-load text."""
Post = Callable[[list[bytes], int], list[bytes] | None]
"""A column's fields in a block (``NULL`` for NULL) and the number of NULLs among them, to new
fields, or None to keep them; raises ``UnusualValueError`` to leave the block to the canonical
path."""
FormatRow = Callable[[Row], bytes]

NULL: Final = b"\\N"
"""NULL in both COPY text and LOAD DATA text (a value ``\\N`` is escaped: ``\\\\N``)."""
TAB: Final = b"\t"
NEWLINE: Final = b"\n"
_LONG_LIMIT: Final = 70  # shift bits: a varint of more than ten bytes is not a long

HALVES: Final = tuple(1 << (8 * size - 1) if size else 1 for size in range(64))
"""The smallest unsigned value of ``size`` bytes whose two's complement is negative."""
WHOLES: Final = tuple(1 << (8 * size) for size in range(64))

# The length of a string or bytes whose length varint is one byte; -1 where it is not (a byte
# with the high bit set starts a longer varint, an odd one is a negative length).
LENGTHS: Final = tuple(b >> 1 if b < 0x80 and not b & 1 else -1 for b in range(256))


class UnusualValueError(ValueError):
    """A block the fast path leaves to the canonical one."""


# --- reading varints ----------------------------------------------------------------------------


def read_long(data: bytes, position: int) -> tuple[int, int]:
    """The Avro long at ``position`` and the position after it (``Reader.read_long``)."""
    byte = data[position]
    number = byte & 0x7F
    shift = 7
    position += 1
    while byte & 0x80:
        byte = data[position]
        position += 1
        number |= (byte & 0x7F) << shift
        shift += 7
        if shift > _LONG_LIMIT:
            raise UnusualValueError("a varint longer than ten bytes")
    return (number >> 1) ^ -(number & 1), position


@lru_cache(maxsize=1)
def pair_tables() -> tuple[tuple[int | None, ...], tuple[int | None, ...]]:
    """The 14 bits of two varint bytes read as one little-endian 16-bit number: in the middle
    of a varint (both bytes say "more follows"), and at its end (only the first does); None
    for the other bytes. An eight-byte varint (every TIMESTAMP from 1978 to 3111 in
    microseconds, as zig-zag numbers) is four such pairs."""
    middle: list[int | None] = [None] * 65536
    last: list[int | None] = [None] * 65536
    for pair in range(65536):
        low, high = pair & 0xFF, pair >> 8
        if low & 0x80:
            if high & 0x80:
                middle[pair] = (low & 0x7F) | (high & 0x7F) << 7
            else:
                last[pair] = (low & 0x7F) | high << 7
    return tuple(middle), tuple(last)


def read_size(data: bytes, position: int) -> tuple[int, int]:
    """A length of bytes or a string: a long that is not negative."""
    size, position = read_long(data, position)
    if size < 0:
        raise UnusualValueError(f"a negative length {size}")
    return size, position


def read_members(data: bytes, position: int) -> tuple[tuple[bytes, ...], int]:
    """An array of strings written as ``RowCodec`` writes a SET (one block of items, then the
    end), as a tuple of the items' bytes; other layouts are left to the canonical path."""
    count = data[position]
    if count == 0:
        return (), position + 1
    if count >= 0x80 or count & 1:
        raise UnusualValueError("an array in more than one block")
    position += 1
    members = []
    for _ in range(count >> 1):
        size = LENGTHS[data[position]]
        if size < 0:
            raise UnusualValueError("a long member")
        position += 1
        members.append(data[position:position + size])
        position += size
    if data[position] != 0:
        raise UnusualValueError("an array in more than one block")
    return tuple(members), position + 1


# --- how a column is read and written ---------------------------------------------------------


@dataclass(frozen=True)
class FieldCode:
    """How the fast path reads and writes one column's non-NULL values.

    ``shape`` says how the value's Avro encoding is read into ``{v}``:

    - ``bytes``: a string or bytes, as the slice of the block (its length is in ``n``);
    - ``long``: an int; a one-byte varint is looked up in ``table`` first, which holds the
      field of each (None where the value is to be read and checked the long way);
    - ``long8``: the same, for values that are mostly eight-byte varints (TIMESTAMPs);
    - ``float``, ``double``: the number;
    - ``members``: a SET, as the tuple of its members' bytes.

    ``lines`` then set ``{f}``, the field, from ``{v}``: Python statements that may use
    ``{K}NAME`` for ``constants[NAME]``, the helpers of ``_HELPERS``, and ``raise U`` (an
    unusual value: the canonical path takes the block). ``post`` runs over the column's fields
    of each block.
    """

    shape: str
    lines: tuple[str, ...] = ("{f} = {v}",)
    constants: Mapping[str, object] = field(default_factory=dict)
    post: Post | None = None
    table: tuple[bytes | None, ...] | None = None


# --- the generated reader -----------------------------------------------------------------------

_HELPERS: dict[str, object] = {
    "NULL": NULL, "U": UnusualValueError, "LENGTHS": LENGTHS, "read_long": read_long,
    "read_size": read_size, "read_members": read_members, "from_bytes": int.from_bytes,
    "hexlify": binascii.hexlify, "HALVES": HALVES, "WHOLES": WHOLES,
    "QUARTERS": struct.Struct("<HHHH").unpack_from, "struct_error": struct.error,
}
_FIXED = {"float": ("<f", 4), "double": ("<d", 8)}
_LONG = (
    # the one-byte varints from the table; two to four bytes inline; longer ones the long way
    "{f} = {K}TABLE[d[p + 1]]",
    "if {f} is None:",
    "    x = d[p + 1] | d[p + 2] << 8",
    "    z = LAST[x]",
    "    if z is not None:",
    "        p += 3",
    "    else:",
    "        z = MIDDLE[x]",
    "        if z is None:",
    "            z = -1",
    "        else:",
    "            y = d[p + 3]",
    "            if y < 128:",
    "                z |= y << 14",
    "                p += 4",
    "            else:",
    "                y = LAST[y | d[p + 4] << 8]",
    "                if y is None:",
    "                    z = -1",
    "                else:",
    "                    z |= y << 14",
    "                    p += 5",
    "    if z < 0:",
    "        v, p = read_long(d, p + 1)",
    "    else:",
    "        v = (z >> 1) ^ -(z & 1)",
)
_LONG8 = (
    # the one-byte varints from the table; eight bytes inline; others the long way
    "{f} = {K}TABLE[d[p + 1]]",
    "if {f} is None:",
    "    try:",
    "        a, b, x, y = QUARTERS(d, p + 1)",
    "        z = MIDDLE[a] | MIDDLE[b] << 14 | MIDDLE[x] << 28 | LAST[y] << 42",
    "        p += 9",
    "        v = (z >> 1) ^ -(z & 1)",
    "    except (TypeError, struct_error):",
    "        v, p = read_long(d, p + 1)",
)


def _column_code(index: int, column: Column, code: FieldCode, *, count_nulls: bool
                 ) -> list[str]:
    f, prefix = f"f{index}", f"c{index}_"

    def body(lines: Sequence[str], indent: str) -> list[str]:
        return [indent + line.format(f=f, v="v", K=prefix) for line in lines]

    shape = code.shape
    out = ["c = d[p]", "if c == 2:"]
    if shape == "bytes":
        read = ["n = LENGTHS[d[p + 1]]", "if n < 0:", "    n, p = read_size(d, p + 1)",
                "else:", "    p += 2"]
        if tuple(code.lines) == ("{f} = {v}",):  # the slice is the field
            out += body([*read, "{f} = d[p:p + n]", "p += n"], "    ")
        else:
            out += body([*read, "v = d[p:p + n]", "p += n", *code.lines], "    ")
    elif shape in ("long", "long8"):
        out += body(_LONG if shape == "long" else _LONG8, "    ")
        out += body(code.lines, "        ")
        out += ["    else:", "        p += 2"]
    elif shape in _FIXED:
        out += [f"    v = {prefix}UNPACK(d, p + 1)[0]", f"    p += {_FIXED[shape][1] + 1}"]
        out += body(code.lines, "    ")
    elif shape == "members":
        out += ["    v, p = read_members(d, p + 1)"]
        out += body(code.lines, "    ")
    else:
        raise ValueError(f"unknown field shape {shape!r}")
    if column.nullable:  # NULL in a NOT NULL column: the reference refuses it
        out += ["elif c == 0:", "    p += 1", f"    {f} = NULL"]
        if count_nulls:
            out += [f"    n{index} += 1"]
    out += ["else:", "    raise U"]
    return out


def _source(schema: TableSchema, codes: Sequence[FieldCode], names: Sequence[str]) -> str:
    """``read_block(count, d)``: the fields of the block's records, row after row, and the
    number of NULLs of each column with a post."""
    posted = [index for index, code in enumerate(codes) if code.post is not None]
    defaults = ", ".join(f"{name}={name}" for name in names)  # locals are quicker than globals
    lines = [f"def read_block(count, d, *, {defaults}):", "    fields = []",
             "    extend = fields.extend", "    p = 0"]
    lines += [f"    n{index} = 0" for index in posted]
    lines += ["    for _ in range(count):"]
    for index, (column, code) in enumerate(zip(schema.columns, codes, strict=True)):
        lines += ["        " + line
                  for line in _column_code(index, column, code, count_nulls=index in posted)]
    row = ", ".join(f"f{index}" for index in range(len(codes)))
    nulls = "".join(f"n{index}, " for index in posted)
    lines += [f"        extend(({row},))", "    if p != len(d):",
              "        raise U('bytes after the records')", f"    return fields, ({nulls})"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Counted:
    """Fields to count in each block: column ``index``'s fields equal to ``field``, which is
    the field of the canonical value ``value`` (and of no other value of the column)."""

    index: int
    field: bytes
    value: object


class FusedEncoder:
    """A table version's block encoder (see the module's description): call it with a block's
    record count and records. ``format_row`` is the reference: a canonical row's line.
    ``counted`` fields are counted by ``encode_counted``."""

    def __init__(self, schema: TableSchema, codes: Sequence[FieldCode],
                 format_row: FormatRow, counted: Sequence[Counted] = ()) -> None:
        if len(codes) != len(schema.columns):
            raise ValueError("one field code per column")
        self.schema = schema
        self.codes = tuple(codes)
        self._format_row = format_row
        self._decode_from = row_codec(schema).decode_from
        self._width = len(codes)
        self._posts = tuple(code.post for code in codes if code.post is not None)
        self._posted = tuple(index for index, code in enumerate(codes) if code.post is not None)
        self._counted = tuple(counted)
        self._counted_names = tuple(schema.columns[c.index].name for c in counted)
        namespace: dict[str, Any] = dict(_HELPERS)
        namespace["MIDDLE"], namespace["LAST"] = pair_tables()
        for index, code in enumerate(codes):
            namespace.update({f"c{index}_{name}": value
                              for name, value in code.constants.items()})
            if code.table is not None:
                namespace[f"c{index}_TABLE"] = code.table
            if code.shape in _FIXED:
                namespace[f"c{index}_UNPACK"] = struct.Struct(_FIXED[code.shape][0]).unpack_from
        self.source = _source(schema, codes, sorted(namespace))
        exec(compile(self.source, f"<fused encoder of {schema.qualified_name}>", "exec"),
             namespace)
        self._read_block: Callable[[int, bytes], tuple[list[bytes], tuple[int, ...]]] = (
            namespace["read_block"])

    def __call__(self, count: int, data: bytes) -> bytes:
        return self.encode_counted(count, data)[0]

    def encode_counted(self, count: int, data: bytes) -> tuple[bytes, int]:
        """The block's lines, and how many of its fields are ``counted`` ones."""
        try:
            return self.fast(count, data)
        except (ValueError, IndexError, KeyError, TypeError, OverflowError, struct.error):
            return self.canonical(count, data)

    def fast(self, count: int, data: bytes) -> tuple[bytes, int]:
        """The fast path alone; raises where it gives up (for tests)."""
        width = self._width
        if not width:
            raise UnusualValueError("a table without columns")
        fields, nulls = self._read_block(count, data)
        if not fields:  # no records: no lines, as the canonical path gives
            if data:
                raise UnusualValueError("bytes after the records")
            return b"", 0
        counted = sum(fields[c.index::width].count(c.field) for c in self._counted)
        for index, post, null_count in zip(self._posted, self._posts, nulls, strict=True):
            changed = post(fields[index::width], null_count)
            if changed is not None:
                fields[index::width] = changed
        rows = zip(*[iter(fields)] * width, strict=True)
        return NEWLINE.join(map(TAB.join, rows)) + NEWLINE, counted

    def canonical(self, count: int, data: bytes) -> tuple[bytes, int]:
        """The canonical path: each record decoded to its canonical row, then formatted."""
        reader = Reader(data)
        lines = []
        counted = 0
        for index in range(count):
            try:
                row = self._decode_from(reader)
            except (ValueError, OverflowError) as exc:  # as decode_chunk
                raise BlockDecodeError(record_error(index, count, exc)) from None
            lines.append(self._format_row(row))
            counted += sum(row[name] == c.value
                           for name, c in zip(self._counted_names, self._counted, strict=True))
        if not reader.at_end():
            raise BlockDecodeError(trailing_error(len(data) - reader.position, count))
        return b"".join(lines), counted


def encode_blocks(blocks: Blocks, encode: BlockEncode) -> Iterator[bytes]:
    """The bulk-load text of each block of a file read with ``chunk_file.iter_blocks``; records
    that do not decode raise the ``SnapshotIntegrityError`` naming the file and block that
    ``decode_chunk`` raises."""
    for count, data in blocks:
        try:
            text = encode(count, data)
        except BlockDecodeError as exc:
            raise blocks.error(exc.detail) from None
        yield text

