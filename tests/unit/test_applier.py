"""The engine-independent part of applying: whole transactions, commits with positions,
tables left out, and the refusal to commit inside a source transaction."""

from __future__ import annotations

import pytest

from cdc.changes import ChangeRecord, Operation, SourcePosition, TableSchema
from cdc.errors import CdcError
from replayer.applier import AppliedPosition, Applier


class _Connection:
    """Just enough of a DB-API connection: the applier's own SQL is not under test here."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def cursor(self) -> _Connection:
        return self

    def rollback(self) -> None:
        self.log.append("rollback")


class _Recording(Applier):
    def __init__(self, **options: object) -> None:
        self.log: list[str] = []
        super().__init__(_Connection(self.log), "src", _no_schemas,
                         **options)  # type: ignore[arg-type]

    def _apply_row(self, offset: int, record: ChangeRecord) -> None:
        self.log.append(f"row {offset} {record.table}")

    def _apply_ddl(self, offset: int, record: ChangeRecord) -> None:
        self.log.append(f"ddl {offset}")

    def _commit(self, position: AppliedPosition) -> None:
        self.log.append(f"commit {position.changelog_offset} {position.gtid}")


def _no_schemas(database: str, table: str, version: int) -> TableSchema:
    raise AssertionError("not used")


def _record(gtid: str, index: int, last: bool, *, table: str = "t",
            operation: Operation = Operation.INSERT) -> ChangeRecord:
    return ChangeRecord(operation, "db", table, 1, None, {"id": 1}, None,
                        SourcePosition(gtid, gtid, 1, "b.000001", 4), 1_000_000, index, last)


TWO_TRANSACTIONS = [(10, _record("0-1-1", 0, False)), (11, _record("0-1-1", 1, True)),
                    (12, _record("0-1-2", 0, True))]


def test_each_transaction_commits_with_its_last_offset() -> None:
    applier = _Recording()
    applier.apply(TWO_TRANSACTIONS)
    assert applier.log == ["row 10 t", "row 11 t", "commit 11 0-1-1", "row 12 t",
                           "commit 12 0-1-2"]
    assert (applier.transactions, applier.rows) == (2, 3)


def test_several_transactions_per_commit_and_a_final_flush() -> None:
    progress: list[int] = []
    applier = _Recording(transactions_per_commit=5, progress=progress.append)
    applier.apply(TWO_TRANSACTIONS)
    assert applier.log[-1] == "row 12 t"
    applier.flush()
    assert applier.log[-1] == "commit 12 0-1-2"
    assert progress == [3]


def test_left_out_tables_still_end_their_transactions() -> None:
    applier = _Recording(include=lambda database, table: table != "hidden")
    applier.apply([(20, _record("0-1-3", 0, False)),
                   (21, _record("0-1-3", 1, True, table="hidden"))])
    assert applier.log == ["row 20 t", "commit 21 0-1-3"]
    assert applier.rows == 1


def test_heartbeats_are_not_applied() -> None:
    applier = _Recording()
    applier.apply([(30, _record("0-1-4", 0, True, operation=Operation.HEARTBEAT))])
    assert applier.log == []


def test_committing_inside_a_source_transaction_is_refused() -> None:
    applier = _Recording()
    applier.apply(TWO_TRANSACTIONS[:1])
    with pytest.raises(CdcError, match="inside a source transaction"):
        applier.flush()


def test_divergence_rolls_back_and_names_the_offset_and_transaction() -> None:
    applier = _Recording()
    error = applier.diverged(42, _record("0-1-9", 0, True), "it touched 0 rows")
    assert applier.log == ["rollback"]
    assert "changelog offset 42" in error.message
    assert "0-1-9" in error.message
    assert "restore it again" in error.hint
