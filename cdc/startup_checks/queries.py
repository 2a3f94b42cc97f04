"""The SQL the start-up checks run against the source (PyMySQL). Only I/O lives here: every
judgement on what comes back is made by the pure modules beside this one.

A failing query becomes a SourceCheckError that names the query, so a privilege the grant
check could not see (through a role, say) still ends in a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import pymysql
import pymysql.cursors

from cdc.config import CaptureConfig
from cdc.dsn import Dsn
from cdc.errors import SourceCheckError
from cdc.source_requirements import Flavor
from cdc.tls_settings import is_tls_failure, mysql_tls_hint, pymysql_tls

Connection: TypeAlias = "pymysql.Connection[pymysql.cursors.Cursor]"

CONNECT_TIMEOUT_S = 10
_CANNOT_REACH = {2002, 2003, 2005, 2006, 2013}
_ACCESS_DENIED = {1044, 1045, 1698}
_UNKNOWN_DATABASE = 1049
_NO_PRIVILEGE = {1045, 1142, 1227}


def connect_source(config: CaptureConfig) -> Connection:
    """A connection to the source as the capture user; a refusal names the DSN (redacted)
    and what to check."""
    return connect(config.source_dsn)


def connect(dsn: Dsn) -> Connection:
    try:
        return pymysql.connect(
            host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password,
            database=dsn.database, charset="utf8mb4", autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S, **pymysql_tls(dsn),
        )
    except pymysql.err.MySQLError as exc:
        raise _connect_error(dsn, exc) from None


def _connect_error(dsn: Dsn, exc: pymysql.err.MySQLError) -> SourceCheckError:
    code, reason = _code_and_reason(exc)
    where = f"source.dsn {dsn.redacted()}"
    if is_tls_failure(reason):
        return SourceCheckError(
            f"TLS to the source at {dsn.host}:{dsn.port} failed ({where}): {reason}",
            mysql_tls_hint(dsn, "source.dsn"))
    if code in _CANNOT_REACH:
        return SourceCheckError(
            f"cannot reach the source at {dsn.host}:{dsn.port} ({where}): {reason}",
            "check that the server runs and listens on that host and port (its port and "
            "bind-address settings, a firewall between), and that source.dsn names them")
    if code in _ACCESS_DENIED:
        return SourceCheckError(
            f"the source refused the login of {dsn.user!r} ({where}): {reason}",
            "check the password, taken from CDC_SOURCE__PASSWORD (source.password), else "
            "source.password_file, else the DSN; and that the user exists for this client "
            f"host: as an administrator, SELECT user, host FROM mysql.user WHERE "
            f"user = '{dsn.user}'")
    if code == _UNKNOWN_DATABASE:
        return SourceCheckError(
            f"the database {dsn.database!r} named in {where} does not exist",
            "capture reads every database's binlog; leave the database out of the DSN "
            "(mysql://user@host:port/) or name one that exists")
    return SourceCheckError(f"cannot connect to the source ({where}): error {code}: {reason}",
                            "check source.dsn and the server's error log")


def _code_and_reason(exc: pymysql.err.MySQLError) -> tuple[int, str]:
    if len(exc.args) >= 2 and isinstance(exc.args[0], int):
        return exc.args[0], str(exc.args[1])
    return 0, str(exc)


def _rows(conn: Connection, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, args or None)
            return [tuple(row) for row in cursor.fetchall()]
    except pymysql.err.MySQLError as exc:
        code, reason = _code_and_reason(exc)
        hint = ("give the capture user the privileges 'cdc check' lists"
                if code in _NO_PRIVILEGE else "see the source's error log")
        raise SourceCheckError(f"the source refused {sql!r}: error {code}: {reason}",
                               hint) from None


def server_variables(conn: Connection, names: Sequence[str]) -> dict[str, str]:
    """The global variables among ``names`` that the server has (lower-case names)."""
    marks = ", ".join(["%s"] * len(names))
    rows = _rows(conn, f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({marks})", names)
    return {str(name).lower(): str(value) for name, value in rows}


def current_user(conn: Connection) -> str:
    """``user@host`` as the server matched the login, e.g. ``cdc_capture@%``."""
    return str(_rows(conn, "SELECT CURRENT_USER()")[0][0])


def grant_lines(conn: Connection) -> list[str]:
    return [str(row[0]) for row in _rows(conn, "SHOW GRANTS")]


def replica_server_ids(conn: Connection, flavor: Flavor,
                       version: tuple[int, int, int]) -> list[int] | None:
    """Server ids of the replicas connected to the source; None when the capture user may
    not list them (MariaDB asks for REPLICATION MASTER ADMIN, which capture does not need)."""
    new_name = flavor is Flavor.MYSQL and version >= (8, 0, 22)  # 8.4 dropped the old one
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW REPLICAS" if new_name else "SHOW SLAVE HOSTS")
            return [int(row[0]) for row in cursor.fetchall()]
    except pymysql.err.MySQLError:
        return None


def binlog_status(conn: Connection, flavor: Flavor,
                  version: tuple[int, int, int]) -> tuple[str, int] | None:
    """The binlog file and position being written now; None without a binlog."""
    new_name = flavor is Flavor.MYSQL and version >= (8, 2, 0)  # 8.4 dropped the old one
    rows = _rows(conn, "SHOW BINARY LOG STATUS" if new_name else "SHOW MASTER STATUS")
    return (str(rows[0][0]), int(rows[0][1])) if rows else None


def binary_log_files(conn: Connection) -> list[str]:
    """The binlog files the source still has, oldest first."""
    return [str(row[0]) for row in _rows(conn, "SHOW BINARY LOGS")]


def gtid_list_of(conn: Connection, binlog_file: str) -> str | None:
    """The Info of the Gtid_list event at the start of ``binlog_file`` (MariaDB)."""
    for row in _rows(conn, "SHOW BINLOG EVENTS IN %s LIMIT 3", (binlog_file,)):
        if str(row[2]) == "Gtid_list":
            return str(row[5])
    return None


def mysql_gtid_window(conn: Connection, position: str) -> tuple[bool, bool, str, str]:
    """Whether ``position`` contains every purged GTID and lies within the executed set,
    with both sets for the message (MySQL)."""
    row = _rows(conn, "SELECT GTID_SUBSET(@@global.gtid_purged, %s), "
                      "GTID_SUBSET(%s, @@global.gtid_executed), "
                      "@@global.gtid_purged, @@global.gtid_executed", (position, position))[0]
    return bool(row[0]), bool(row[1]), str(row[2]), str(row[3])


def tables_lacking_primary_key(conn: Connection) -> list[tuple[str, str]]:
    """(database, table) of every base table without a primary key, system schemas aside."""
    # STATISTICS, not TABLE_CONSTRAINTS: MariaDB 10.11 shows a user holding only SELECT no
    # rows of TABLE_CONSTRAINTS, which would make every table look keyless.
    return [(str(db), str(table)) for db, table in _rows(conn, """
        SELECT t.TABLE_SCHEMA, t.TABLE_NAME
        FROM information_schema.TABLES AS t
        WHERE t.TABLE_TYPE = 'BASE TABLE'
          AND t.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
          AND NOT EXISTS (
            SELECT 1 FROM information_schema.STATISTICS AS s
            WHERE s.TABLE_SCHEMA = t.TABLE_SCHEMA AND s.TABLE_NAME = t.TABLE_NAME
              AND s.INDEX_NAME = 'PRIMARY')
        ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME""")]


def gtid_binlog_pos(conn: Connection) -> str:
    """The source's GTID position now (MariaDB's ``@@gtid_binlog_pos``)."""
    rows = _rows(conn, "SELECT @@global.gtid_binlog_pos")
    return str(rows[0][0] or "") if rows else ""
