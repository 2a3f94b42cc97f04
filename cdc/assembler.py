"""Turns source events into changelog records, one whole source transaction at a time (pure).

Each row change becomes one record; the records of a transaction carry its GTID, the GTID
position once it is applied, and its commit time. The last record of a transaction is held
back until the commit is seen, so it can be marked ``transaction_last``: a reader of the
changelog then knows a transaction is complete without looking further.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from cdc.binlog.events import (
    BinlogCoordinates,
    EncodedImages,
    QueryStatement,
    RowImages,
    SourceEvent,
    SourceIdle,
    TransactionBegin,
    TransactionCommit,
)
from cdc.changes import ChangeRecord, Operation, Row, SourcePosition, TableSchema
from cdc.ddl import ddl_target, is_ddl
from cdc.errors import SourceStreamError
from cdc.position import Gtid, GtidPosition
from cdc.schema_registry import SchemaRegistry

Includes = Callable[[str, str | None], bool]
"""Whether (database, table) is captured; table None asks about a whole database."""


@dataclass(frozen=True)
class Emission:
    record: ChangeRecord
    schema: TableSchema | None
    """The table schema version that encodes the record's row images."""
    publish_schema: bool
    """The schema version is new: publish it with (before) this record."""

    @property
    def transaction_last(self) -> bool:
        return self.record.transaction_last


@dataclass(slots=True)
class EncodedRow:
    """A row change whose images and key the fast path already encoded: the parts of its
    changelog record, without building the record. Mutable only here, where the
    transaction's last one is patched at its commit."""

    operation: Operation
    schema: TableSchema
    publish_schema: bool
    encoded: EncodedImages
    """(before, after, key) as Avro bytes."""
    position: SourcePosition
    commit_time_us: int
    transaction_index: int
    transaction_last: bool = False

    def as_record(self) -> ChangeRecord:
        """The record this stands for, its images left out (they are in ``encoded``)."""
        return ChangeRecord(
            operation=self.operation, database=self.schema.database, table=self.schema.table,
            schema_version=self.schema.version, before=None, after=None, statement=None,
            position=self.position, commit_time_us=self.commit_time_us,
            transaction_index=self.transaction_index, transaction_last=self.transaction_last)


Output = Emission | EncodedRow


@dataclass
class _OpenTransaction:
    gtid: Gtid
    position_after: GtidPosition
    commit_time_us: int
    next_index: int = 0
    gtid_text: str = ""
    position_text: str = ""

    def __post_init__(self) -> None:
        # Every record of the transaction carries these: made once, not once per record.
        self.gtid_text, self.position_text = str(self.gtid), str(self.position_after)


