"""Applying the changelog to the real PostgreSQL: many statements to a round trip, yet a row
the target lacks, or holds already, is still named by its own changelog offset, and nothing
of its target transaction stays."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

from cdc.changes import ChangeRecord, Operation
from cdc.dsn import parse_dsn
from replayer.applier import TargetDivergedError, read_position
from replayer.apply_postgres import PostgresApplier
from replayer.target_postgres import connect_postgres, prepare_postgres
from tests.db import postgres_connect
from tests.integration.test_apply_mysql import (
    _update_after_an_insert_in_its_commit,
    captured,
    first_half,
)
from tests.integration.test_capture_crash import WORKLOAD_TABLES

pytestmark = pytest.mark.integration

__all__ = ["captured"]  # the fixture, shared with the MySQL applier's tests

Captured = tuple[str, list[tuple[int, ChangeRecord]], object]
PER_COMMIT = 40


def _applier(dsn: str, source_name: str, registry: object) -> PostgresApplier:
    connection = connect_postgres(parse_dsn(dsn))
    prepare_postgres(connection)
    return PostgresApplier(connection, source_name, registry.lookup,  # type: ignore[attr-defined]
                           transactions_per_commit=PER_COMMIT,
                           include=lambda _, table: table is None or table in WORKLOAD_TABLES)


def _run_sql(dsn: str, statement: str, values: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with postgres_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(statement, values)
        return list(cursor.fetchall()) if cursor.description else []


def test_the_changelog_applied_in_batches_equals_a_one_by_one_apply(
        captured: Captured, postgres_databases: Callable[[], str]) -> None:
    database, records, registry = captured
    batched, one_by_one = postgres_databases(), postgres_databases()
    applier = _applier(batched, "batched", registry)
    applier.apply(records)
    applier.flush()
    reference = _applier(one_by_one, "one-by-one", registry)
    reference._batching = False  # the statement-at-a-time path the batches fall back on
    reference.apply(records)
    reference.flush()
    for table in WORKLOAD_TABLES:
        query = f'SELECT * FROM "{database}"."{table}" ORDER BY id'
        rows = _run_sql(batched, query)
        assert rows, table
        assert rows == _run_sql(one_by_one, query), table


def test_a_row_the_target_lacks_is_named_by_its_own_offset_within_a_commit(
        captured: Captured, postgres_databases: Callable[[], str]) -> None:
    database, records, registry = captured
    dsn = postgres_databases()
    source_name = f"test-{secrets.token_hex(4)}"
    applier = _applier(dsn, source_name, registry)
    half = first_half(records)
    applier.apply(records[:half])
    applier.flush()
    rest = records[half:]
    offset, update, inserted = _update_after_an_insert_in_its_commit(rest, PER_COMMIT)
    assert update.before is not None
    assert inserted.after is not None
    _drop_foreign_keys(dsn, database)
    _run_sql(dsn, f'DELETE FROM "{database}".accounts WHERE id = %s', (update.before["id"],))
    with pytest.raises(TargetDivergedError) as raised:
        applier.apply(rest)
    assert f"changelog offset {offset} (the update of a row of {database}.accounts" \
        in raised.value.message
    assert "touched 0 rows of the target, not 1" in raised.value.message
    assert _run_sql(dsn, f'SELECT count(*) FROM "{database}".payments WHERE id = %s',
                    (inserted.after["id"],)) == [(0,)]  # its commit was rolled back whole
    checked = connect_postgres(parse_dsn(dsn))
    position = read_position(checked, source_name)
    checked.close()
    assert position is not None
    assert position.changelog_offset == records[half - 1][0]


def test_a_row_the_target_holds_already_is_named_by_its_own_offset(
        captured: Captured, postgres_databases: Callable[[], str]) -> None:
    database, records, registry = captured
    dsn = postgres_databases()
    applier = _applier(dsn, f"test-{secrets.token_hex(4)}", registry)
    half = first_half(records)
    applier.apply(records[:half])
    applier.flush()
    offset, record = _insert_inside_a_commit(records[half:], "payments")
    assert record.after is not None
    columns = ", ".join(f'"{name}"' for name in record.after)
    marks = ", ".join(["%s"] * len(record.after))
    _drop_foreign_keys(dsn, database)
    _run_sql(dsn, f'INSERT INTO "{database}".payments ({columns}) VALUES ({marks})',
             tuple(record.after.values()))
    with pytest.raises(TargetDivergedError) as raised:
        applier.apply(records[half:])
    assert f"changelog offset {offset} (the insert of a row of {database}.payments" \
        in raised.value.message
    assert "the target refused it" in raised.value.message


def _insert_inside_a_commit(records: list[tuple[int, ChangeRecord]],
                            table: str) -> tuple[int, ChangeRecord]:
    """An insert into ``table`` some transactions into the records, so not the first
    statement of its commit."""
    ended = 0
    for offset, record in records:
        if record.operation is Operation.INSERT and record.table == table and ended > 5:
            return offset, record
        ended += record.transaction_last
    raise AssertionError(f"no row of {table} is inserted in these records")


def _drop_foreign_keys(dsn: str, database: str) -> None:
    """So that the test can remove or add a row by itself."""
    found = _run_sql(dsn, "SELECT conrelid::regclass::text, conname FROM pg_constraint "
                          "WHERE contype = 'f' AND connamespace = %s::regnamespace",
                     (f'"{database}"',))
    for table, name in found:
        _run_sql(dsn, f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
