"""A consistent read of the source, and the exact binlog point it is consistent with.

MariaDB opens a consistent InnoDB snapshot and reports the binlog file and position that
snapshot matches, atomically and without any lock (``binlog_snapshot_file/position``);
``BINLOG_GTID_POS`` turns that into a GTID position. That pair is the snapshot's anchor: the
snapshot holds exactly the transactions up to it, and replay starts right after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import pymysql
from pymysql.constants import FIELD_TYPE
from pymysql.converters import conversions

from cdc.dsn import Dsn
from cdc.errors import SourceCheckError
from cdc.position import GtidPosition
from cdc.snapshot.errors import SnapshotError

# Temporal text is parsed by cdc.snapshot.text_values, which keeps zero dates exact.
_CONVERSIONS = {kind: convert for kind, convert in conversions.items()
                if kind not in (FIELD_TYPE.DATE, FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP,
                                FIELD_TYPE.TIME, FIELD_TYPE.NEWDATE)}


@dataclass(frozen=True)
class SnapshotPoint:
    gtid_position: GtidPosition
    binlog_file: str
    binlog_position: int
    server_id: int
    version: str


def connect(dsn: Dsn, *, read_timeout_s: int = 3600) -> Any:
    try:
        return pymysql.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                               password=dsn.password, charset="utf8mb4", conv=_CONVERSIONS,
                               connect_timeout=10, read_timeout=read_timeout_s, autocommit=True)
    except pymysql.err.OperationalError as exc:
        raise SourceCheckError(
            f"cannot connect to the source {dsn.redacted()}: {exc.args[-1]}",
            hint="check source.dsn and the password (CDC_SOURCE__PASSWORD or "
                 "source.password_file), and that the server is up") from None


@contextmanager
def consistent_read(connection: Any) -> Iterator[SnapshotPoint]:
    """Open a consistent snapshot on ``connection`` for the duration of the block."""
    cursor = connection.cursor()
    cursor.execute("SET SESSION time_zone = '+00:00'")
    cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    try:
        yield _snapshot_point(cursor)
    finally:
        # A connection that is gone already: the server ends the transaction itself.
        with suppress(pymysql.err.Error):
            cursor.execute("ROLLBACK")


def _snapshot_point(cursor: Any) -> SnapshotPoint:
    cursor.execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
    status = {str(name).lower(): str(value) for name, value in cursor.fetchall()}
    binlog_file = status.get("binlog_snapshot_file", "")
    binlog_position = int(status.get("binlog_snapshot_position") or 0)
    if not binlog_file:
        raise SnapshotError(
            "the source reports no binlog position for a consistent snapshot",
            hint="snapshots need MariaDB with the binary log on (log_bin) and InnoDB tables")
    cursor.execute("SELECT BINLOG_GTID_POS(%s, %s), @@server_id, @@version",
                   (binlog_file, binlog_position))
    gtid_text, server_id, version = cursor.fetchone()
    if gtid_text is None:
        raise SnapshotError(
            f"BINLOG_GTID_POS({binlog_file}, {binlog_position}) gave no GTID position",
            hint="the binlog file may have been purged while the snapshot started; retry")
    return SnapshotPoint(GtidPosition.parse(str(gtid_text)), binlog_file, binlog_position,
                         int(server_id), str(version))
