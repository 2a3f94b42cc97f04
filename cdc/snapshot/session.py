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

import MySQLdb
from MySQLdb.constants import FIELD_TYPE

from cdc.dsn import Dsn
from cdc.errors import SourceCheckError
from cdc.position import GtidPosition
from cdc.snapshot.errors import SnapshotError
from cdc.tls_settings import is_tls_failure, mysql_tls_hint, mysqlclient_tls

# Reading rows is most of a snapshot's work, and mysqlclient (C) reads them ten times faster
# than PyMySQL here. Numbers are converted in C; every other value arrives as the server's
# text (str for character columns, bytes otherwise) and cdc.snapshot.text_values makes it
# canonical, zero dates included.
_CONVERSIONS: dict[int, Any] = {
    **dict.fromkeys((FIELD_TYPE.TINY, FIELD_TYPE.SHORT, FIELD_TYPE.INT24, FIELD_TYPE.LONG,
                     FIELD_TYPE.LONGLONG, FIELD_TYPE.YEAR), int),
    **dict.fromkeys((FIELD_TYPE.FLOAT, FIELD_TYPE.DOUBLE), float),
}
Error = MySQLdb.Error


@dataclass(frozen=True)
class SnapshotPoint:
    gtid_position: GtidPosition
    binlog_file: str
    binlog_position: int
    server_id: int
    version: str


def connect(dsn: Dsn, *, read_timeout_s: int = 3600) -> Any:
    try:
        return MySQLdb.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                               password=dsn.password or "", charset="utf8mb4",
                               conv=_CONVERSIONS, connect_timeout=10,
                               read_timeout=read_timeout_s, autocommit=True,
                               **mysqlclient_tls(dsn))
    except MySQLdb.OperationalError as exc:
        reason = str(exc.args[-1])
        if is_tls_failure(reason):
            raise SourceCheckError(f"TLS to the source {dsn.redacted()} failed: {reason}",
                                   mysql_tls_hint(dsn, "source.dsn")) from None
        raise SourceCheckError(
            f"cannot connect to the source {dsn.redacted()}: {exc.args[-1]}",
            hint="check source.dsn and the password (CDC_SOURCE__PASSWORD or "
                 "source.password_file), and that the server is up") from None


@contextmanager
def consistent_read(connection: Any) -> Iterator[SnapshotPoint]:
    """Open a consistent snapshot on ``connection`` for the duration of the block."""
    cursor = connection.cursor()
    _begin(cursor)
    try:
        yield _snapshot_point(cursor)
    finally:
        # A connection that is gone already: the server ends the transaction itself.
        with suppress(MySQLdb.Error):
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


def open_consistent_reads(dsn: Dsn, count: int, *, attempts: int = 200
                          ) -> tuple[list[Any], SnapshotPoint]:
    """``count`` connections, each inside a consistent snapshot, all at the same binlog point.

    Each snapshot reports its own binlog position; they are opened back to back and opened
    again until no commit fell between them, which under load takes a few tries.
    """
    connections = [connect(dsn) for _ in range(count)]
    try:
        for _ in range(attempts):
            cursors = [c.cursor() for c in connections]
            for cursor in cursors:
                _begin(cursor)
            points = [_snapshot_position(cursor) for cursor in cursors]
            if all(point == points[0] for point in points):
                return connections, _snapshot_point(cursors[0])
            for cursor in cursors:
                cursor.execute("ROLLBACK")
    except BaseException:
        for connection in connections:
            connection.close()
        raise
    for connection in connections:
        connection.close()
    raise SnapshotError(
        f"the source committed between every one of {attempts} tries to open {count} "
        "consistent reads at one point",
        hint="set snapshots.workers = 1 (one reader needs no agreement), or retry when the "
             "source is less busy")


def _begin(cursor: Any) -> None:
    cursor.execute("SET SESSION time_zone = '+00:00'")
    cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")


def _snapshot_position(cursor: Any) -> tuple[str, str]:
    cursor.execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
    status = {str(name).lower(): str(value) for name, value in cursor.fetchall()}
    return status.get("binlog_snapshot_file", ""), status.get("binlog_snapshot_position", "")
