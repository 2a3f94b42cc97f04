"""The one place that opens source connections and turns server errors into CdcErrors."""

from __future__ import annotations

from typing import TypeAlias

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from bench.workload.errors import SourceUnavailableError, WorkloadError
from cdc.dsn import Dsn, Engine
from cdc.errors import CdcError, ConfigError
from cdc.tls_settings import pymysql_tls

# Quoted: the runtime class is not generic, only its type stubs are.
MySQLConnection: TypeAlias = "Connection[Cursor]"

# Client-side error codes (CR_*) and server error codes (ER_*) that mean "fix your setup".
_CANNOT_CONNECT = {2002, 2003, 2005}
_ACCESS_DENIED = {1044, 1045, 1698}
_CONNECTION_LOST = {2006, 2013}


def connect(dsn: Dsn, *, connect_timeout: float = 10.0) -> MySQLConnection:
    """Open a session for the workload: autocommit off, utf8mb4, time zone UTC.

    The session time zone is ``+00:00`` so TIMESTAMP values written and read are exact UTC
    instants whatever the server's or the host's zone is.
    """
    if dsn.engine is not Engine.MYSQL:
        raise ConfigError(
            f"the workload needs a MySQL or MariaDB source, not {dsn.engine.value}",
            "pass a mysql://user:password@host:port/ DSN",
        )
    try:
        return pymysql.connect(
            host=dsn.host,
            port=dsn.port,
            user=dsn.user,
            password=dsn.password,
            charset="utf8mb4",
            autocommit=False,
            connect_timeout=connect_timeout,
            init_command="SET time_zone = '+00:00'",
            **pymysql_tls(dsn),
        )
    except pymysql.MySQLError as exc:
        raise translate_error(exc, f"connecting to {dsn.redacted()}") from None


def translate_error(exc: pymysql.MySQLError, doing: str) -> CdcError:
    """A CdcError naming what failed, the server's own code and message, and a hint."""
    code, message = _code_and_message(exc)
    where = f"{doing} failed: ({code}) {message}" if code else f"{doing} failed: {message}"
    if code in _CANNOT_CONNECT:
        return SourceUnavailableError(
            where, "check that the server is running and the DSN's host and port are right; "
            "for the local stack run 'make up' and take CDC_SOURCE_ADMIN_DSN from .stack/env",
        )
    if code in _ACCESS_DENIED:
        return SourceUnavailableError(
            where, "check the user and password in the DSN; the workload needs a user that "
            "may create databases and tables (the stack's cdc_admin)",
        )
    if code in _CONNECTION_LOST:
        return SourceUnavailableError(
            where, "the server closed the connection; check that it is still running and "
            "see its error log",
        )
    if code == 1146:
        return WorkloadError(where, "the workload's tables are missing; run cdc-workload "
                                    "--setup-only (or without it) to create them")
    return WorkloadError(where, "see the server's message above; rerun with --reset to "
                                "start from a fresh database if its tables were changed")


def _code_and_message(exc: pymysql.MySQLError) -> tuple[int | None, str]:
    args = exc.args
    if len(args) >= 2 and isinstance(args[0], int):
        return args[0], str(args[1])
    return None, str(exc) or type(exc).__name__


def server_version(connection: MySQLConnection) -> str:
    return _read_variable(connection, "VERSION()")


def server_version_at(dsn: Dsn) -> str:
    """The version of the server at ``dsn``, over a connection of its own."""
    connection = connect(dsn)
    try:
        return server_version(connection)
    finally:
        connection.close()


def is_mariadb(connection: MySQLConnection) -> bool:
    return "mariadb" in server_version(connection).lower()


def read_gtid_position(connection: MySQLConnection) -> str:
    """The source's GTID position now: MariaDB's gtid_binlog_pos, MySQL's gtid_executed.

    Call it between transactions: the position then covers everything this session
    committed and nothing it has in flight.
    """
    variable = "@@global.gtid_binlog_pos" if is_mariadb(connection) else "@@global.gtid_executed"
    return _read_variable(connection, variable)


def read_last_gtid(connection: MySQLConnection) -> str:
    """The GTID of this session's last commit (MariaDB), or MySQL's gtid_executed set."""
    variable = "@@session.last_gtid" if is_mariadb(connection) else "@@global.gtid_executed"
    return _read_variable(connection, variable)


def _read_variable(connection: MySQLConnection, expression: str) -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {expression}")
            row = cursor.fetchone()
        # Autocommit is off, so even this read opened a transaction; end it so nothing of
        # ours stays open between workload transactions.
        connection.rollback()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, f"reading {expression}") from None
    if row is None or row[0] is None:
        return ""
    value = row[0]
    text = value.decode() if isinstance(value, bytes) else str(value)
    # MySQL breaks a long gtid_executed set over lines; the set is the same without them.
    return text.replace("\n", "")
