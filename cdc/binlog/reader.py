"""Reads the source's binlog as a replica and yields source events (the library's boundary).

Only the ``cdc.binlog`` package imports mysql-replication. Two of its habits are switched
off here: it reconnects by itself after a lost connection, restarting from the *original*
position (which would repeat events), so lost connections are raised instead and capture
resumes from the changelog; and its decoders of a few types are corrected by
``library_fixes``. The library connects and registers the replica and reads new table maps;
MariaDB's common events are parsed by ``event_parser`` and rows decoded by ``row_decoder``,
which is several times faster than the library's per-event and per-value path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymysql
from pymysqlreplication import BinLogStreamReader, binlogstream
from pymysqlreplication.event import (
    GtidEvent,
    HeartbeatLogEvent,
    MariadbGtidEvent,
    QueryEvent,
    RotateEvent,
    XidEvent,
)
from pymysqlreplication.packet import BinLogPacketWrapper
from pymysqlreplication.row_event import (
    DeleteRowsEvent,
    PartialUpdateRowsEvent,
    RowsEvent,
    UpdateRowsEvent,
    WriteRowsEvent,
)

from cdc.binlog import library_fixes
from cdc.binlog.columns import (
    columns_from_table_map,
    fast_plan_of,
    primary_key_of,
    row_plan_of,
)
from cdc.binlog.event_parser import (
    FORMAT_DESCRIPTION,
    HEADER_SIZE,
    HEARTBEAT,
    MARIADB_GTID,
    QUERY,
    ROTATE,
    ROWS_KIND,
    TABLE_MAP,
    XID,
    EventHeader,
    MalformedEventError,
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
from cdc.dsn import Dsn
from cdc.errors import CdcError, SourceStreamError
from cdc.position import GtidPosition, parse_gtid
from cdc.values import canonical_row

_OPERATIONS = {WriteRowsEvent: Operation.INSERT, UpdateRowsEvent: Operation.UPDATE,
               PartialUpdateRowsEvent: Operation.UPDATE, DeleteRowsEvent: Operation.DELETE}
# MariaDB's Gtid_log_event flag for a statement with no BEGIN/COMMIT around it (DDL).
_FL_STANDALONE = 1
_EVENTS = [MariadbGtidEvent, GtidEvent, QueryEvent, XidEvent, RotateEvent, HeartbeatLogEvent,
           WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, PartialUpdateRowsEvent]
# The reader builds the library's event wrapper itself for the packets it leaves to the
# library, with the stream's own settings (name-mangled attributes of BinLogStreamReader, in
# the order BinLogPacketWrapper takes them after the server version).
_PRIVATE = "_BinLogStreamReader__"
_WRAPPER_SETTINGS = ("use_checksum", "allowed_events_in_packet", "only_tables", "ignored_tables",
                     "only_schemas", "ignored_schemas", "freeze_schema", "ignore_decode_errors",
                     "verify_checksum", "optional_meta_data", "enable_logging",
                     "use_column_name_cache", "post_header_lengths")

binlogstream.MYSQL_EXPECTED_ERROR_CODES = []
library_fixes.install()


class SourceConnectionError(CdcError):
    """The binlog connection failed or was lost; capture reconnects with backoff."""


class BinlogSource:
    def __init__(self, dsn: Dsn, replica_server_id: int, start: GtidPosition,
                 heartbeat_s: float = 0.5, only_databases: list[str] | None = None) -> None:
        settings = {"host": dsn.host, "port": dsn.port, "user": dsn.user,
                    "password": dsn.password, "charset": "utf8mb4"}
        self._stream = BinLogStreamReader(
            connection_settings=settings,
            server_id=replica_server_id,
            is_mariadb=True,
            auto_position=str(start),
            blocking=True,
            resume_stream=True,
            only_events=_EVENTS,
            slave_heartbeat=heartbeat_s,
            # MariaDB sends a table map before every rows event; parsing each one again was a
            # quarter of capture's time. Maps are forgotten at every statement that could
            # change a table (see events()), so a cached map never outlives its table's shape.
            freeze_schema=True,
            # Rows of other databases are then skipped undecoded; GTID, commit and DDL
            # events still arrive, so positions stay exact.
            only_schemas=only_databases,
        )
        self._excluded_table_ids: set[int] = set()

    def close(self) -> None:
        self._stream.close()

    def events(self) -> Iterator[SourceEvent]:
        try:
            yield from self._events()
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as exc:
            raise SourceConnectionError(
                f"lost the binlog connection: {exc}",
                "capture reconnects with backoff and resumes from the last committed record",
            ) from exc
        except MalformedEventError as exc:
            raise SourceStreamError(
                f"a binlog event could not be read: {exc}",
                "capture resumes from the last committed record; if this repeats at the same "
                "position, the source's binlog is damaged there") from exc

    def _events(self) -> Iterator[SourceEvent]:
        """Source events, parsed by ``event_parser`` where MariaDB's layouts are simple and by
        the library otherwise (new table maps, MySQL's GTID events, partial JSON updates)."""
        stream = self._stream
        connection = self._connect()
        checksum = bool(getattr(stream, _PRIVATE + "use_checksum"))
        log_file = ""
        standalone = False
        while True:
            packet = connection._read_packet()
            if packet.is_eof_packet():
                return  # the server ended the stream; capture reconnects
            if not packet.is_ok_packet():
                continue
            data: bytes = packet._data
            header = parse_header(data)
            code = header.type_code
            if code == TABLE_MAP:
                self._table_map(packet, data)
                continue
            coordinates = BinlogCoordinates(log_file, header.next_position)
            if code in ROWS_KIND:
                images = self._rows(packet, header, event_body(data, header, checksum),
                                    coordinates)
                if images is not None:
                    yield images
            elif code == MARIADB_GTID:
                sequence, domain, flags = parse_mariadb_gtid(event_body(data, header, checksum))
                standalone = bool(flags & _FL_STANDALONE)
                yield TransactionBegin(parse_gtid(f"{domain}-{header.server_id}-{sequence}"),
                                       header.timestamp * 1_000_000, standalone)
            elif code == XID:
                yield TransactionCommit(coordinates)
            elif code == QUERY:
                schema, statement = parse_query(event_body(data, header, checksum))
                statement = statement.strip()
                if not _is_transaction_control(statement):
                    self._forget_tables()
                yield from _query(schema, statement, coordinates, standalone)
                standalone = False
            elif code == ROTATE:
                _, log_file = parse_rotate(event_body(data, header, checksum))
                # A timestamped rotate can mean the source restarted, and table ids are not
                # kept across restarts (the library does the same).
                if header.timestamp:
                    self._forget_tables()
            elif code == HEARTBEAT:
                yield SourceIdle(coordinates)
            else:
                event = self._library_event(packet)
                if isinstance(event, GtidEvent):
                    standalone = _is_standalone(event)
                    yield TransactionBegin(parse_gtid(event.gtid), _commit_time_us(event),
                                           standalone)
                elif isinstance(event, RowsEvent):
                    yield _row_images(event, coordinates)

    def _connect(self) -> Any:
        stream = self._stream
        getattr(stream, _PRIVATE + "connect_to_stream")()
        getattr(stream, _PRIVATE + "connect_to_ctl")()
        return stream._stream_connection

    def _forget_tables(self) -> None:
        self._stream.table_map.clear()
        self._excluded_table_ids.clear()

    def _table_map(self, packet: Any, data: bytes) -> None:
        table_id = table_id_of(data[1 + HEADER_SIZE:])
        if table_id in self._stream.table_map or table_id in self._excluded_table_ids:
            return  # known already: maps are forgotten at every statement that could change one
        event = self._library_event(packet)
        if event is None:  # a database capture leaves out
            self._excluded_table_ids.add(table_id)
        else:  # the event's final table object, as the library's own loop stores it
            self._stream.table_map[table_id] = event.get_table()

    def _rows(self, packet: Any, header: EventHeader, body: bytes,
              coordinates: BinlogCoordinates) -> RowImages | None:
        rows = parse_rows(header.type_code, body)
        table = self._stream.table_map.get(rows.table_id)
        if table is None:
            return None  # a table of a database capture leaves out
        plan = row_plan_of(table)
        if plan is None:
            return _row_images(self._library_event(packet), coordinates)
        kind = ROWS_KIND[header.type_code]
        fast = fast_plan_of(table)
        if fast is not None:
            require_full_images(plan, rows.present, rows.present_after)
            encoded = encode_rows(fast, kind, rows.rows)
            if encoded is not None:
                return RowImages(Operation(kind), table.schema, table.table, plan.columns,
                                 primary_key_of(table), (), coordinates, tuple(encoded))
        images = decode_rows(plan, kind, rows.rows, rows.present, rows.present_after)
        return RowImages(Operation(kind), table.schema, table.table, plan.columns,
                         primary_key_of(table), tuple(images), coordinates)

    def _library_event(self, packet: Any) -> Any:
        """The library's reading of one packet (it updates the table map for table maps)."""
        stream = self._stream
        settings = [getattr(stream, _PRIVATE + name) for name in _WRAPPER_SETTINGS]
        wrapper = BinLogPacketWrapper(packet, stream.table_map, stream._ctl_connection,
                                      stream.mysql_version, *settings)
        if wrapper.event_type == FORMAT_DESCRIPTION and wrapper.event is not None:
            stream.mysql_version = wrapper.event.mysql_version
            setattr(stream, _PRIVATE + "post_header_lengths", wrapper.event.post_header_len)
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


def _is_transaction_control(statement: str) -> bool:
    verb = statement.upper()
    return verb in ("BEGIN", "COMMIT", "ROLLBACK") or verb.startswith("XA ")


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