class Assembler:
    def __init__(self, position: GtidPosition, registry: SchemaRegistry,
                 includes: Includes) -> None:
        self.position = position
        self.registry = registry
        self._includes = includes
        self._included: dict[tuple[str, str], bool] = {}
        self._open: _OpenTransaction | None = None
        self._held: Output | None = None
        self.last_coordinates: BinlogCoordinates | None = None

    @property
    def at_boundary(self) -> bool:
        """No source transaction is half-read: a Kafka transaction may end here."""
        return self._open is None

    def feed(self, event: SourceEvent) -> list[Output]:
        match event:
            case TransactionBegin():
                return self._begin(event)
            case RowImages():
                return self._rows(event)
            case QueryStatement():
                return self._statement(event)
            case TransactionCommit():
                return self._commit(event)
            case SourceIdle():
                self.last_coordinates = event.coordinates
                return []

    def heartbeat(self, now_us: int) -> ChangeRecord:
        """A record that says "captured up to here" while the source is idle."""
        if not self.at_boundary:
            raise SourceStreamError("a heartbeat cannot be written inside a source transaction")
        coordinates = self.last_coordinates or BinlogCoordinates("", 0)
        return ChangeRecord(
            operation=Operation.HEARTBEAT, database="", table="", schema_version=0,
            before=None, after=None, statement=None,
            position=SourcePosition("", str(self.position), 0, coordinates.file,
                                    coordinates.position),
            commit_time_us=now_us, transaction_index=0, transaction_last=True,
        )

    def _begin(self, event: TransactionBegin) -> list[Output]:
        if self._open is not None:
            raise SourceStreamError(
                f"transaction {event.gtid} began before {self._open.gtid} committed",
                "the binlog stream restarted mid-transaction; capture resumes from the changelog",
            )
        if self.position.contains(event.gtid):
            raise SourceStreamError(
                f"transaction {event.gtid} was already captured (position {self.position})",
                "the binlog stream repeated itself; capture resumes from the changelog",
            )
        self._open = _OpenTransaction(event.gtid, self.position.advanced(event.gtid),
                                      event.commit_time_us)
        return []

    def _require_open(self, what: str) -> _OpenTransaction:
        if self._open is None:
            raise SourceStreamError(f"{what} arrived outside a transaction",
                                    "capture resumes from the changelog")
        return self._open

    def _record(self, tx: _OpenTransaction, operation: Operation, *, database: str, table: str,
                version: int, images: tuple[Row | None, Row | None], statement: str | None,
                position: SourcePosition) -> ChangeRecord:
        before, after = images
        record = ChangeRecord(
            operation=operation, database=database, table=table, schema_version=version,
            before=before, after=after, statement=statement, position=position,
            commit_time_us=tx.commit_time_us, transaction_index=tx.next_index,
            transaction_last=False,
        )
        tx.next_index += 1
        return record

    @staticmethod
    def _position(tx: _OpenTransaction, coordinates: BinlogCoordinates) -> SourcePosition:
        """Shared by every record of one event."""
        return SourcePosition(tx.gtid_text, tx.position_text, tx.gtid.server_id,
                              coordinates.file, coordinates.position)

    def _hold(self, emission: Output) -> list[Output]:
        released = [self._held] if self._held is not None else []
        self._held = emission
        return released

    def _rows(self, event: RowImages) -> list[Output]:
        tx = self._require_open("a row change")
        self.last_coordinates = event.coordinates
        included = self._included.get((event.database, event.table))
        if included is None:
            included = self._included[(event.database, event.table)] = self._includes(
                event.database, event.table)
        if not included:
            return []
        schema, new = self.registry.resolve(event.database, event.table, event.columns,
                                            event.primary_key)
        out: list[Output] = []
        position = self._position(tx, event.coordinates)
        for images in event.images:
            record = self._record(tx, event.operation, database=event.database,
                                  table=event.table, version=schema.version, images=images,
                                  statement=None, position=position)
            out += self._hold(Emission(record, schema, new))
            new = False
        if event.encoded:
            operation, commit_time_us = event.operation, tx.commit_time_us
            for encoded in event.encoded:
                out += self._hold(EncodedRow(operation, schema, new, encoded, position,
                                             commit_time_us, tx.next_index))
                tx.next_index += 1
                new = False
        return out

    def _statement(self, event: QueryStatement) -> list[Output]:
        tx = self._require_open("a statement")
        self.last_coordinates = event.coordinates
        if not is_ddl(event.statement):
            return []
        target = ddl_target(event.statement, event.database)
        if target.database is not None:
            if not self._includes(target.database, None):
                return []
            database, table, version = target.database, "", 0
        else:
            tables = [t for t in target.tables if self._includes(*t)]
            if not tables:
                return []
            versions = [self.registry.version_after_ddl(*t) for t in tables]
            (database, table), version = tables[0], versions[0]
        record = self._record(tx, Operation.DDL, database=database, table=table,
                              version=version, images=(None, None),
                              statement=event.statement,
                              position=self._position(tx, event.coordinates))
        return self._hold(Emission(record, None, False))

    def _commit(self, event: TransactionCommit) -> list[Output]:
        tx = self._require_open("a commit")
        self.last_coordinates = event.coordinates
        out: list[Output] = []
        held = self._held
        if isinstance(held, EncodedRow):
            held.position = replace(held.position, binlog_file=event.coordinates.file,
                                    binlog_position=event.coordinates.position)
            held.transaction_last = True
            out.append(held)
        elif held is not None:
            last = replace(held.record, transaction_last=True,
                           position=replace(held.record.position,
                                            binlog_file=event.coordinates.file,
                                            binlog_position=event.coordinates.position))
            out.append(replace(held, record=last))
        self._held = None
        self.position = tx.position_after
        self._open = None
        return out
