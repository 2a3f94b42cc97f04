"""Reads the source's binlog as a replica (the library's boundary for the connection).

Only the ``cdc.binlog`` package imports mysql-replication. The library connects, registers
the replica and asks for the binlog from a GTID position; from there the connection's bytes
are read here in large chunks and cut into packets (``packets``), and ``event_decoder`` turns
the payloads into source events. Two of the library's habits are switched off: it reconnects
by itself after a lost connection, restarting from the *original* position (which would
repeat events), so lost connections are raised instead and capture resumes from the
changelog; and its decoders of a few types are corrected by ``library_fixes``.

``payload_chunks()`` gives the raw event payloads as they arrive, for a reader process that
hands them to decoding workers; ``events()`` decodes them in this process.
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
from pymysqlreplication.row_event import (
    DeleteRowsEvent,
    PartialUpdateRowsEvent,
    UpdateRowsEvent,
    WriteRowsEvent,
)

from cdc.binlog.event_decoder import WRAPPER_SETTINGS, EventDecoder, LibrarySettings
from cdc.binlog.event_parser import MalformedEventError
from cdc.binlog.events import SourceEvent
from cdc.binlog.packets import PacketSequenceError, PacketSplitter
from cdc.dsn import Dsn
from cdc.errors import CdcError, SourceStreamError
from cdc.position import GtidPosition
from cdc.tls_settings import pymysql_tls

_EVENTS = [MariadbGtidEvent, GtidEvent, QueryEvent, XidEvent, RotateEvent, HeartbeatLogEvent,
           WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, PartialUpdateRowsEvent]
_PRIVATE = "_BinLogStreamReader__"
_CHUNK_BYTES = 1 << 20
_OK, _EOF, _ERROR = 0x00, 0xFE, 0xFF

binlogstream.MYSQL_EXPECTED_ERROR_CODES = []


class SourceConnectionError(CdcError):
    """The binlog connection failed or was lost; capture reconnects with backoff."""


class BinlogSource:
    def __init__(self, dsn: Dsn, replica_server_id: int, start: GtidPosition,
                 heartbeat_s: float = 0.5, only_databases: list[str] | None = None) -> None:
        settings = {"host": dsn.host, "port": dsn.port, "user": dsn.user,
                    "password": dsn.password, "charset": "utf8mb4", **pymysql_tls(dsn)}
        self._stream = BinLogStreamReader(
            connection_settings=settings,
            server_id=replica_server_id,
            is_mariadb=True,
            auto_position=str(start),
            blocking=True,
            resume_stream=True,
            only_events=_EVENTS,
            slave_heartbeat=heartbeat_s,
            # Rows of other databases are then skipped undecoded; GTID, commit and DDL
            # events still arrive, so positions stay exact.
            only_schemas=only_databases,
        )

    def close(self) -> None:
        self._stream.close()

    @property
    def checksum(self) -> bool:
        return bool(getattr(self._stream, _PRIVATE + "use_checksum"))

    def library_settings(self) -> LibrarySettings:
        """What decoding needs of the stream's settings (once the stream is connected)."""
        stream = self._stream
        return LibrarySettings(tuple(stream.mysql_version),
                               [getattr(stream, _PRIVATE + name) for name in WRAPPER_SETTINGS])

    def events(self) -> Iterator[SourceEvent]:
        """Source events in binlog order, decoded here."""
        decoder: EventDecoder | None = None
        try:
            for chunk in self.payload_chunks():
                if decoder is None:
                    decoder = EventDecoder(self.library_settings(), self.checksum)
                for payload in chunk:
                    yield from decoder.decode(payload)
        except MalformedEventError as exc:
            raise damaged_stream_error(exc) from exc

    def payload_chunks(self) -> Iterator[list[bytes]]:
        """The binlog event payloads (each starting with the OK marker) in order, in the
        groups one read of the connection delivered; ends when the server ends the stream. A
        lost connection or a server error raises SourceConnectionError."""
        try:
            connection = self._connect()
            splitter = PacketSplitter(connection._next_seq_id)
            read = connection._rfile.read1
            while True:
                chunk = read(_CHUNK_BYTES)
                if not chunk:
                    raise SourceConnectionError(
                        "the source closed the binlog connection",
                        "capture reconnects with backoff and resumes from the last committed "
                        "record")
                payloads = []
                for payload in splitter.feed(chunk):
                    marker = payload[0]
                    if marker == _OK:
                        payloads.append(payload)
                    elif marker == _EOF and len(payload) < 9:
                        if payloads:
                            yield payloads
                        return  # the server ended the stream; capture reconnects
                    elif marker == _ERROR:
                        if payloads:
                            yield payloads
                        raise SourceConnectionError(
                            f"the source ended the binlog stream with error {_error_text(payload)}",
                            "capture reconnects with backoff and resumes from the last "
                            "committed record; its start-up checks say whether the binlog "
                            "it needs is still there")
                if payloads:
                    yield payloads
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError) as exc:
            raise SourceConnectionError(
                f"lost the binlog connection: {exc}",
                "capture reconnects with backoff and resumes from the last committed record",
            ) from exc
        except PacketSequenceError as exc:
            raise SourceStreamError(f"the binlog stream is out of step: {exc}",
                                    "capture resumes from the last committed record") from exc

    def _connect(self) -> Any:
        stream = self._stream
        getattr(stream, _PRIVATE + "connect_to_stream")()
        getattr(stream, _PRIVATE + "connect_to_ctl")()
        return stream._stream_connection


def damaged_stream_error(exc: MalformedEventError) -> SourceStreamError:
    return SourceStreamError(
        f"a binlog event could not be read: {exc}",
        "capture resumes from the last committed record; if this repeats at the same "
        "position, the source's binlog is damaged there")


def _error_text(payload: bytes) -> str:
    code = int.from_bytes(payload[1:3], "little")
    message = payload[9:] if payload[3:4] == b"#" else payload[3:]
    return f"{code}: {message.decode('utf-8', 'replace')}"
