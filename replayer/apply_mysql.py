"""Applying changelog records to a MySQL/MariaDB target, with the position applied stored in
the target in the same transaction as the rows (design §2).

Every source transaction is applied whole: one target transaction holds one or more source
transactions, and ends with the position row updated, so a target interrupted at any instant
holds exactly the transactions up to its stored position, and ``resume_offset`` says where to
go on. Each row change must touch exactly one row: an update or delete of a row the target
does not have, or an insert of one it has, means the target is not the copy the changelog
describes, and applying stops with the offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import MySQLdb
from MySQLdb.constants import CLIENT

from cdc.avro.codec import SchemaLookup
from cdc.changes import ChangeRecord, Operation, Row
from cdc.dsn import Dsn
from cdc.errors import CdcError, ConfigError
from cdc.snapshot.source_tables import quote
from cdc.values import ZeroDate, ZeroDateTime, time_text

POSITION_DATABASE = "cdc_replayer"
_UNKNOWN_DATABASE = 1049
_POSITION_DDL = (
    f"CREATE TABLE IF NOT EXISTS {POSITION_DATABASE}.applied_position ("
    " source VARCHAR(200) NOT NULL PRIMARY KEY,"
    " changelog_offset BIGINT NOT NULL,"
    " gtid VARCHAR(200) NOT NULL,"
    " commit_time_us BIGINT NOT NULL,"
    " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    " ON UPDATE CURRENT_TIMESTAMP(6))")


class TargetDivergedError(CdcError):
    """The target does not hold what the changelog says it should: applying stops."""


@dataclass(frozen=True)
class AppliedPosition:
    changelog_offset: int
    gtid: str
    commit_time_us: int


def connect_target(dsn: Dsn) -> Any:
    try:
        return MySQLdb.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                               password=dsn.password or "", charset="utf8mb4",
                               client_flag=CLIENT.FOUND_ROWS, autocommit=False,
                               connect_timeout=10)
    except MySQLdb.OperationalError as exc:
        raise ConfigError(f"cannot connect to the target {dsn.redacted()}: {exc.args[-1]}",
                          "check --target: host, port, user and password") from None


def prepare_session(connection: Any) -> None:
    """A target session that stores what the source held: zero dates allowed, UTC, and the
    log's order trusted (foreign keys are checked by the source already)."""
    cursor = connection.cursor()
    cursor.execute("SET SESSION time_zone = '+00:00'")
    cursor.execute("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'")
    cursor.execute("SET SESSION foreign_key_checks = 0")
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {POSITION_DATABASE}")
    cursor.execute(_POSITION_DDL)
    connection.commit()


def read_position(connection: Any, source: str) -> AppliedPosition | None:
    cursor = connection.cursor()
    cursor.execute(f"SELECT changelog_offset, gtid, commit_time_us FROM {POSITION_DATABASE}."
                   "applied_position WHERE source = %s", (source,))
    found = cursor.fetchone()
    return None if found is None else AppliedPosition(int(found[0]), str(found[1]),
                                                      int(found[2]))


def store_position(connection: Any, source: str, position: AppliedPosition) -> None:
    """Record ``position`` as applied and commit, with whatever the transaction holds."""
    connection.cursor().execute(
        f"INSERT INTO {POSITION_DATABASE}.applied_position (source, changelog_offset, gtid, "
        "commit_time_us) VALUES (%s, %s, %s, %s) ON DUPLICATE KEY UPDATE changelog_offset = "
        "VALUES(changelog_offset), gtid = VALUES(gtid), commit_time_us = "
        "VALUES(commit_time_us)",
        (source, position.changelog_offset, position.gtid, position.commit_time_us))
    connection.commit()


class MysqlApplier:
    """Applies (offset, record) pairs in changelog order; commits every
    ``transactions_per_commit`` source transactions, and at ``flush()``."""

    def __init__(self, connection: Any, source: str, schemas: SchemaLookup, *,
                 transactions_per_commit: int = 1) -> None:
        self._connection = connection
        self._cursor = connection.cursor()
        self._source = source
        self._per_commit = transactions_per_commit
        self._schemas = schemas
        self._pending = 0
        self._open_records = 0  # of the source transaction being applied
        self._last: AppliedPosition | None = None
        self.transactions = 0
        self.rows = 0

    def apply(self, records: Iterable[tuple[int, ChangeRecord]]) -> None:
        for offset, record in records:
            if record.operation is Operation.HEARTBEAT:
                continue
            if record.operation is Operation.DDL:
                # MySQL commits before and after every DDL statement by itself: commit what
                # is applied, with its position, first.
                self.flush()
            self._apply_one(offset, record)
            self._open_records += 1
            if record.transaction_last:
                self._open_records = 0
                self._last = AppliedPosition(offset, record.position.gtid,
                                             record.commit_time_us)
                self.transactions += 1
                self._pending += 1
                if self._pending >= self._per_commit:
                    self.flush()

    def flush(self) -> None:
        """Commit what is applied, with its position. Only whole source transactions are
        committed: stopping inside one is refused."""
        if self._open_records:
            raise CdcError("the replayer was asked to commit inside a source transaction",
                           "feed whole transactions; nothing of this one was committed")
        if self._last is None or not self._pending:
            return
        store_position(self._connection, self._source, self._last)
        self._pending = 0

    def _apply_one(self, offset: int, record: ChangeRecord) -> None:
        table = f"{quote(record.database)}.{quote(record.table)}"
        if record.operation is Operation.DDL:
            try:
                self._ddl(record)
            except MySQLdb.Error as exc:
                raise self._diverged(offset, record, f"the target refused the statement "
                                     f"{record.statement!r}: {exc.args[-1]}") from None
            return
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
        self.rows += 1

    def _where(self, record: ChangeRecord, image: Row) -> tuple[str, list[object]]:
        """The row by its primary key; a table without one by all its values (one row)."""
        key = self._schemas(record.database, record.table, record.schema_version).primary_key
        names = key or tuple(image)
        where = " AND ".join(f"{quote(name)} <=> %s" for name in names)
        return where + ("" if key else " LIMIT 1"), [to_parameter(image[n]) for n in names]

    def _run(self, offset: int, record: ChangeRecord, statement: str,
             values: list[object]) -> None:
        try:
            self._cursor.execute(statement, values)
        except MySQLdb.IntegrityError as exc:
            raise self._diverged(offset, record, f"the target refused it: {exc.args[-1]}") \
                from None
        # The connection counts rows matched, not rows changed (CLIENT.FOUND_ROWS), so an
        # update that sets a row to what it holds already still counts one.
        if self._cursor.rowcount != 1:
            raise self._diverged(offset, record, f"it touched {self._cursor.rowcount} rows of "
                                 "the target, not 1")

    def _diverged(self, offset: int, record: ChangeRecord, why: str) -> TargetDivergedError:
        self._connection.rollback()
        what = ("a statement" if record.operation is Operation.DDL else
                f"the {record.operation.value} of a row of {record.database}.{record.table}")
        return TargetDivergedError(
            f"changelog offset {offset} ({what}, transaction {record.position.gtid}): {why}",
            "the target is not the copy the changelog continues: restore it again from a "
            "snapshot (transactions before this one are committed and recorded)")

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
