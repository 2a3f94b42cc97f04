"""The binlog events capture reads on its fast path, parsed from their bytes. Pure.

Going through the binlog library cost more per event than decoding the rows: a wrapper object
with seventeen arguments, an event object, and its own table-map bookkeeping, for every event.
MariaDB's common events (GTID, query, XID, table map, rows, rotate, heartbeat) have small fixed
layouts, so the reader parses them here and hands everything else (MySQL's GTID events, partial
JSON updates, new table maps) to the library. Layouts follow ``log_event.h`` of MariaDB 10.11.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import NamedTuple

HEADER = struct.Struct("<IBIIIH")
"""timestamp, type code, server id, event size, next position, flags (19 bytes)."""
HEADER_SIZE = 19
CHECKSUM_SIZE = 4

QUERY, ROTATE, FORMAT_DESCRIPTION, XID, TABLE_MAP, HEARTBEAT = 2, 4, 15, 16, 19, 27
WRITE_ROWS_V1, UPDATE_ROWS_V1, DELETE_ROWS_V1 = 23, 24, 25
WRITE_ROWS_V2, UPDATE_ROWS_V2, DELETE_ROWS_V2 = 30, 31, 32
MARIADB_GTID = 162
ROWS_KIND = {WRITE_ROWS_V1: "insert", WRITE_ROWS_V2: "insert", UPDATE_ROWS_V1: "update",
             UPDATE_ROWS_V2: "update", DELETE_ROWS_V1: "delete", DELETE_ROWS_V2: "delete"}
_ROWS_V2 = frozenset({WRITE_ROWS_V2, UPDATE_ROWS_V2, DELETE_ROWS_V2})
_QUERY_POST_HEADER = 13
_GTID = struct.Struct("<QIB")
_QUERY = struct.Struct("<IIBHH")


class MalformedEventError(ValueError):
    """An event whose bytes do not fit its layout, or whose checksum does not match."""


class EventHeader(NamedTuple):
    """A tuple, not a dataclass: one is made for every event, and a tuple is made fastest."""

    timestamp: int
    type_code: int
    server_id: int
    size: int
    next_position: int
    flags: int


Buffer = bytes | memoryview


@dataclass(frozen=True, slots=True)
class RowsBody:
    table_id: int
    present: Buffer
    present_after: Buffer | None
    rows: Buffer


def parse_header(packet: bytes) -> EventHeader:
    """The header of a binlog network packet (its first byte is the OK marker)."""
    if len(packet) < 1 + HEADER_SIZE:
        raise MalformedEventError(f"a binlog packet of {len(packet)} bytes has no event header")
    return EventHeader._make(HEADER.unpack_from(packet, 1))


def event_body(packet: bytes, header: EventHeader, checksum: bool) -> memoryview:
    """The bytes after the header (a view, not a copy: a rows event may hold megabytes),
    checked against the event's CRC32 when it has one."""
    if len(packet) - 1 != header.size:
        raise MalformedEventError(f"the event says it has {header.size} bytes, the packet holds "
                                  f"{len(packet) - 1}")
    view = memoryview(packet)
    if not checksum:
        return view[1 + HEADER_SIZE:]
    end = len(packet) - CHECKSUM_SIZE
    expected = int.from_bytes(view[end:], "little")
    if zlib.crc32(view[1:end]) != expected:
        raise MalformedEventError(f"event type {header.type_code} ending at "
                                  f"{header.next_position} fails its CRC32 checksum")
    return view[1 + HEADER_SIZE:end]


def parse_mariadb_gtid(body: Buffer) -> tuple[int, int, int]:
    """(sequence number, domain id, flags) of a MariaDB GTID event."""
    sequence, domain, flags = _GTID.unpack_from(body)
    return sequence, domain, flags


def parse_query(body: Buffer) -> tuple[str, str]:
    """(default database, statement) of a query event."""
    _thread, _seconds, schema_length, _error, status_length = _QUERY.unpack_from(body)
    schema_start = _QUERY_POST_HEADER + status_length
    statement_start = schema_start + schema_length + 1  # the database name ends with a NUL
    if statement_start > len(body):
        raise MalformedEventError("a query event ends before its statement")
    schema = str(body[schema_start:schema_start + schema_length], "utf-8", "backslashreplace")
    return schema, str(body[statement_start:], "utf-8", "backslashreplace")


def parse_rotate(body: Buffer) -> tuple[int, str]:
    """(position, file) a rotate event points to."""
    return int.from_bytes(body[:8], "little"), str(body[8:], "utf-8")


def table_id_of(body: Buffer) -> int:
    """The table id that a table map or rows event starts with."""
    return int.from_bytes(body[:6], "little")


def parse_rows(type_code: int, body: Buffer) -> RowsBody:
    """The table id, columns-present bitmaps and row images of a rows event."""
    position = 8  # table id (6 bytes), flags (2 bytes)
    if type_code in _ROWS_V2:
        position += int.from_bytes(body[8:10], "little")  # the extra data counts its length
    count, position = _length_encoded(body, position)
    size = (count + 7) // 8
    present = body[position:position + size]
    position += size
    present_after = None
    if ROWS_KIND[type_code] == "update":
        present_after = body[position:position + size]
        position += size
    if position > len(body):
        raise MalformedEventError("a rows event ends inside its header")
    return RowsBody(table_id_of(body), present, present_after, body[position:])


def _length_encoded(data: Buffer, position: int) -> tuple[int, int]:
    first = data[position]
    if first < 251:
        return first, position + 1
    size = {252: 2, 253: 3, 254: 8}.get(first)
    if size is None:
        raise MalformedEventError(f"byte {first} does not start a length-encoded integer")
    start = position + 1
    return int.from_bytes(data[start:start + size], "little"), start + size
