"""The binlog library alone: how fast it turns a range of the binlog into Python rows.

This is the ceiling of anything built on the library in one process: capture reads the
binlog through the same library and then does more with every row. The stream is blocking
(a non-blocking dump was seen to reset mid-file on 20-50 MB binlogs on MariaDB 10.11) and
is closed as soon as the range's last transaction commits. Besides the GTID and rows
events the range is about, the commit events (XID, or the query event of a statement
without BEGIN) are read too: they say when the last transaction is complete, and cost next
to nothing.

The benchmark imports the library here only, and without capture's corrections of its
decoders: what is measured is the library as shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import MariadbGtidEvent, QueryEvent, XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from bench.harness.gtid_range import GtidRange
from cdc.dsn import Dsn
from cdc.errors import CdcError
from cdc.position import parse_gtid

_ROWS_EVENTS = (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)


class RawDecodeError(CdcError):
    """The binlog connection failed or was lost while reading the range."""


@dataclass(frozen=True)
class DecodeResult:
    row_changes: int  # rows of the benchmark's database
    transactions: int  # every transaction in the range, whoever committed it
    bytes_of_rows_events: int


def decode_range(source: Dsn, server_id: int, gtid_range: GtidRange, database: str, *,
                 cache_table_maps: bool = False) -> DecodeResult:
    """Read the range as a replica with id ``server_id`` and decode every row of every rows
    event of ``database``; return what was read.

    MariaDB writes a table map before every rows event, and the library parses each one
    anew (with FULL metadata that is a good part of its time). ``cache_table_maps`` turns
    on its ``freeze_schema``, which keeps the first map of each table id instead: right
    only while no table read changes shape, as in the benchmark's range.
    """
    stream = BinLogStreamReader(
        connection_settings={"host": source.host, "port": source.port, "user": source.user,
                             "password": source.password, "charset": "utf8mb4"},
        server_id=server_id,
        is_mariadb=True,
        auto_position=str(gtid_range.start),
        blocking=True,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, MariadbGtidEvent,
                     XidEvent, QueryEvent],
        only_schemas=[database],
        freeze_schema=cache_table_maps,
        enable_logging=False,
    )
    watch = gtid_range.watch()
    rows = transactions = size = 0
    try:
        for event in stream:
            if isinstance(event, _ROWS_EVENTS):
                rows += _touch_rows(event)
                size += int(event.event_size)
            elif isinstance(event, MariadbGtidEvent):
                watch.saw(parse_gtid(event.gtid))
                transactions += 1
            elif watch.in_last_transaction and _ends_transaction(event):
                break
    except pymysql.MySQLError as exc:
        raise RawDecodeError(f"reading the binlog with the library failed: {exc}",
                             "check that the source is up and the range still in its binlog"
                             ) from exc
    finally:
        stream.close()
    return DecodeResult(rows, transactions, size)


def _touch_rows(event: Any) -> int:
    """Decode every row: the library decodes all rows of an event, into a list of dicts of
    column values, on the first access of ``rows``."""
    rows: list[dict[str, Any]] = event.rows
    return len(rows)


def _ends_transaction(event: Any) -> bool:
    if isinstance(event, XidEvent):
        return True
    query = event.query.decode() if isinstance(event.query, bytes) else str(event.query)
    return query.strip().upper() not in ("BEGIN", "XA START")
