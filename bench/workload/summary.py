"""What a run did, counted as it happens and summarised at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bench.workload.limits import StopReason
from bench.workload.types import ChangeKind, OperationKind, RowChange


@dataclass(frozen=True)
class TableChanges:
    inserts: int = 0
    updates: int = 0
    deletes: int = 0

    @property
    def total(self) -> int:
        return self.inserts + self.updates + self.deletes

    def __add__(self, other: TableChanges) -> TableChanges:
        return TableChanges(self.inserts + other.inserts, self.updates + other.updates,
                            self.deletes + other.deletes)


@dataclass(frozen=True)
class RunSummary:
    database: str
    seed: int
    target_rate: float  # 0 = as fast as possible
    transactions: int
    transactions_by_kind: Mapping[str, int]
    row_changes_by_table: Mapping[str, TableChanges]
    elapsed_seconds: float
    first_gtid: str | None
    last_gtid: str | None
    marks_written: int
    marks_file: str | None
    stopped_by: StopReason
    connections: int = 1

    @property
    def row_changes(self) -> TableChanges:
        return sum(self.row_changes_by_table.values(), TableChanges())

    @property
    def achieved_rate(self) -> float:
        return self.transactions / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        totals = self.row_changes
        return {
            "database": self.database,
            "seed": self.seed,
            "target_rate": self.target_rate,
            "transactions": self.transactions,
            "transactions_by_kind": dict(self.transactions_by_kind),
            "row_changes": {"inserts": totals.inserts, "updates": totals.updates,
                            "deletes": totals.deletes, "total": totals.total},
            "row_changes_by_table": {
                table: {"inserts": c.inserts, "updates": c.updates, "deletes": c.deletes}
                for table, c in self.row_changes_by_table.items()
            },
            "elapsed_seconds": round(self.elapsed_seconds, 6),
            "achieved_rate": round(self.achieved_rate, 3),
            "first_gtid": self.first_gtid,
            "last_gtid": self.last_gtid,
            "marks_written": self.marks_written,
            "marks_file": self.marks_file,
            "stopped_by": self.stopped_by.value,
            "connections": self.connections,
        }


@dataclass
class Tally:
    """Running counts: transactions per kind and row changes per table and kind."""

    by_kind: Counter[str] = field(default_factory=Counter)
    by_table: dict[str, TableChanges] = field(default_factory=dict)

    @property
    def transactions(self) -> int:
        return sum(self.by_kind.values())

    def record(self, kind: OperationKind, changes: Iterable[RowChange]) -> None:
        self.by_kind[kind.value] += 1
        for change in changes:
            delta = TableChanges(
                inserts=change.rows if change.kind is ChangeKind.INSERT else 0,
                updates=change.rows if change.kind is ChangeKind.UPDATE else 0,
                deletes=change.rows if change.kind is ChangeKind.DELETE else 0,
            )
            self.by_table[change.table] = self.by_table.get(change.table, TableChanges()) + delta

    def kinds_in_order(self) -> dict[str, int]:
        """Every operation kind, zeros included, in the enum's order: stable output."""
        return {kind.value: self.by_kind.get(kind.value, 0) for kind in OperationKind}

    def tables_in_order(self) -> dict[str, TableChanges]:
        return dict(sorted(self.by_table.items()))
