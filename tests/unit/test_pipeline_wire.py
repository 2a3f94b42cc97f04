"""Source events through the pipe from a worker: the same events back, columns sent once."""

from __future__ import annotations

import pickle

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
from cdc.pipeline.wire import ShapeNumbers, ShapeTable, to_wire
from cdc.position import parse_gtid

COLUMNS = (Column("id", "bigint", unsigned=True), Column("note", "text", charset="utf8mb4"))
AT = BinlogCoordinates("mariadb-bin.000003", 4711)


def test_every_kind_of_event_comes_back_equal() -> None:
    events: list[SourceEvent] = [
        TransactionBegin(parse_gtid("0-1001-9"), 1_700_000_000_000_000, False),
        RowImages(Operation.INSERT, "shop", "t", COLUMNS, ("id",), ((None, {"id": 1,
                                                                          "note": "é"}),), AT),
        RowImages(Operation.UPDATE, "shop", "t", COLUMNS, ("id",), (), AT,
                  ((b"\x02\x02", b"\x02\x04", b"\x04k"),)),
        QueryStatement("shop", "ALTER TABLE t ADD c INT", AT),
        TransactionCommit(AT),
        SourceIdle(AT),
    ]
    sent = pickle.loads(pickle.dumps(to_wire(events, ShapeNumbers())))
    assert ShapeTable().from_wire(sent) == events


def test_a_tables_columns_go_over_once_per_worker() -> None:
    numbers, table = ShapeNumbers(), ShapeTable()
    rows = RowImages(Operation.DELETE, "shop", "t", COLUMNS, ("id",), (), AT,
                     ((b"\x02\x02", None, b"\x04k"),))
    first = to_wire([rows], numbers)
    second = to_wire([rows, rows], numbers)
    assert len(first) == 2, "the columns, then the rows"
    assert len(second) == 2, "only the rows"
    back = table.from_wire(first) + table.from_wire(second)
    assert back == [rows] * 3
    columns = [event.columns for event in back if isinstance(event, RowImages)]
    assert all(shape is columns[0] for shape in columns)
