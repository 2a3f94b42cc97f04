"""Reads the source's binlog as a replica and yields source events (the library's boundary).

Only the ``cdc.binlog`` package imports mysql-replication. Two of its habits are switched
off here: it reconnects by itself after a lost connection, restarting from the *original*
position (which would repeat events), so lost connections are raised instead and capture
resumes from the changelog; and its decoders of a few types are corrected by
``library_fixes``.
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
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from cdc.binlog import library_fixes
from cdc.binlog.columns import columns_from_table_map, primary_key_of, row_plan_of
from cdc.binlog.events import (
    BinlogCoordinates,
    QueryStatement,
    RowImages,
    SourceEvent,
    SourceIdle,
    TransactionBegin,
    TransactionCommit,
)
from cdc.binlog.row_decoder import Image, decode_rows
from cdc.changes import Column, Operation
from cdc.dsn import Dsn
from cdc.errors import CdcError
from cdc.position import GtidPosition, parse_gtid
from cdc.values import canonical_row

_OPERATIONS = {WriteRowsEvent: Operation.INSERT, UpdateRowsEvent: Operation.UPDATE,
               DeleteRowsEvent: Operation.DELETE}
# MySQL 8's partial JSON updates carry a different row layout; the library reads those.
_PARTIAL_UPDATE_ROWS_EVENT = 39
# MariaDB's Gtid_log_event flag for a statement with no BEGIN/COMMIT around it (DDL).
_FL_STANDALONE = 1
_EVENTS = [MariadbGtidEvent, GtidEvent, QueryEvent, XidEvent, RotateEvent, HeartbeatLogEvent,
           WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent]

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

    def close(self) -> None:
        self._stream.close()

    def events(self) -> Iterator[SourceEvent]:
        standalone = False
        try:
            for event in self._stream:
                coordinates = BinlogCoordinates(self._stream.log_file or "",
                                                int(event.packet.log_pos or 0))
                match event:
                    case MariadbGtidEvent() | GtidEvent():
                        standalone = _is_standalone(event)
                        yield TransactionBegin(parse_gtid(event.gtid), _commit_time_us(event),
                                               standalone)
                    case XidEvent():
                        yield TransactionCommit(coordinates)
                    case QueryEvent():
                        if not _is_transaction_control(event):
                            self._stream.table_map.clear()
                        yield from _query(event, coordinates, standalone)
                        standalone = False
                    case WriteRowsEvent() | UpdateRowsEvent() | DeleteRowsEvent():
                        yield _row_images(event, coordinates)
                    case HeartbeatLogEvent():
                        yield SourceIdle(coordinates)
                    case _:
                        pass  # rotate events: the library follows them into the next file
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as exc:
            raise SourceConnectionError(
                f"lost the binlog connection: {exc}",
                "capture reconnects with backoff and resumes from the last committed record",
            ) from exc


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


def _statement_text(event: Any) -> str:
    query = event.query
    return (query if isinstance(query, str) else query.decode()).strip()


def _is_transaction_control(event: Any) -> bool:
    verb = _statement_text(event).upper()
    return verb in ("BEGIN", "COMMIT", "ROLLBACK") or verb.startswith("XA ")


def _query(event: Any, coordinates: BinlogCoordinates,
           standalone: bool) -> Iterator[SourceEvent]:
    statement = _statement_text(event)
    verb = statement.upper()
    if verb in ("BEGIN", "XA START"):
        return
    if verb in ("COMMIT", "ROLLBACK") or verb.startswith("XA COMMIT"):
        yield TransactionCommit(coordinates)
        return
    schema = event.schema.decode() if isinstance(event.schema, bytes) else str(event.schema)
    yield QueryStatement(schema, statement, coordinates)
    if standalone:
        yield TransactionCommit(coordinates)


def _row_images(event: Any, coordinates: BinlogCoordinates) -> RowImages:
    table = event.table_map[event.table_id]
    operation = _OPERATIONS[type(event)]
    plan = row_plan_of(table)
    if plan is not None and event.event_type != _PARTIAL_UPDATE_ROWS_EVENT:
        packet = event.packet
        body = packet.read(event.event_size - packet.read_bytes)
        images = decode_rows(plan, operation.value, body, event.columns_present_bitmap,
                             getattr(event, "columns_present_bitmap2", None))
        columns = plan.columns
    else:
        columns = columns_from_table_map(table)
        images = _library_images(event, columns)
    return RowImages(operation, event.schema, event.table, columns, primary_key_of(table),
                     tuple(images), coordinates)


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
