"""What the binlog reader hands to the capture loop: source events in binlog order, already
turned into canonical values. Pure value types; only ``reader.py`` knows the binlog library."""

from __future__ import annotations

from dataclasses import dataclass

from cdc.changes import Column, Operation, Row
from cdc.position import Gtid

EncodedImages = tuple[bytes | None, bytes | None, bytes | None]
"""(before, after, key) of one row change as Avro bytes: the row schema's encoding of each
image (None where there is none) and the key schema's encoding of the key (None without
one)."""


@dataclass(frozen=True)
class BinlogCoordinates:
    file: str
    position: int
    """The byte offset just past the event."""


@dataclass(frozen=True)
class TransactionBegin:
    gtid: Gtid
    commit_time_us: int
    """MariaDB writes a transaction's GTID event at commit, stamped with the commit time."""
    standalone: bool
    """A single statement (DDL) with no BEGIN/COMMIT around it."""


@dataclass(frozen=True)
class RowImages:
    operation: Operation
    database: str
    table: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    images: tuple[tuple[Row | None, Row | None], ...]
    """(before, after) per row: before is None for inserts, after is None for deletes."""
    coordinates: BinlogCoordinates
    encoded: tuple[EncodedImages, ...] | None = None
    """Set instead of ``images`` (then empty) when the fast path encoded the rows already."""


@dataclass(frozen=True)
class QueryStatement:
    database: str
    statement: str
    coordinates: BinlogCoordinates


@dataclass(frozen=True)
class TransactionCommit:
    coordinates: BinlogCoordinates


@dataclass(frozen=True)
class SourceIdle:
    """The source sent a heartbeat: nothing new was committed for a while."""

    coordinates: BinlogCoordinates


SourceEvent = TransactionBegin | RowImages | QueryStatement | TransactionCommit | SourceIdle
