"""Applying changelog records to a MySQL/MariaDB target (see ``replayer.applier``): row
changes as single-row statements matched by primary key, DDL statements as the source ran
them, and the position in ``cdc_replayer.applied_position``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import MySQLdb
from MySQLdb.constants import CLIENT

from cdc.avro.codec import SchemaLookup
from cdc.changes import ChangeRecord, Operation, Row
from cdc.dsn import Dsn
from cdc.errors import ConfigError
from cdc.snapshot.source_tables import quote
from cdc.tls_settings import is_tls_failure, mysql_tls_hint, mysqlclient_tls
from cdc.values import ZeroDate, ZeroDateTime, time_text
from replayer.applier import (
    POSITION_SCHEMA,
    AppliedPosition,
    Applier,
    ReplayProgress,
    TableIncluded,
)
from replayer.follower_status import FOLLOWER_DDL
from replayer.statement_batch import Mismatched, Refused, StatementBatch

POSITION_DATABASE = POSITION_SCHEMA
_UNKNOWN_DATABASE = 1049
_SYSTEM_DATABASES = {"mysql", "information_schema", "performance_schema", "sys",
                     POSITION_DATABASE}
_POSITION_DDL = (
    f"CREATE TABLE IF NOT EXISTS {POSITION_DATABASE}.applied_position ("
    " source VARCHAR(200) NOT NULL PRIMARY KEY,"
    " changelog_offset BIGINT NOT NULL,"
    " gtid VARCHAR(200) NOT NULL,"
    " commit_time_us BIGINT NOT NULL,"
    " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    " ON UPDATE CURRENT_TIMESTAMP(6))")
_LOADED_DDL = (
    f"CREATE TABLE IF NOT EXISTS {POSITION_DATABASE}.loaded_files ("
    " snapshot_id VARCHAR(100) NOT NULL, file_name VARCHAR(200) NOT NULL,"
    " loaded_rows BIGINT NOT NULL, PRIMARY KEY (snapshot_id, file_name))")


_CONNECTION_LOST = frozenset({
    1053,  # server shutdown in progress
    1927,  # connection killed
    2002, 2003,  # cannot connect
    2006, 2013,  # server gone away, lost connection during query
    2055,  # lost connection at reading
    4031,  # disconnected by the server for inactivity
})


def connection_lost_mysql(error: BaseException) -> bool:
    if isinstance(error, MySQLdb.InterfaceError):
        return True
    return isinstance(error, MySQLdb.OperationalError) and bool(error.args) \
        and error.args[0] in _CONNECTION_LOST


def connect_target(dsn: Dsn) -> Any:
    try:
        return MySQLdb.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                               password=dsn.password or "", charset="utf8mb4",
                               client_flag=CLIENT.FOUND_ROWS | CLIENT.MULTI_STATEMENTS,
                               autocommit=False, connect_timeout=10, local_infile=True,
                               **mysqlclient_tls(dsn))
    except MySQLdb.OperationalError as exc:
        reason = str(exc.args[-1])
        if is_tls_failure(reason):
            raise ConfigError(f"TLS to the target {dsn.redacted()} failed: {reason}",
                              mysql_tls_hint(dsn, "--target")) from None
        raise ConfigError(f"cannot connect to the target {dsn.redacted()}: {exc.args[-1]}",
                          "check --target: host, port, user and password") from None


TARGET_SQL_MODE = "ALLOW_INVALID_DATES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"
"""What the source may hold goes in unchanged: zero dates and, from a source that allows
them, dates such as 2023-02-29 (which another mode would store as 0000-00-00 with a mere
warning); an id of 0 stays 0."""


def prepare_session(connection: Any) -> None:
    """A target session that stores what the source held: zero dates allowed, UTC, and the
    log's order trusted (foreign keys are checked by the source already)."""
    cursor = connection.cursor()
    cursor.execute("SET SESSION time_zone = '+00:00'")
    cursor.execute(f"SET SESSION sql_mode = '{TARGET_SQL_MODE}'")
    cursor.execute("SET SESSION foreign_key_checks = 0")
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {POSITION_DATABASE}")
    cursor.execute(_POSITION_DDL)
    cursor.execute(_LOADED_DDL)
    cursor.execute(FOLLOWER_DDL)
    connection.commit()


