"""Binlog event payloads to source events: the decoding half of the binlog reader.

It holds no connection, so the same decoding runs in the capture process or in worker
processes that are handed payloads. MariaDB's common events are parsed by ``event_parser``;
rows by the compiled fast path (``fast_rows``) or ``row_decoder``; the library reads table
maps (with its FULL metadata), format descriptions, MySQL's GTID events and partial JSON
updates. A table map is parsed once per distinct content: the cache is keyed by the event's
bytes, so a table whose shape changed (a new map under the same id) is never misread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pymysql.protocol import MysqlPacket
from pymysqlreplication.event import GtidEvent
from pymysqlreplication.packet import BinLogPacketWrapper
from pymysqlreplication.row_event import (
    DeleteRowsEvent,
    PartialUpdateRowsEvent,
    RowsEvent,
    UpdateRowsEvent,
    WriteRowsEvent,
)

from cdc.binlog import library_fixes
from cdc.binlog.columns import columns_from_table_map, fast_plan_of, primary_key_of, row_plan_of
from cdc.binlog.event_parser import (
    FORMAT_DESCRIPTION,
    HEARTBEAT,
    MARIADB_GTID,
    QUERY,
    ROTATE,
    ROWS_KIND,
    TABLE_MAP,
    XID,
    EventHeader,
    event_body,
    parse_header,
    parse_mariadb_gtid,
    parse_query,
    parse_rotate,
    parse_rows,
    table_id_of,
)
from cdc.binlog.events import (
    BinlogCoordinates,
    QueryStatement,
    RowImages,
    SourceEvent,
    SourceIdle,
    TransactionBegin,
    TransactionCommit,
)
from cdc.binlog.fast_rows import encode_rows
from cdc.binlog.row_decoder import Image, decode_rows, require_full_images
from cdc.changes import Column, Operation
from cdc.errors import SourceStreamError
from cdc.position import parse_gtid
from cdc.values import canonical_row

library_fixes.install()

_OPERATIONS = {WriteRowsEvent: Operation.INSERT, UpdateRowsEvent: Operation.UPDATE,
               PartialUpdateRowsEvent: Operation.UPDATE, DeleteRowsEvent: Operation.DELETE}
# MariaDB's Gtid_log_event flag for a statement with no BEGIN/COMMIT around it (DDL).
_FL_STANDALONE = 1
_TABLE_CACHE_LIMIT = 4096
_EXCLUDED = object()  # a table map of a database capture leaves out


# The order in which BinLogPacketWrapper takes the stream's settings after the server version
# (name-mangled attributes of BinLogStreamReader).
WRAPPER_SETTINGS = ("use_checksum", "allowed_events_in_packet", "only_tables", "ignored_tables",
                    "only_schemas", "ignored_schemas", "freeze_schema", "ignore_decode_errors",
                    "verify_checksum", "optional_meta_data", "enable_logging",
                    "use_column_name_cache", "post_header_lengths")
POST_HEADER_LENGTHS = WRAPPER_SETTINGS.index("post_header_lengths")


@dataclass
class LibrarySettings:
    """What the library's event wrapper needs besides the packet: the stream's own settings
    (``BinLogPacketWrapper``'s arguments after the server version, in order) and the server
    version. Plain values, so a worker process can be given them."""

    mysql_version: tuple[int, int, int]
    wrapper_arguments: list[Any]
    charset: str = "utf8mb4"
    dbms: str = "mariadb"


class _ControlStub:
    """What the library's events ask of the control connection while parsing: the character
    set and the server kind. Nothing else is needed with binlog_row_metadata=FULL."""

    def __init__(self, charset: str, dbms: str) -> None:
        self.charset = charset
        self._dbms = dbms

    def _get_dbms(self) -> str:
        return self._dbms


class EventDecoder:
    """Decodes one stream's payloads in order. ``log_file`` is the binlog file the next
    payload belongs to."""

    def __init__(self, settings: LibrarySettings, checksum: bool, log_file: str = "") -> None:
        self._settings = settings
        self._checksum = checksum
        self._control = _ControlStub(settings.charset, settings.dbms)
        self.log_file = log_file
        self._standalone = False
        self._tables: dict[int, Any] = {}
        """table id -> the library's Table (or _EXCLUDED), for the rows events that follow."""
        self._library_tables: dict[int, Any] = {}
        """The same without the excluded ones: the map the library reads events against."""
        self._parsed: dict[bytes, Any] = {}
        """table map body -> its Table (or _EXCLUDED): each distinct map is parsed once."""
        self._format_description: bytes | None = None

    def restart(self, log_file: str, format_description: bytes | None) -> None:
        """Decode a batch of payloads cut from the stream elsewhere: its table maps come with
        it, it begins in ``log_file``, after ``format_description`` (read here once each)."""
        self.log_file = log_file
        self._standalone = False
        self._tables.clear()
        self._library_tables.clear()
        if format_description is not None and format_description != self._format_description:
            self._library_event(format_description)
            self._format_description = format_description

    def decode(self, payload: bytes) -> Iterator[SourceEvent]:
        """The source events of one binlog payload (its first byte is the OK marker)."""
        header = parse_header(payload)
        code = header.type_code
        if code == TABLE_MAP:
            self._table_map(payload, event_body(payload, header, self._checksum))
            return
        coordinates = BinlogCoordinates(self.log_file, header.next_position)
        if code in ROWS_KIND:
            images = self._rows(payload, header, event_body(payload, header, self._checksum),
                                coordinates)
            if images is not None:
                yield images
        elif code == MARIADB_GTID:
            sequence, domain, flags = parse_mariadb_gtid(
                event_body(payload, header, self._checksum))
            self._standalone = bool(flags & _FL_STANDALONE)
            yield TransactionBegin(parse_gtid(f"{domain}-{header.server_id}-{sequence}"),
                                   header.timestamp * 1_000_000, self._standalone)
        elif code == XID:
            yield TransactionCommit(coordinates)
        elif code == QUERY:
            schema, statement = parse_query(event_body(payload, header, self._checksum))
            yield from _query(schema, statement.strip(), coordinates, self._standalone)
            self._standalone = False
        elif code == ROTATE:
            _, self.log_file = parse_rotate(event_body(payload, header, self._checksum))
        elif code == HEARTBEAT:
            yield SourceIdle(coordinates)
        else:
            event = self._library_event(payload)
            if isinstance(event, GtidEvent):
                self._standalone = _is_standalone(event)
                yield TransactionBegin(parse_gtid(event.gtid), _commit_time_us(event),
                                       self._standalone)
            elif isinstance(event, RowsEvent):
                yield _row_images(event, coordinates)

    def _table_map(self, payload: bytes, view: memoryview) -> None:
        # The body leaves out the header and checksum, which differ from event to event.
        body = bytes(view)
        table = self._parsed.get(body)
        if table is None:
            event = self._library_event(payload)
            # The event's final table object, as the library's own loop stores it.
            table = _EXCLUDED if event is None else event.get_table()
            if len(self._parsed) >= _TABLE_CACHE_LIMIT:
                self._parsed.clear()
            self._parsed[body] = table
        table_id = table_id_of(body)
        self._tables[table_id] = table
        if table is _EXCLUDED:
            self._library_tables.pop(table_id, None)
        else:
            self._library_tables[table_id] = table

    def _rows(self, payload: bytes, header: EventHeader, body: memoryview,
              coordinates: BinlogCoordinates) -> RowImages | None:
        rows = parse_rows(header.type_code, body)
        table = self._tables.get(rows.table_id)
        if table is _EXCLUDED:
            return None  # a table of a database capture leaves out
        if table is None:
            # The server writes a table's map before its rows in every transaction; skipping
            # rows whose map never came would lose them without a word.
            raise SourceStreamError(
                f"a rows event for table id {rows.table_id} came without its table map "
                f"(ending at {coordinates.file}:{coordinates.position})",
                "capture resumes from the changelog; if this repeats, report it with the "
                "binlog position")
        plan = row_plan_of(table)
        if plan is None:
            return _row_images(self._library_event(payload), coordinates)
        kind = ROWS_KIND[header.type_code]
        fast = fast_plan_of(table)
        if fast is not None:
            require_full_images(plan, rows.present, rows.present_after)
            encoded = encode_rows(fast, kind, rows.rows)
            if encoded is not None:
                return RowImages(Operation(kind), table.schema, table.table, plan.columns,
                                 primary_key_of(table), (), coordinates, tuple(encoded))
        images = decode_rows(plan, kind, bytes(rows.rows), bytes(rows.present),
                             None if rows.present_after is None else bytes(rows.present_after))
        return RowImages(Operation(kind), table.schema, table.table, plan.columns,
                         primary_key_of(table), tuple(images), coordinates)

    def _library_event(self, payload: bytes) -> Any:
        """The library's reading of one payload. Table maps are read against the map of the
        tables seen so far, as the library's own loop does."""
        settings = self._settings
        wrapper = BinLogPacketWrapper(MysqlPacket(payload, settings.charset),
                                      self._library_tables, self._control,
                                      settings.mysql_version, *settings.wrapper_arguments)
        if wrapper.event_type == FORMAT_DESCRIPTION and wrapper.event is not None:
            self._format_description = payload
            settings.mysql_version = wrapper.event.mysql_version
            settings.wrapper_arguments[POST_HEADER_LENGTHS] = wrapper.event.post_header_len
        return wrapper.event


def _is_standalone(event: Any) -> bool:
    flags = getattr(event, "flags", 0) or 0
    return bool(flags & _FL_STANDALONE)


def _commit_time_us(event: Any) -> int:
    # MySQL 8 stamps the GTID event with the commit time in microseconds; MariaDB writes the
    # GTID event at commit, in whole seconds.
    precise = getattr(event, "original_commit_timestamp", None)
    if precise:
        return int(precise)
    return int(event.timestamp) * 1_000_000


def _query(schema: str, statement: str, coordinates: BinlogCoordinates,
           standalone: bool) -> Iterator[SourceEvent]:
    verb = statement.upper()
    if verb in ("BEGIN", "XA START"):
        return
    if verb in ("COMMIT", "ROLLBACK") or verb.startswith("XA COMMIT"):
        yield TransactionCommit(coordinates)
        return
    yield QueryStatement(schema, statement, coordinates)
    if standalone:
        yield TransactionCommit(coordinates)


def _row_images(event: Any, coordinates: BinlogCoordinates) -> RowImages:
    """Rows the library decoded: tables ``row_decoder`` does not read, partial JSON updates."""
    table = event.table_map[event.table_id]
    columns = columns_from_table_map(table)
    operation = _OPERATIONS[type(event)]
    return RowImages(operation, event.schema, event.table, columns, primary_key_of(table),
                     tuple(_library_images(event, columns)), coordinates)


def _library_images(event: Any, columns: tuple[Column, ...]) -> list[Image]:
    """Rows the library decodes itself: the tables ``row_decoder`` does not read."""
    images: list[Image] = []
    for row in event.rows:
        if isinstance(event, WriteRowsEvent):
            images.append((None, canonical_row(columns, row["values"], row["none_sources"])))
        elif isinstance(event, DeleteRowsEvent):
            images.append((canonical_row(columns, row["values"], row["none_sources"]), None))
        else:
            images.append((
                canonical_row(columns, row["before_values"], row["before_none_sources"]),
                canonical_row(columns, row["after_values"], row["after_none_sources"]),
            ))
    return images
