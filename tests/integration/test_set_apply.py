"""Set-based replay on the real MariaDB and PostgreSQL: the payments workload and the
type-torture table replayed a group at a time leave the same target as the statement-by-
statement reference path; a row the target lacks is still named by its own offset; a group
the target refuses only because of the grouping's order is applied again the reference way."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cdc.avro.codec import decode_record
from cdc.avro.envelope import encode_envelope
from cdc.avro.row_schema import row_codec
from cdc.changes import ChangeRecord, Column, Operation, Row, SourcePosition, TableSchema
from cdc.dsn import parse_dsn
from cdc.kafka.reader import read_committed
from cdc.values import ZeroDate, ZeroDateTime
from replayer.applier import Applier, TargetDivergedError, read_position
from replayer.apply_mysql import MysqlApplier, connect_target, prepare_session
from replayer.apply_postgres import PostgresApplier
from replayer.raw_changes import RawChange, raw_change
from replayer.set_apply import SetApplier
from replayer.set_apply_mysql import MysqlSetApplier
from replayer.set_apply_postgres import PostgresSetApplier
from replayer.target_postgres import connect_postgres, prepare_postgres
from tests.capture_helpers import (
    current_gtid_position,
    registry_of,
    run_capture_until_caught_up,
    write_capture_config,
)
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.integration.test_apply_mysql import _update_after_an_insert_in_its_commit, first_half
from tests.integration.test_apply_postgres import _drop_foreign_keys
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.stack import StackEnv

pytestmark = pytest.mark.integration

TABLES = (*WORKLOAD_TABLES, "type_torture")


class Captured:
    def __init__(self, database: str, raw: list[RawChange], registry: Any) -> None:
        self.database = database
        self.raw = raw
        self.registry = registry
        self.records = [(c.offset, decode_record(c.value, registry.lookup)) for c in raw]


@pytest.fixture
def captured(stack_env: StackEnv, tmp_path: Path) -> Iterator[Captured]:
    database = unique_name("setapply")
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    finish(workload(stack_env, database, "--transactions", "400", "--seed", "21"))
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}")
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 0, result.stderr
    raw = [raw_change(s.offset, s.value)
           for s in read_committed(setup.bootstrap, setup.changelog_topic)]
    yield Captured(database, raw, registry_of(setup))
    with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target, target.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{database}`")


def _mysql_tables(dsn: str, database: str) -> dict[str, list[tuple[object, ...]]]:
    with mysql_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SET SESSION time_zone = '+00:00'")
        found = {}
        for table in TABLES:
            cursor.execute(f"SELECT * FROM `{database}`.`{table}` ORDER BY id")
            found[table] = list(cursor.fetchall())
        return found


def _postgres_tables(dsn: str, database: str) -> dict[str, list[tuple[object, ...]]]:
    with postgres_connect(dsn) as connection, connection.cursor() as cursor:
        found = {}
        for table in TABLES:
            cursor.execute(f'SELECT * FROM "{database}"."{table}" ORDER BY id')
            found[table] = list(cursor.fetchall())
        return found


def _mysql_applier(kind: type[Applier], dsn: str, registry: Any, **options: Any) -> Any:
    connection = connect_target(parse_dsn(dsn))
    prepare_session(connection)
    return kind(connection, f"test-{secrets.token_hex(4)}", registry.lookup, **options)


def _postgres_applier(kind: type[Applier], dsn: str, registry: Any, **options: Any) -> Any:
    connection = connect_postgres(parse_dsn(dsn))
    prepare_postgres(connection)
    return kind(connection, f"test-{secrets.token_hex(4)}", registry.lookup, **options)


def _replay(applier: SetApplier, changes: list[RawChange]) -> None:
    applier.apply_raw(changes)
    applier.flush()


def test_set_based_replay_into_mariadb_equals_the_statement_path(
        stack_env: StackEnv, captured: Captured) -> None:
    dsn = stack_env["CDC_TARGET_MARIADB_DSN"]
    reference = _mysql_applier(MysqlApplier, dsn, captured.registry, transactions_per_commit=50)
    reference.apply(captured.records)
    reference.flush()
    expected = _mysql_tables(dsn, captured.database)
    assert all(expected[table] for table in TABLES), "the workload wrote every table"
    with mysql_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE `{captured.database}`")

    grouped = _mysql_applier(MysqlSetApplier, dsn, captured.registry)
    _replay(grouped, captured.raw)
    assert grouped.groups > len(TABLES)  # the set-based path did the work
    assert grouped.fallbacks == 0
    assert grouped.rows == reference.rows
    assert _mysql_tables(dsn, captured.database) == expected


def test_set_based_replay_into_postgresql_equals_the_statement_path(
        captured: Captured, postgres_databases: Callable[[], str]) -> None:
    by_statement, by_group = postgres_databases(), postgres_databases()
    # Both paths refuse a zero date (PostgreSQL cannot hold one): those row changes are left
    # out of both, the torture table's other rows and values all go in.
    held = [index for index, (_, record) in enumerate(captured.records)
            if not _zero_dated(record)]
    assert len(held) < len(captured.records), "the torture rows with zero dates were written"
    reference = _postgres_applier(PostgresApplier, by_statement, captured.registry,
                                  transactions_per_commit=50)
    reference.apply(captured.records[index] for index in held)
    reference.flush()
    grouped = _postgres_applier(PostgresSetApplier, by_group, captured.registry)
    _replay(grouped, [captured.raw[index] for index in held])
    assert grouped.groups > len(TABLES)
    assert grouped.fallbacks == 0
    expected = _postgres_tables(by_statement, captured.database)
    assert all(expected[table] for table in TABLES)
    assert _postgres_tables(by_group, captured.database) == expected


def _zero_dated(record: ChangeRecord) -> bool:
    return any(isinstance(value, ZeroDate | ZeroDateTime)
               for image in (record.before, record.after) if image is not None
               for value in image.values())


@pytest.mark.parametrize("engine", ["mariadb", "postgresql"])
def test_a_row_the_target_lacks_is_still_named_by_its_own_offset(
        stack_env: StackEnv, captured: Captured, postgres_databases: Callable[[], str],
        engine: str) -> None:
    per_commit = 40
    if engine == "mariadb":
        dsn = stack_env["CDC_TARGET_MARIADB_DSN"]
        applier = _mysql_applier(MysqlSetApplier, dsn, captured.registry,
                                 transactions_per_commit=per_commit)
        delete = f"DELETE FROM `{captured.database}`.accounts WHERE id = %s"
    else:
        dsn = postgres_databases()
        applier = _postgres_applier(PostgresSetApplier, dsn, captured.registry,
                                    transactions_per_commit=per_commit,
                                    include=lambda _, table: table is None
                                    or table in WORKLOAD_TABLES)  # no zero dates
        delete = f'DELETE FROM "{captured.database}".accounts WHERE id = %s'
    half = first_half(captured.records)
    _replay(applier, captured.raw[:half])
    offset, update, inserted = _update_after_an_insert_in_its_commit(
        captured.records[half:], per_commit)
    assert update.before is not None
    assert inserted.after is not None
    if engine == "postgresql":
        _drop_foreign_keys(dsn, captured.database)
    _run(engine, dsn, delete, (update.before["id"],))
    with pytest.raises(TargetDivergedError) as raised:
        _replay(applier, captured.raw[half:])
    assert f"changelog offset {offset} (the update of a row of {captured.database}.accounts" \
        in raised.value.message
    assert applier.fallbacks == 1
    payment = f"{captured.database}.payments" if engine == "mariadb" \
        else f'"{captured.database}".payments'
    assert _run(engine, dsn, f"SELECT count(*) FROM {payment} WHERE id = %s",
                (inserted.after["id"],)) == [(0,)]  # its commit was rolled back whole
    position = read_position(applier._connection, applier._source)
    assert position is not None
    assert position.changelog_offset == captured.records[half - 1][0]


def _run(engine: str, dsn: str, statement: str, values: tuple[object, ...] = ()
         ) -> list[tuple[object, ...]]:
    connect = mysql_connect if engine == "mariadb" else postgres_connect
    with connect(dsn) as connection, connection.cursor() as cursor:
        if engine == "mariadb":  # so that the test can remove a row by itself
            cursor.execute("SET SESSION foreign_key_checks = 0")
        cursor.execute(statement, values)
        rows = list(cursor.fetchall()) if cursor.description else []
        connection.commit()
        return rows


# --- a unique value moved between rows: the grouping's order upsets it ---------------------------

SHAPE = TableSchema("moves", "tags", 1, (
    Column("id", "int"), Column("label", "varchar", precision=20, charset="utf8mb4")), ("id",))


def _change(offset: int, operation: Operation, before: Row | None, after: Row | None, *,
            transaction: int) -> RawChange:
    codec = row_codec(SHAPE)
    record = ChangeRecord(
        operation=operation, database=SHAPE.database, table=SHAPE.table,
        schema_version=SHAPE.version, before=before, after=after, statement=None,
        position=SourcePosition(gtid=f"0-1-{transaction}", gtid_position=f"0-1-{transaction}",
                                server_id=1, binlog_file="b.000001", binlog_position=offset),
        commit_time_us=1_700_000_000_000_000 + transaction, transaction_index=0,
        transaction_last=True)
    encoded = encode_envelope(record, None if before is None else codec.encode(before),
                              None if after is None else codec.encode(after))
    return raw_change(offset, encoded)


@pytest.mark.parametrize("engine", ["mariadb", "postgresql"])
def test_a_unique_value_moved_between_rows_falls_back_and_is_applied(
        stack_env: StackEnv, postgres_databases: Callable[[], str], engine: str) -> None:
    first = [_change(0, Operation.INSERT, None, {"id": 1, "label": "red"}, transaction=1),
             _change(1, Operation.INSERT, None, {"id": 2, "label": "blue"}, transaction=2)]
    # The insert group opens first: the new row 3 would take 'red' before row 1 is deleted.
    moves = [_change(2, Operation.INSERT, None, {"id": 4, "label": "green"}, transaction=3),
             _change(3, Operation.DELETE, {"id": 1, "label": "red"}, None, transaction=4),
             _change(4, Operation.INSERT, None, {"id": 3, "label": "red"}, transaction=5),
             # The delete of row 3 meets it in the insert group: the groups are applied
             # here, refused, and the transaction so far applied again; then on, grouped.
             _change(5, Operation.DELETE, {"id": 3, "label": "red"}, None, transaction=6),
             _change(6, Operation.INSERT, None, {"id": 5, "label": "red"}, transaction=7)]
    lookup = {(SHAPE.database, SHAPE.table, SHAPE.version): SHAPE}

    class Registry:
        @staticmethod
        def lookup(database: str, table: str, version: int) -> TableSchema:
            return lookup[database, table, version]

    if engine == "mariadb":
        dsn = stack_env["CDC_TARGET_MARIADB_DSN"]
        _run(engine, dsn, "DROP DATABASE IF EXISTS moves")
        _run(engine, dsn, "CREATE DATABASE moves")
        _run(engine, dsn, "CREATE TABLE moves.tags (id INT PRIMARY KEY, label VARCHAR(20) "
                          "NOT NULL UNIQUE)")
        applier = _mysql_applier(MysqlSetApplier, dsn, Registry)
        _replay(applier, first)
    else:
        dsn = postgres_databases()
        applier = _postgres_applier(PostgresSetApplier, dsn, Registry)
        _replay(applier, first)  # the table follows the version: created here
        _run(engine, dsn, "CREATE UNIQUE INDEX ON moves.tags (label)")
    try:
        _replay(applier, moves)
        assert applier.fallbacks == 1
        assert _run(engine, dsn, "SELECT id, label FROM moves.tags ORDER BY id") == [
            (2, "blue"), (4, "green"), (5, "red")]
        position = read_position(applier._connection, applier._source)
        assert position is not None
        assert position.changelog_offset == 6
    finally:
        if engine == "mariadb":
            _run(engine, dsn, "DROP DATABASE IF EXISTS moves")
