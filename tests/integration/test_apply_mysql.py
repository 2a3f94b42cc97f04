"""Applying the changelog to the real target MariaDB: exact rows, resumable, and loud when the
target is not the copy the changelog continues."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdc.avro.codec import decode_record
from cdc.changes import ChangeRecord, Operation
from cdc.dsn import parse_dsn
from cdc.kafka.reader import read_committed
from replayer.applier import TargetDivergedError, read_position
from replayer.apply_mysql import (
    MysqlApplier,
    connect_target,
    prepare_session,
)
from tests.capture_helpers import (
    current_gtid_position,
    registry_of,
    run_capture_until_caught_up,
    write_capture_config,
)
from tests.compare import source_rows
from tests.db import mysql_connect, unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


@pytest.fixture
def captured(stack_env: StackEnv, tmp_path: Path) -> Iterator[tuple[str, list[tuple[int,
                                                                                    ChangeRecord]],
                                                                      object]]:
    database = unique_name("apply")
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    finish(workload(stack_env, database, "--transactions", "300", "--seed", "8"))
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}")
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 0, result.stderr
    registry = registry_of(setup)
    records = [(stored.offset, decode_record(stored.value, registry.lookup))
               for stored in read_committed(setup.bootstrap, setup.changelog_topic)]
    yield database, records, registry
    with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target, target.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{database}`")


def test_the_changelog_applied_in_two_sittings_equals_the_source(
        stack_env: StackEnv, captured: tuple[str, list[tuple[int, ChangeRecord]], object]
) -> None:
    database, records, registry = captured
    source_name = f"test-{secrets.token_hex(4)}"
    target_dsn = parse_dsn(stack_env["CDC_TARGET_MARIADB_DSN"])
    first = connect_target(target_dsn)
    prepare_session(first)
    applier = MysqlApplier(first, source_name, registry.lookup,  # type: ignore[attr-defined]
                           transactions_per_commit=7)
    half = first_half(records)
    applier.apply(records[:half])
    applier.flush()
    applier.apply(records[half:half + 1])  # one record more: not committed, as if killed
    first.close()

    second = connect_target(target_dsn)
    prepare_session(second)
    position = read_position(second, source_name)
    assert position is not None
    assert position.changelog_offset == records[half - 1][0]
    rest = [(offset, record) for offset, record in records
            if offset > position.changelog_offset]
    resumed = MysqlApplier(second, source_name, registry.lookup)  # type: ignore[attr-defined]
    resumed.apply(rest)
    resumed.flush()
    assert resumed.transactions == sum(r.transaction_last for _, r in rest
                                       if r.operation.value != "heartbeat")
    final = read_position(second, source_name)
    assert final is not None
    assert final.changelog_offset == max(o for o, r in records if r.transaction_last
                                         and r.operation.value != "heartbeat")

    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as source, \
            mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target:
        for table in (*WORKLOAD_TABLES, "type_torture"):
            expected = source_rows(source, database, table)
            assert expected, table
            assert source_rows(target, database, table) == expected, table

    again = MysqlApplier(second, f"{source_name}-again", registry.lookup)  # type: ignore[attr-defined]
    with pytest.raises(TargetDivergedError, match="changelog offset") as raised:
        again.apply(records)
    assert "restore it again from a snapshot" in raised.value.hint
    second.close()


def test_a_row_the_target_lacks_is_named_by_its_own_offset_within_a_commit(
        stack_env: StackEnv, captured: tuple[str, list[tuple[int, ChangeRecord]], object]
) -> None:
    """Many source transactions go to the target in one commit, their statements many to a
    round trip: an update in the middle that finds no row still stops applying at its own
    offset, and nothing of that commit stays."""
    database, records, registry = captured
    source_name = f"test-{secrets.token_hex(4)}"
    target_dsn = parse_dsn(stack_env["CDC_TARGET_MARIADB_DSN"])
    connection = connect_target(target_dsn)
    prepare_session(connection)
    applier = MysqlApplier(connection, source_name, registry.lookup,  # type: ignore[attr-defined]
                           transactions_per_commit=40)
    half = first_half(records)
    applier.apply(records[:half])
    applier.flush()
    rest = records[half:]
    offset, update, inserted = _update_after_an_insert_in_its_commit(rest, per_commit=40)
    assert update.before is not None
    assert inserted.after is not None
    with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target, target.cursor() as cur:
        cur.execute("SET foreign_key_checks = 0")  # its ledger entries stay: only it goes
        cur.execute(f"DELETE FROM `{database}`.accounts WHERE id = %s", (update.before["id"],))
        target.commit()
    with pytest.raises(TargetDivergedError) as raised:
        applier.apply(rest)
    assert f"changelog offset {offset} (the update of a row of {database}.accounts" \
        in raised.value.message
    assert "touched 0 rows of the target, not 1" in raised.value.message
    connection.close()
    with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target, target.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM `{database}`.payments WHERE id = %s",
                    (inserted.after["id"],))
        assert cur.fetchone() == (0,)  # the commit it was in was rolled back whole
    checked = connect_target(target_dsn)
    position = read_position(checked, source_name)
    checked.close()
    assert position is not None
    assert position.changelog_offset == records[half - 1][0]


def _update_after_an_insert_in_its_commit(
        records: list[tuple[int, ChangeRecord]], per_commit: int
) -> tuple[int, ChangeRecord, ChangeRecord]:
    """The first update of an account, with an insert of a payment before it in the same
    target commit (of ``per_commit`` source transactions), not its commit's first statement."""
    ended = 0
    inserted: ChangeRecord | None = None
    touched: set[object] = set()
    for offset, record in records:
        if record.operation is Operation.INSERT and record.table == "payments":
            inserted = record
        elif record.operation is Operation.INSERT and record.table == "accounts" \
                and record.after is not None:
            touched.add(record.after["id"])  # made in these records: deleting it misses
        elif record.operation is Operation.UPDATE and record.table == "accounts" \
                and record.before is not None:
            account = record.before["id"]
            if inserted is not None and ended > 20 and account not in touched:
                return offset, record, inserted
            touched.add(account)
        if record.transaction_last and not record.operation.is_marker:
            ended += 1
            if ended % per_commit == 0:
                inserted = None
    raise AssertionError("no update follows an insert within one commit")


def first_half(records: list[tuple[int, ChangeRecord]]) -> int:
    """How many records make about half of them, ending between source transactions."""
    half = len(records) // 2
    while not records[half - 1][1].transaction_last:
        half += 1
    return half
