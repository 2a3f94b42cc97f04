"""Set-based replay: row changes applied a group at a time, and the statement-by-statement path
as the reference every group falls back to.

``SetApplier.apply_raw`` takes changelog records with their images undecoded
(``raw_changes``). An insert, an update that keeps its row's key, and a delete of a table with
a primary key are gathered (``change_groups``); a group's images go through the table
version's fused bulk-text encoder to the target in one set-based operation whose row count is
checked (the engines' ``_apply_group``). Everything else (DDL, a table without a key, an
update that moves its row to another key) goes the reference way, after what is gathered.

Whatever the target refuses in a group, or a group's count that is not its rows, the target
transaction is rolled back and applied again statement by statement from its first record:
the reference path then either applies it (a secondary unique value or a foreign key that
only the grouping's order upset) or names the row change at fault by its offset, as it always
did. The position is stored in the same commit as the rows, as before (``applier``).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterable
from typing import Any

from cdc.avro.codec import SchemaLookup
from cdc.changes import Operation, TableSchema
from replayer.applier import AppliedPosition, Applier, ReplayProgress, TableIncluded
from replayer.change_groups import ChangeGroups, Group, Kind
from replayer.image_keys import KeyOf, key_reader
from replayer.raw_changes import RawChange, full_record

log = logging.getLogger(__name__)

_KINDS = {Operation.INSERT: Kind.INSERT, Operation.UPDATE: Kind.UPDATE,
          Operation.DELETE: Kind.DELETE}

TRANSACTIONS_PER_COMMIT = 1000
"""A restore's target transactions are large: groups grow with them, and only the commit
is seen."""


class GroupRefusedError(Exception):
    """The target refused a group, or its count was not the group's rows: the target
    transaction is applied again the reference way."""


class SetApplier(Applier):
    """An engine's applier (``MysqlApplier``, ``PostgresApplier``) with set-based groups; the
    engines' subclasses apply a group with ``_apply_group``."""

    def __init__(self, connection: Any, source: str, schemas: SchemaLookup, *,
                 transactions_per_commit: int = TRANSACTIONS_PER_COMMIT,
                 progress: ReplayProgress | None = None,
                 include: TableIncluded | None = None) -> None:
        super().__init__(connection, source, schemas,
                         transactions_per_commit=transactions_per_commit, progress=progress,
                         include=include)
        self._groups = ChangeGroups()
        self._raw: list[RawChange] = []
        """The included changes of the open target transaction, to apply again."""
        self._keyed: dict[tuple[str, str, int], tuple[TableSchema, KeyOf | None]] = {}
        """Each table version's schema and key reader (None without a primary key)."""
        self._stages: dict[tuple[str, str, int], str] = {}
        """The staging table of each table version (``_apply_group``'s)."""
        self.groups = 0
        """Groups applied (for tests and reports)."""
        self.fallbacks = 0
        """Target transactions applied again the reference way."""

    def apply_raw(self, changes: Iterable[RawChange]) -> None:
        for change in changes:
            fields = change.fields
            operation = fields.operation
            if operation.is_marker:
                continue
            if self._includes(fields.database, fields.table):
                # Kept once applied or gathered: a fallback on the way applies what came
                # before it, and this change then goes its own way.
                if not self._gathered(change):
                    self._flush_groups()
                    self._apply_included(change.offset, full_record(change, self._schemas))
                if operation is Operation.DDL and self.ddl_commits:
                    self._raw.clear()  # committed by the statement itself
                else:
                    self._raw.append(change)
            self._counted(change.offset, fields.transaction_last, fields.gtid,
                          fields.commit_time_us)

    def _gathered(self, change: RawChange) -> bool:
        """Whether the change joined a group (the groups applied first if it conflicted)."""
        fields = change.fields
        kind = _KINDS.get(fields.operation)
        if kind is None:
            return False
        image = fields.before if kind is Kind.DELETE else fields.after
        if image is None:
            return False
        version = (fields.database, fields.table, fields.schema_version)
        known = self._keyed.get(version)
        if known is None:
            schema = self._schemas(*version)
            known = self._keyed[version] = (schema, key_reader(schema)
                                            if schema.primary_key else None)
        schema, key_of = known
        if key_of is None or not self._groupable(schema, kind):
            return False
        try:
            key = key_of(image)
            if kind is Kind.UPDATE and (fields.before is None or key_of(fields.before) != key):
                return False  # the row moves to another key
        except (IndexError, ValueError):
            return False  # the reference path reads it, or names what is wrong with it
        self._before_group(change, schema)
        table = (schema.database, schema.table, schema.version)
        if not self._groups.add(table, kind, key, image):
            self._flush_groups()
            self._groups.add(table, kind, key, image)
        self.rows += 1
        return True

    def _groupable(self, schema: TableSchema, kind: Kind) -> bool:
        """Whether rows of ``schema`` can be grouped: a key, and (for updates) other columns."""
        return bool(schema.primary_key) and (
            kind is not Kind.UPDATE or len(schema.primary_key) < len(schema.columns))

    def _before_group(self, change: RawChange, schema: TableSchema) -> None:
        """What the target needs before a row of ``schema`` joins a group (PostgreSQL follows
        a new table version here)."""

    def _flush_groups(self) -> None:
        """Apply the statements waiting, then the groups; on a refusal, the transaction again
        the reference way."""
        self._send()
        if not self._groups:
            return
        groups = self._groups.take()
        try:
            for group in groups:
                self._apply_group(group, self._schemas(*group.table))
                self.groups += 1
        except GroupRefusedError as exc:
            log.debug("a group was refused (%s): the target transaction is applied again "
                      "statement by statement", exc)
            self._apply_again_by_statement()

    def _apply_again_by_statement(self) -> None:
        changes = list(self._raw)
        rows = self.rows
        self._rollback()
        self.fallbacks += 1
        for change in changes:
            self._apply_included(change.offset, full_record(change, self._schemas))
        self._send()
        self._raw = changes
        self.rows = rows

    def _commit(self, position: AppliedPosition) -> None:
        self._flush_groups()
        # The engine's own commit: an engine applier comes after this class in the MRO.
        super()._commit(position)  # type: ignore[safe-super]
        self._raw.clear()

    def _rollback(self) -> None:
        self._groups.take()
        super()._rollback()

    @abstractmethod
    def _apply_group(self, group: Group, schema: TableSchema) -> None:
        """Apply one group; raise ``GroupRefusedError`` if the target refused it or its count was
        not the group's rows (the connection lost propagates)."""
