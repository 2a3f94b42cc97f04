"""Patches to the binlog library (mysql-replication 1.0.x) so that its rows carry exact values.

The library decodes several column types wrongly or lossily (``cdc/binlog/decoders.py`` lists
them), partly inside one large private method, ``RowsEvent.__read_values_name``, whose
TIMESTAMP and SET branches are inline. The smallest patch that reaches all of them wraps that
method: for the types we decode ourselves it reads the value's bytes and hands them to our
decoders; NULLs, missing columns and every other type still go through the library, so its
bookkeeping (``none_sources``) stays as it was.

Two further patches fix the table map: ENUM/SET member names are kept as bytes until the
column's character set is known (the library decodes them as UTF-8 and silently turns what
fails into ''), and length prefixes of names and members are read as the length-encoded
integers the server writes (the library's reading is only right below 128 bytes). After each
table map the columns are annotated with what ``cdc.binlog.columns`` needs and the library does
not keep: nullability, the primary key in key order, the character set and the decoded members.

``install()`` must run before the first event is read; it is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymysqlreplication.bitmap import BitGet
from pymysqlreplication.constants import FIELD_TYPE
from pymysqlreplication.row_event import RowsEvent, TableMapEvent

from cdc.binlog.decoders import (
    DecodeError,
    charset_of_collation,
    datetime2_size,
    decode_date,
    decode_datetime,
    decode_datetime2,
    decode_set,
    decode_time,
    decode_time2,
    decode_timestamp,
    decode_timestamp2,
    decode_year,
    pad_binary,
    text_decoder,
    time2_size,
    timestamp2_size,
)
from cdc.errors import TypeMappingError

_INSTALLED_MARK = "_cdc_library_fixes_installed"
ANNOTATED_MARK = "_cdc_annotated"
"""Set on a library ``Table`` once its columns carry our annotations."""

Reader = Callable[[Any, Any], object]
"""Reads one non-NULL value of a column from the event's packet."""


def _length_prefixed(packet: Any, prefix_size: int) -> bytes:
    data: bytes = packet.read(int.from_bytes(packet.read(prefix_size), "little"))
    return data


def _string_value(data: bytes, column: Any) -> object:
    decode = column._cdc_decode
    if decode is None:  # the binary character set: the bytes are the value
        if column.type == FIELD_TYPE.STRING:
            return pad_binary(data, column.max_length)
        return data
    return decode(data)


def _read_short_string(packet: Any, column: Any) -> object:
    # The length prefix is one byte unless the column can hold more than 255 bytes.
    return _string_value(_length_prefixed(packet, 2 if column.max_length > 255 else 1), column)


def _read_blob(packet: Any, column: Any) -> object:
    return _string_value(_length_prefixed(packet, column.length_size), column)


def _read_set(packet: Any, column: Any) -> object:
    members = column._cdc_members
    if members is None:
        raise DecodeError("the table map has no SET member names; set binlog_row_metadata=FULL")
    return decode_set(packet.read(column.size), members)


_READERS: dict[int, Reader] = {
    FIELD_TYPE.TIME2: lambda p, c: decode_time2(p.read(time2_size(c.fsp)), c.fsp),
    FIELD_TYPE.TIME: lambda p, c: decode_time(p.read(3)),
    FIELD_TYPE.DATE: lambda p, c: decode_date(p.read(3)),
    FIELD_TYPE.DATETIME2: lambda p, c: decode_datetime2(p.read(datetime2_size(c.fsp)), c.fsp),
    FIELD_TYPE.DATETIME: lambda p, c: decode_datetime(p.read(8)),
    FIELD_TYPE.TIMESTAMP2: lambda p, c: decode_timestamp2(p.read(timestamp2_size(c.fsp)), c.fsp),
    FIELD_TYPE.TIMESTAMP: lambda p, c: decode_timestamp(p.read(4)),
    FIELD_TYPE.YEAR: lambda p, c: decode_year(p.read(1)),
    FIELD_TYPE.SET: _read_set,
    FIELD_TYPE.STRING: _read_short_string,
    FIELD_TYPE.VARCHAR: _read_short_string,
    FIELD_TYPE.VAR_STRING: _read_short_string,
    FIELD_TYPE.BLOB: _read_blob,
}


