"""What travels between capture's processes, and how the binlog is cut into batches. Pure.

The reader cuts the stream of event payloads into numbered batches; a batch is decoded by a
worker on its own, so it carries the state decoding needs from before it: the binlog file
its first event is in, the last format description, and, when it begins inside a transaction,
that transaction's table maps (MariaDB writes a table's map once per statement, so rows events
of a long statement may sit batches away from it). Batches are cut before a transaction's GTID
event once they are large; a transaction larger than a batch is cut before one of its table
maps or rows events, never between a DDL's GTID event and its statement (nor when the
connection has nothing more ready).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdc.binlog.event_parser import (
    HEADER_SIZE,
    MARIADB_GTID,
    ROTATE,
    ROWS_KIND,
    TABLE_MAP,
    XID,
    event_body,
    parse_header,
    parse_rotate,
)
from cdc.errors import CdcError

_FORMAT_DESCRIPTION = 15
_TYPE_AT = 1 + 4  # the OK marker, then the event's 4-byte timestamp
_CUT_INSIDE_BEFORE = frozenset({TABLE_MAP, *ROWS_KIND})


@dataclass(frozen=True)
class RawBatch:
    sequence: int
    log_file: str
    """The binlog file the first payload is in (a rotate inside the batch moves it on)."""
    settings: Any
    """The stream's decoding settings (``event_decoder.LibrarySettings``) when it was cut."""
    format_description: bytes | None
    """The last format description before the batch, for the worker to read first."""
    payloads: tuple[bytes, ...]
    """Event payloads, the carried table maps first."""
    end: ErrorReport | None = None
    """Set on the last batch of a stream that ended: why it ended."""


@dataclass(frozen=True)
class ErrorReport:
    """An error raised in a child process, to be raised again in the capture process in its
    place in the stream (after the events before it)."""

    kind: str
    message: str
    hint: str

    @staticmethod
    def of(exc: BaseException) -> ErrorReport:
        if isinstance(exc, CdcError):
            return ErrorReport(type(exc).__name__, exc.message, exc.hint)
        return ErrorReport("internal", f"{type(exc).__name__}: {exc}",
                           "this is a bug; capture resumes from the last committed record "
                           "when started again")


@dataclass(frozen=True)
class DecodedBatch:
    sequence: int
    events: list[Any]
    """The batch's source events in binlog order, as ``wire`` tuples."""
    error: ErrorReport | None = None
    """Why decoding (or the stream) stopped after ``events``."""


@dataclass
class Batcher:
    """Cuts payloads into batches: ``add`` each payload, ``flush`` when the connection has
    nothing more ready (so a quiet source's transactions are not held back)."""

    target_bytes: int = 1 << 20
    """A batch this large ends before the next transaction."""
    limit_bytes: int = 8 << 20
    """A batch this large ends even inside a transaction."""
    log_file: str = ""
    settings: Any = None
    checksum: bool = False
    _sequence: int = 0
    _payloads: list[bytes] = field(default_factory=list)
    _size: int = 0
    _batch_log_file: str = ""
    _format_description: bytes | None = None
    _batch_format_description: bytes | None = None
    _transaction_maps: dict[bytes, bytes] = field(default_factory=dict)
    """Table maps of the open transaction, by table id bytes: carried into the next batch
    unless it begins with a transaction."""

    def add(self, payload: bytes) -> RawBatch | None:
        """Take the next payload; returns a full batch to send, if one is."""
        code = payload[_TYPE_AT]
        full = None
        if self._payloads and (
                (code == MARIADB_GTID and self._size >= self.target_bytes)
                or (self._size >= self.limit_bytes and code in _CUT_INSIDE_BEFORE)):
            full = self._cut(inside=code != MARIADB_GTID)
        if not self._payloads:
            self._batch_log_file = self.log_file
            self._batch_format_description = self._format_description
        self._payloads.append(payload)
        self._size += len(payload)
        if code in (MARIADB_GTID, XID):
            self._transaction_maps.clear()
        elif code == TABLE_MAP:
            self._transaction_maps[payload[1 + HEADER_SIZE:1 + HEADER_SIZE + 6]] = payload
        elif code == ROTATE:
            self.log_file = _rotate_target(payload, self.checksum)
        elif code == _FORMAT_DESCRIPTION:
            self._format_description = payload
        return full

    def flush(self) -> RawBatch | None:
        """The batch so far, if it holds anything (a transaction may be open: its table maps
        go on into the next batch), less a GTID event at its end, which waits for the event
        after it: a DDL's statement ends its transaction only by the flags of its GTID event,
        which its worker must see. Cut between the two, the statement was decoded as one
        inside an open transaction, and the next GTID stopped capture, at the same place
        after every restart."""
        if not self._payloads:
            return None
        if self._payloads[-1][_TYPE_AT] != MARIADB_GTID:
            return self._cut(inside=True)
        if len(self._payloads) == 1:
            return None
        gtid = self._payloads.pop()
        self._size -= len(gtid)
        batch = self._cut(inside=False)  # before a GTID event: between two transactions
        self._payloads.append(gtid)
        self._size += len(gtid)
        return batch

    def end(self, report: ErrorReport) -> RawBatch:
        """The stream's last batch: what is left, and why it ended."""
        return self._cut(inside=False, end=report)

    def _cut(self, *, inside: bool, end: ErrorReport | None = None) -> RawBatch:
        batch = RawBatch(self._sequence, self._batch_log_file, self.settings,
                         self._batch_format_description, tuple(self._payloads), end)
        self._sequence += 1
        self._payloads = list(self._transaction_maps.values()) if inside else []
        self._size = sum(len(p) for p in self._payloads)
        self._batch_log_file = self.log_file
        self._batch_format_description = self._format_description
        return batch


def _rotate_target(payload: bytes, checksum: bool) -> str:
    return parse_rotate(event_body(payload, parse_header(payload), checksum))[1]
