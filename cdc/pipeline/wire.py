"""Source events as plain tuples, for the pipe from a worker to the capture process. Pure.

Tuples are what pickle reads back fastest, and a table's columns go over once per worker
under a number instead of with every rows event: reading back the ``Column`` values of every
rows event was most of what receiving a batch cost.
"""

from __future__ import annotations

from typing import Any

from cdc.binlog.events import (
    BinlogCoordinates,
    QueryStatement,
    RowImages,
    SourceEvent,
    SourceIdle,
    TransactionBegin,
    TransactionCommit,
)
from cdc.changes import Column, Operation
from cdc.position import Gtid

Wire = tuple[Any, ...]
_BEGIN, _ROWS, _QUERY, _COMMIT, _IDLE, _SHAPE = range(6)
_OPERATIONS = {operation.value: operation for operation in Operation}


class ShapeNumbers:
    """The worker's side: a number for each distinct columns tuple it has sent."""

    def __init__(self) -> None:
        self._numbers: dict[int, tuple[int, tuple[Column, ...]]] = {}

    def number(self, columns: tuple[Column, ...], out: list[Wire]) -> int:
        # By identity: a table map's columns are one tuple for as long as the map is cached
        # (kept alive here, so its id is not reused).
        known = self._numbers.get(id(columns))
        if known is not None and known[1] is columns:
            return known[0]
        number = len(self._numbers)
        self._numbers[id(columns)] = (number, columns)
        out.append((_SHAPE, number, columns))
        return number


def to_wire(events: list[SourceEvent], shapes: ShapeNumbers) -> list[Wire]:
    out: list[Wire] = []
    for event in events:
        match event:
            case RowImages():
                shape = shapes.number(event.columns, out)
                out.append((_ROWS, event.operation.value, event.database, event.table, shape,
                            event.primary_key, event.images, event.encoded,
                            event.coordinates.file, event.coordinates.position))
            case TransactionBegin():
                gtid = event.gtid
                out.append((_BEGIN, gtid.domain, gtid.server_id, gtid.sequence,
                            event.commit_time_us, event.standalone))
            case TransactionCommit():
                out.append((_COMMIT, event.coordinates.file, event.coordinates.position))
            case QueryStatement():
                out.append((_QUERY, event.database, event.statement, event.coordinates.file,
                            event.coordinates.position))
            case SourceIdle():
                out.append((_IDLE, event.coordinates.file, event.coordinates.position))
    return out


class ShapeTable:
    """The capture process's side, one per worker: the columns tuples by number."""

    def __init__(self) -> None:
        self._shapes: dict[int, tuple[Column, ...]] = {}

    def from_wire(self, items: list[Wire]) -> list[SourceEvent]:
        events: list[SourceEvent] = []
        shapes = self._shapes
        for item in items:
            kind = item[0]
            if kind == _ROWS:
                (_, operation, database, table, shape, key, images, encoded, file,
                 position) = item
                events.append(RowImages(_OPERATIONS[operation], database, table, shapes[shape],
                                        key, images, BinlogCoordinates(file, position),
                                        encoded))
            elif kind == _BEGIN:
                events.append(TransactionBegin(Gtid(item[1], item[2], item[3]), item[4],
                                               item[5]))
            elif kind == _COMMIT:
                events.append(TransactionCommit(BinlogCoordinates(item[1], item[2])))
            elif kind == _QUERY:
                events.append(QueryStatement(item[1], item[2],
                                             BinlogCoordinates(item[3], item[4])))
            elif kind == _IDLE:
                events.append(SourceIdle(BinlogCoordinates(item[1], item[2])))
            elif kind == _SHAPE:
                shapes[item[1]] = item[2]
        return events
