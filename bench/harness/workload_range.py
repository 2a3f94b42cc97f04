"""Writes the benchmark's range: a fresh payments database, the workload run into it, and
the source's GTID and binlog coordinates read just before and just after."""

from __future__ import annotations

from dataclasses import dataclass

import pymysql

from bench.harness.binlog_span import BinlogCoordinates, binlog_bytes
from bench.harness.gtid_range import GtidRange
from bench.workload import (
    RunOptions,
    RunSummary,
    connect,
    read_gtid_position,
    run_workload,
    setup_database,
)
from bench.workload.connection import MySQLConnection, server_version, translate_error
from cdc.dsn import Dsn
from cdc.errors import SourceCheckError


@dataclass(frozen=True)
class WrittenRange:
    summary: RunSummary
    range: GtidRange
    start: BinlogCoordinates
    end: BinlogCoordinates
    binlog_bytes: int | None
    server_version: str


def write_range(admin: Dsn, database: str, transactions: int, seed: int) -> WrittenRange:
    connection = connect(admin)
    try:
        setup_database(connection, database, reset=True)
        start_gtid = read_gtid_position(connection)
        start = _binlog_coordinates(connection)
        summary = _run(connection, database, transactions, seed)
        end_gtid = read_gtid_position(connection)
        end = _binlog_coordinates(connection)
        files = _binary_logs(connection)
        version = server_version(connection)
    finally:
        connection.close()
    return WrittenRange(summary, GtidRange.parse(start_gtid, end_gtid), start, end,
                        binlog_bytes(start, end, files), version)


def drop_database(admin: Dsn, database: str) -> None:
    connection = connect(admin)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        connection.commit()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, f"dropping database {database}") from None
    finally:
        connection.close()


def _run(connection: MySQLConnection, database: str, transactions: int,
         seed: int) -> RunSummary:
    return run_workload(connection, RunOptions(database=database, transactions=transactions,
                                               rate=0, seed=seed))


def _binlog_coordinates(connection: MySQLConnection) -> BinlogCoordinates:
    rows = _query(connection, "SHOW MASTER STATUS")
    if not rows:
        raise SourceCheckError("the source has no binlog (SHOW MASTER STATUS is empty)",
                               "start it with log-bin; the local stack does")
    return BinlogCoordinates(str(rows[0][0]), int(str(rows[0][1])))


def _binary_logs(connection: MySQLConnection) -> list[tuple[str, int]]:
    return [(str(row[0]), int(str(row[1]))) for row in _query(connection, "SHOW BINARY LOGS")]


def _query(connection: MySQLConnection, sql: str) -> tuple[tuple[object, ...], ...]:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows: tuple[tuple[object, ...], ...] = cursor.fetchall()
        connection.rollback()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, sql) from None
    return rows