def _patched_read_values_name(original: Callable[..., object]) -> Callable[..., object]:
    # The signature is the library's own: it calls this method positionally.
    def read_values_name(  # noqa: PLR0917
            self: Any, column: Any, null_bitmap: bytes, null_bitmap_index: int,
            is_partial: bool, cols_bitmap: bytes, unsigned: bool, i: int) -> object:
        reader = _READERS.get(column.type)
        if (reader is None or not BitGet(cols_bitmap, i)
                or self._is_null(null_bitmap, null_bitmap_index)):
            return original(self, column, null_bitmap, null_bitmap_index, is_partial,
                            cols_bitmap, unsigned, i)
        try:
            return reader(self.packet, column)
        except (DecodeError, UnicodeDecodeError) as exc:
            raise TypeMappingError(
                f"{self.schema}.{self.table}.{column.name}: {exc}",
                hint="capture stops rather than change a value; see docs/types.md",
            ) from None
    return read_values_name


def _read_type_values_as_bytes(self: Any, length: int) -> list[list[bytes]]:
    """ENUM/SET member names, undecoded: their character set is the column's."""
    result: list[list[bytes]] = []
    read_until = self.packet.read_bytes + length
    while self.packet.read_bytes < read_until:
        count = self.packet.read_length_coded_binary()
        result.append([self.packet.read(self.packet.read_length_coded_binary())
                       for _ in range(count)])
    return result


def _read_column_names(self: Any, length: int) -> list[str]:
    result: list[str] = []
    read_until = self.packet.read_bytes + length
    while self.packet.read_bytes < read_until:
        result.append(self.packet.read(self.packet.read_length_coded_binary()).decode())
    return result


def _raise_unsupported(error: DecodeError) -> Callable[[bytes], str]:
    def refuse(data: bytes) -> str:
        raise error
    return refuse


def _annotate(event: Any) -> None:
    """Record on the table map's columns what the library reads but does not keep."""
    for index, column in enumerate(event.columns):
        column._cdc_nullable = bool(event.null_bitmask[index // 8] >> (index % 8) & 1)
        collation = column.collation_name
        charset = charset_of_collation(collation) if collation else None
        column._cdc_charset = charset
        column._cdc_decode = None
        column._cdc_members = None
        if charset is None or charset == "binary":
            continue
        try:
            decode = text_decoder(charset)
        except DecodeError as exc:
            column._cdc_decode = _raise_unsupported(exc)
            continue
        column._cdc_decode = decode
        raw_members = column.set_values if column.type == FIELD_TYPE.SET else (
            column.enum_values[1:] if column.type == FIELD_TYPE.ENUM and column.enum_values
            else None)
        if raw_members is not None:
            members = tuple(decode(m) if isinstance(m, bytes) else m for m in raw_members)
            column._cdc_members = members
            if column.type == FIELD_TYPE.SET:
                column.set_values = list(members)
            else:  # index 0 is MySQL's '' for a value that was not a member
                column.enum_values = ["", *members]
    metadata = event.optional_metadata
    key = list(metadata.simple_primary_key_list) or list(metadata.primary_keys_with_prefix or {})
    table = event.table_obj
    table._cdc_primary_key = tuple(event.columns[i].name for i in key)
    setattr(table, ANNOTATED_MARK, True)


def _patched_table_map_init(original: Callable[..., None]) -> Callable[..., None]:
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self._processed and hasattr(self, "table_obj"):
            _annotate(self)
    return init


def install() -> None:
    """Patch the library in this process; safe to call more than once."""
    if getattr(RowsEvent, _INSTALLED_MARK, False):
        return
    # Name-mangled private methods: the library's own calls go through these class attributes.
    RowsEvent._RowsEvent__read_values_name = _patched_read_values_name(
        RowsEvent._RowsEvent__read_values_name)
    TableMapEvent.__init__ = _patched_table_map_init(TableMapEvent.__init__)
    TableMapEvent._read_type_values = _read_type_values_as_bytes
    TableMapEvent._read_column_names = _read_column_names
    setattr(RowsEvent, _INSTALLED_MARK, True)


def installed() -> bool:
    return bool(getattr(RowsEvent, _INSTALLED_MARK, False))