def require_empty_mysql(connection: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("SHOW DATABASES")
    found = sorted(str(name) for (name,) in cursor.fetchall()
                   if str(name) not in _SYSTEM_DATABASES)
    if found:
        raise ConfigError(
            f"the target holds databases already: {', '.join(found[:10])}",
            "restore into an empty server, or add --resume to continue a restore into it")


_STORE_POSITION = (
    f"INSERT INTO {POSITION_DATABASE}.applied_position (source, changelog_offset, gtid, "
    "commit_time_us) VALUES (%s, %s, %s, %s) ON DUPLICATE KEY UPDATE changelog_offset = "
    "VALUES(changelog_offset), gtid = VALUES(gtid), commit_time_us = VALUES(commit_time_us)")


def _position_values(source: str, position: AppliedPosition) -> tuple[object, ...]:
    return (source, position.changelog_offset, position.gtid, position.commit_time_us)


def store_position(connection: Any, source: str, position: AppliedPosition) -> None:
    """Record ``position`` as applied and commit, with whatever the transaction holds."""
    connection.cursor().execute(_STORE_POSITION, _position_values(source, position))
    connection.commit()


def bind(connection: Any, statement: str, values: Sequence[object]) -> bytes:
    """The statement with its values as literals, as the driver's own execute binds them."""
    return statement.encode(connection.encoding) % tuple(map(connection.literal, values))

class MysqlApplier(Applier):
    ddl_commits = True  # MySQL commits before and after every DDL statement by itself

    def __init__(self, connection: Any, source: str, schemas: SchemaLookup, *,
                 transactions_per_commit: int = 1, progress: ReplayProgress | None = None,
                 include: TableIncluded | None = None) -> None:
        super().__init__(connection, source, schemas,
                         transactions_per_commit=transactions_per_commit, progress=progress,
                         include=include)
        self._batch: StatementBatch[tuple[int, ChangeRecord]] = StatementBatch()

    def _run(self, offset: int, record: ChangeRecord, statement: str,
             values: Sequence[object]) -> None:
        self._batch.add(bind(self._connection, statement, values), (offset, record))
        if self._batch.full:
            self._send()

    def _send(self) -> None:
        """Run the statements waiting; a refused or mismatched one stops applying."""
        problem = self._batch.send(self._connection, self._refused_change)
        if isinstance(problem, Refused):
            offset, record = problem.tag
            raise self.diverged(offset, record,
                                f"the target refused it: {self._reason(problem.error)}")
        if isinstance(problem, Mismatched):
            offset, record = problem.tag
            raise self.diverged(offset, record, f"it touched {problem.rows} rows of the "
                                "target, not 1")

    def _refused_change(self, error: Exception) -> bool:
        return isinstance(error, self.refused) and not self.connection_lost(error)

    def _commit(self, position: AppliedPosition) -> None:
        self._batch.add(bind(self._connection, _STORE_POSITION,
                             _position_values(self._source, position)), None)
        self._send()
        self._connection.commit()

    def _rollback(self) -> None:
        self._batch.clear()
        super()._rollback()

    def _apply_ddl(self, offset: int, record: ChangeRecord) -> None:
        self._send()
        try:
            self._ddl(record)
        except MySQLdb.Error as exc:
            if self.connection_lost(exc):
                raise
            raise self.diverged(offset, record, f"the target refused the statement "
                                f"{record.statement!r}: {exc.args[-1]}") from None

    def _apply_row(self, offset: int, record: ChangeRecord) -> None:
        table = f"{quote(record.database)}.{quote(record.table)}"
        if record.operation is Operation.INSERT and record.after is not None:
            names = list(record.after)
            self._run(offset, record, f"INSERT INTO {table} ({', '.join(map(quote, names))}) "
                      f"VALUES ({', '.join(['%s'] * len(names))})",
                      [to_parameter(record.after[n]) for n in names])
        elif record.operation is Operation.UPDATE and record.after is not None \
                and record.before is not None:
            names = list(record.after)
            where, values = self._where(record, record.before)
            self._run(offset, record, f"UPDATE {table} SET "
                      + ", ".join(f"{quote(n)} = %s" for n in names) + f" WHERE {where}",
                      [to_parameter(record.after[n]) for n in names] + values)
        elif record.operation is Operation.DELETE and record.before is not None:
            where, values = self._where(record, record.before)
            self._run(offset, record, f"DELETE FROM {table} WHERE {where}", values)

    def _where(self, record: ChangeRecord, image: Row) -> tuple[str, list[object]]:
        """The row by its primary key; a table without one by all its values (one row)."""
        key = self._schemas(record.database, record.table, record.schema_version).primary_key
        names = key or tuple(image)
        where = " AND ".join(f"{quote(name)} <=> %s" for name in names)
        return where + ("" if key else " LIMIT 1"), [to_parameter(image[n]) for n in names]

    refused = (MySQLdb.IntegrityError,)

    def connection_lost(self, error: Exception) -> bool:
        return connection_lost_mysql(error)

    @staticmethod
    def _reason(error: Exception) -> str:
        return str(error.args[-1])

    def _ddl(self, record: ChangeRecord) -> None:
        if record.statement is None:
            return
        if record.database:
            try:
                self._cursor.execute(f"USE {quote(record.database)}")
            except MySQLdb.OperationalError as exc:
                if exc.args[0] != _UNKNOWN_DATABASE:  # CREATE DATABASE comes before it exists
                    raise
        self._cursor.execute(record.statement)


def to_parameter(value: object) -> object:
    """A canonical value as the driver sends it to MySQL/MariaDB."""
    if isinstance(value, ZeroDate | ZeroDateTime):
        return value.text
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)  # the session is in UTC
    if isinstance(value, timedelta):
        return time_text(value)
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    if isinstance(value, date | datetime):
        return value
    return value
