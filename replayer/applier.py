"""Applying changelog records to a target, whole source transactions at a time, with the
position applied stored in the target in the same transaction as the rows (design §2).

One target transaction holds one or more source transactions and ends with the position row
updated, so a target interrupted at any instant holds exactly the transactions up to its
stored position, and replay resumes right after it. Each row change must touch exactly one
row: an update or delete of a row the target does not have, or an insert of one it has,
means the target is not the copy the changelog describes, and applying stops with the offset.
The engines differ only in how a row change, a statement and the position are written: see
``MysqlApplier`` and ``PostgresApplier``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cdc.avro.codec import SchemaLookup
from cdc.changes import ChangeRecord, Operation
from cdc.disk_full import disk_full_error, is_disk_full
from cdc.errors import CdcError

POSITION_SCHEMA = "cdc_replayer"
"""The database (MySQL) or schema (PostgreSQL) of the replayer's own bookkeeping."""

ReplayProgress = Callable[[int], None]
"""Called with the number of row changes applied so far, after each commit."""

TableIncluded = Callable[[str, str | None], bool]
"""Whether changes to (database, table) are applied; table None for a database statement."""


class TargetDivergedError(CdcError):
    """The target does not hold what the changelog says it should: applying stops."""


@dataclass(frozen=True)
class AppliedPosition:
    changelog_offset: int
    gtid: str
    commit_time_us: int


class Applier(ABC):
    """Applies (offset, record) pairs in changelog order; commits every
    ``transactions_per_commit`` source transactions, and at ``flush()``."""

    refused: tuple[type[Exception], ...] = ()
    """The driver's errors that mean the target refused a row change."""


    def __init__(self, connection: Any, source: str, schemas: SchemaLookup, *,
                 transactions_per_commit: int = 1,
                 progress: ReplayProgress | None = None,
                 include: TableIncluded | None = None) -> None:
        self._connection = connection
        self._cursor = connection.cursor()
        self._source = source
        self._include = include
        self._included_tables: dict[tuple[str, str], bool] = {}
        self._schemas = schemas
        self._per_commit = transactions_per_commit
        self._progress = progress
        self._pending = 0
        self._open_records = 0  # of the source transaction being applied
        self._last: AppliedPosition | None = None
        self.transactions = 0
        self.rows = 0

    def apply(self, records: Iterable[tuple[int, ChangeRecord]]) -> None:
        for offset, record in records:
            if record.operation.is_marker:
                continue
            # A table left out is not applied, but its transaction's end still counts.
            if self._included(record):
                self._apply_included(offset, record)
            self._counted(offset, record.transaction_last, record.position.gtid,
                          record.commit_time_us)

    def _counted(self, offset: int, transaction_last: bool, gtid: str,
                 commit_time_us: int) -> None:
        """Count an applied (or left out) record; commit at the configured boundary."""
        self._open_records += 1
        if transaction_last:
            self._open_records = 0
            self._last = AppliedPosition(offset, gtid, commit_time_us)
            self.transactions += 1
            self._pending += 1
            if self._pending >= self._per_commit:
                self.flush()

    def _apply_included(self, offset: int, record: ChangeRecord) -> None:
        if record.operation is Operation.DDL:
            if self.ddl_commits:
                self.flush()
            self._apply_ddl(offset, record)
        else:
            self._apply_row(offset, record)
            self.rows += 1

    @property
    def at_transaction_boundary(self) -> bool:
        """Whether everything applied so far is whole source transactions."""
        return self._open_records == 0

    @property
    def last_applied(self) -> AppliedPosition | None:
        """The last whole source transaction applied (committed or not)."""
        return self._last

    def flush(self) -> None:
        """Commit what is applied, with its position. Only whole source transactions are
        committed: stopping inside one is refused."""
        if self._open_records:
            raise CdcError("the replayer was asked to commit inside a source transaction",
                           "feed whole transactions; nothing of this one was committed")
        if self._last is None or not self._pending:
            return
        self._commit(self._last)
        self._pending = 0
        if self._progress is not None:
            self._progress(self.rows)

    def _included(self, record: ChangeRecord) -> bool:
        return self._includes(record.database, record.table)

    def _includes(self, database: str, table: str) -> bool:
        if self._include is None:
            return True
        found = self._included_tables.get((database, table))
        if found is None:
            found = self._included_tables[database, table] = self._include(database,
                                                                           table or None)
        return found

    def diverged(self, offset: int, record: ChangeRecord, why: str) -> TargetDivergedError:
        """The error that stops applying; what this target transaction held is rolled back."""
        self._rollback()
        what = ("a statement" if record.operation is Operation.DDL else
                f"the {record.operation.value} of a row of {record.database}.{record.table}")
        return TargetDivergedError(
            f"changelog offset {offset} ({what}, transaction {record.position.gtid}): {why}",
            "the target is not the copy the changelog continues: restore it again from a "
            "snapshot (transactions before this one are committed and recorded)")

    def _run(self, offset: int, record: ChangeRecord, statement: str,
             values: Sequence[object]) -> None:
        """Run a row change's statement, which must touch exactly one row."""
        try:
            self._cursor.execute(statement, values)
        except self.refused as exc:
            if self.connection_lost(exc):
                raise
            if is_disk_full(exc):
                raise disk_full_error(exc, f"applying the row change at offset {offset}") \
                    from None
            raise self.diverged(offset, record, f"the target refused it: {self._reason(exc)}") \
                from None
        # MySQL sessions count rows matched, not changed (CLIENT.FOUND_ROWS), as PostgreSQL
        # does: an update that sets a row to what it holds already still counts one.
        if self._cursor.rowcount != 1:
            raise self.diverged(offset, record, f"it touched {self._cursor.rowcount} rows of "
                                "the target, not 1")

    def _send(self) -> None:  # noqa: B027 - an engine that sends at once has nothing to do
        """Run the statements waiting to be sent, if the engine gathers them."""

    def connection_lost(self, error: Exception) -> bool:
        """Whether ``error`` means the connection is gone (the target restarting): never a
        divergence; it reaches the caller, which may reconnect and resume from the stored
        position."""
        return False

    def _rollback(self) -> None:
        self._connection.rollback()

    @staticmethod
    def _reason(error: Exception) -> str:
        return str(error)

    ddl_commits = False
    """Whether a statement commits by itself (MySQL): what is applied is committed first."""

    @abstractmethod
    def _apply_row(self, offset: int, record: ChangeRecord) -> None: ...

    @abstractmethod
    def _apply_ddl(self, offset: int, record: ChangeRecord) -> None: ...

    @abstractmethod
    def _commit(self, position: AppliedPosition) -> None:
        """Store ``position`` and commit the target transaction."""



def read_position(connection: Any, source: str) -> AppliedPosition | None:
    """The position the target holds for ``source``; None before a snapshot is loaded."""
    cursor = connection.cursor()
    cursor.execute(f"SELECT changelog_offset, gtid, commit_time_us FROM {POSITION_SCHEMA}."
                   "applied_position WHERE source = %s", (source,))
    found = cursor.fetchone()
    connection.commit()
    return None if found is None else AppliedPosition(int(found[0]), str(found[1]),
                                                      int(found[2]))
