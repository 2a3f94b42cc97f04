"""The value types of the changelog: table schemas, row changes and the records that carry them.

Everything here is immutable and free of I/O. Row values are *canonical* Python values (see
``cdc/values.py``): what the source held, bit for bit, independent of the binlog library's
quirks and of the host's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

Row = dict[str, Any]
"""Column name to canonical value, in the table's column order."""


@dataclass(frozen=True)
class Column:
    """One column as the binlog's table map (with ``binlog_row_metadata=FULL``) describes it.

    ``type`` is the MySQL type family in lower case: tinyint, smallint, mediumint, int, bigint,
    decimal, float, double, bit, date, datetime, timestamp, time, year, char, varchar, binary,
    varbinary, tinyblob, blob, mediumblob, longblob, tinytext, text, mediumtext, longtext, enum,
    set, json, geometry.
    """

    name: str
    type: str
    unsigned: bool = False
    precision: int | None = None
    """DECIMAL precision, BIT width, or the declared length of a string column when known."""
    scale: int | None = None
    """DECIMAL scale, or the fractional-second digits of TIME, DATETIME and TIMESTAMP."""
    charset: str | None = None
    """The character set of a text column; None for binary data."""
    members: tuple[str, ...] = ()
    """The values of an ENUM or the members of a SET, in declaration order."""
    nullable: bool = True


@dataclass(frozen=True)
class TableSchema:
    """One version of a table's shape. A new version starts at every change of columns."""

    database: str
    table: str
    version: int
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.table}"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.qualified_name} v{self.version} has no column {name!r}")

    def same_shape(self, other: TableSchema) -> bool:
        """Whether two versions describe the same columns and key (the version aside)."""
        return (self.columns, self.primary_key) == (other.columns, other.primary_key)


class Operation(Enum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    DDL = "ddl"
    HEARTBEAT = "heartbeat"
    """No change: the source was idle; carries the position captured up to and the time."""
    START = "start"
    """No change: the changelog's first record, committed by capture's first start before it
    streams anything. Carries the position the changelog begins after, and (as JSON in
    ``statement``) the rule that chose it; see ``cdc.first_start``."""

    @property
    def is_marker(self) -> bool:
        """A record that changes nothing (a heartbeat or the start record): it only says how
        far capture got."""
        return self in (Operation.HEARTBEAT, Operation.START)


@dataclass(frozen=True)
class SourcePosition:
    """Where in the source's history a record stands.

    ``gtid`` is the transaction's own GTID; ``gtid_position`` is the source's whole GTID
    position once that transaction is applied (one entry per replication domain), which is
    what capture resumes from. ``binlog_file``/``binlog_position`` point just past the
    transaction's last event.
    """

    gtid: str
    gtid_position: str
    server_id: int
    binlog_file: str
    binlog_position: int


@dataclass(frozen=True)
class ChangeRecord:
    """One changelog record: a row change, a DDL statement, a heartbeat or the start record.

    A source transaction becomes consecutive records with ``transaction_index`` 0, 1, ... and
    ``transaction_last`` set on its final record; a Kafka transaction never splits one.
    """

    operation: Operation
    database: str
    table: str
    schema_version: int
    before: Row | None
    after: Row | None
    statement: str | None
    position: SourcePosition
    commit_time_us: int
    """The source's commit time, microseconds since the Unix epoch (UTC)."""
    transaction_index: int
    transaction_last: bool

    @property
    def image(self) -> Row | None:
        """The row as it is after the change, or as it was before a delete."""
        return self.after if self.after is not None else self.before
