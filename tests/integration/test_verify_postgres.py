"""replayer verify between the real MariaDB source and a PostgreSQL copy of it.

The copy is built here, the way the PostgreSQL loader lays it out: the MySQL database ``db``
as the schema ``db`` of the DSN's database, each table made by ``create_table_sql`` and filled
by COPY with ``copy_row`` from the source's rows read canonically. Type-torture rows the
mapping refuses (zero dates, NUL in text) are deleted from the source first: PostgreSQL
cannot hold them, so no copy of them can be identical.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cdc.changes import Column, Row, TableSchema
from cdc.dsn import parse_dsn
from cdc.errors import TypeMappingError
from cdc.snapshot.chunk_file import encode_chunk
from cdc.snapshot.manifest import Anchor, FileEntry, Manifest, SourceInfo, TableEntry, to_json
from cdc.snapshot.session import connect
from cdc.snapshot.source_tables import read_table_schema
from cdc.snapshot.store_file import FileSnapshotStore
from cdc.snapshot.table_rows import canonical_values, read_raw_rows
from cdc.snapshot.take import column_to_json, new_snapshot_id
from cdc.snapshot.text_values import converter_for
from replayer.postgres_types import copy_row, create_table_sql, quote_ident
from tests.capture_helpers import capture_env, write_capture_config
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.snapshot_helpers import snapshot_section
from tests.stack import StackEnv

pytestmark = pytest.mark.integration

TABLES = (*WORKLOAD_TABLES, "type_torture")
TORTURE = "type_torture"


def replayer_verify(*args: str, tz: str | None = None,
                    extra_env: dict[str, str] | None = None
                    ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replayer", "verify", *args],
                          env={**capture_env(tz), **(extra_env or {})}, capture_output=True,
                          text=True, timeout=300, check=False)


def verify_pg(stack_env: StackEnv, database: str, *extra: str, tz: str | None = None,
              extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return replayer_verify("--source", stack_env["CDC_SOURCE_ADMIN_DSN"], "--target",
                           stack_env["CDC_POSTGRES_DSN"], "--tables", database,
                           "--chunk-rows", "50", *extra, tz=tz, extra_env=extra_env)


def report_of(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {t["table"].split(".")[1]: t for t in json.loads(result.stdout)["tables"]}


def source_schemas_and_rows(stack_env: StackEnv, database: str
                            ) -> Iterator[tuple[TableSchema, list[Row]]]:
    """Each table's schema and canonical rows, read as a snapshot reads them (in UTC)."""
    connection = connect(parse_dsn(stack_env["CDC_SOURCE_ADMIN_DSN"]))
    try:
        connection.cursor().execute("SET SESSION time_zone = '+00:00'")
        for table in TABLES:
            schema = read_table_schema(connection.cursor(), database, table)
            names = tuple(c.name for c in schema.columns)
            converters = tuple(converter_for(c) for c in schema.columns)
            yield schema, [canonical_values(schema, names, converters, raw)
                           for raw in read_raw_rows(connection, schema)]
    finally:
        connection.close()


def create_postgres_copy(stack_env: StackEnv, tables: Iterable[tuple[TableSchema, list[Row]]]
                         ) -> dict[str, list[int]]:
    """Create and fill each table in PostgreSQL; returns the keys of rows it cannot hold."""
    refused: dict[str, list[int]] = {}
    with postgres_connect(stack_env["CDC_POSTGRES_DSN"]) as pg, pg.cursor() as cursor:
        for schema, rows in tables:
            lines = []
            for row in rows:
                try:
                    lines.append(copy_row(schema, row))
                except TypeMappingError:
                    refused.setdefault(schema.table, []).append(int(row["id"]))
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema.database)}")
            cursor.execute(create_table_sql(schema, target_schema=schema.database))
            cursor.copy_expert(f"COPY {quote_ident(schema.database)}."
                               f"{quote_ident(schema.table)} FROM STDIN",
                               io.StringIO("".join(lines)))
    return refused


def drop_postgres_schema(stack_env: StackEnv, name: str) -> None:
    with postgres_connect(stack_env["CDC_POSTGRES_DSN"]) as pg, pg.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_ident(name)} CASCADE")


def drop_source_database(stack_env: StackEnv, database: str) -> None:
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")


def leave_out(stack_env: StackEnv, database: str, refused: dict[str, list[int]]) -> None:
    """Delete from the source the torture rows PostgreSQL cannot hold."""
    assert set(refused) <= {TORTURE}, f"rows of payment tables refused: {refused}"
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cursor:
        for key in refused.get(TORTURE, []):
            cursor.execute(f"DELETE FROM `{database}`.`{TORTURE}` WHERE id = %s", (key,))


def execute_in_postgres(stack_env: StackEnv, database: str, *statements: str) -> None:
    with postgres_connect(stack_env["CDC_POSTGRES_DSN"]) as pg, pg.cursor() as cursor:
        cursor.execute(f"SET search_path TO {quote_ident(database)}")
        for statement in statements:
            cursor.execute(statement)


def postgres_ids(stack_env: StackEnv, database: str, table: str) -> list[int]:
    with postgres_connect(stack_env["CDC_POSTGRES_DSN"]) as pg, pg.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {quote_ident(database)}.{quote_ident(table)} "
                       "ORDER BY id")
        return [int(key) for (key,) in cursor.fetchall()]


@pytest.fixture
def pg_copy(stack_env: StackEnv) -> Iterator[str]:
    """A workload database on the source and its PostgreSQL copy, schema of the same name."""
    database = unique_name("verifypg")
    try:
        finish(workload(stack_env, database, "--setup-only"))
        finish(workload(stack_env, database, "--transactions", "200", "--seed", "5"))
        refused = create_postgres_copy(stack_env, source_schemas_and_rows(stack_env, database))
        assert refused.get(TORTURE), "no torture row was refused: the zero dates are gone?"
        leave_out(stack_env, database, refused)
        yield database
    finally:
        drop_postgres_schema(stack_env, database)
        drop_source_database(stack_env, database)


def test_an_exact_postgresql_copy_is_identical(stack_env: StackEnv, pg_copy: str) -> None:
    result = verify_pg(stack_env, pg_copy, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = report_of(result)
    assert set(report) == set(TABLES)
    assert all(t["identical"] and t["source_rows"] == t["target_rows"] > 0
               for t in report.values()), report
    assert max(t["chunks"] for t in report.values()) > 1  # chunked by key range

    text = verify_pg(stack_env, pg_copy)
    assert text.returncode == 0, text.stdout + text.stderr
    assert text.stdout.splitlines()[-1] == "identical"


def test_timestamps_compare_identical_in_any_host_time_zone(stack_env: StackEnv,
                                                            pg_copy: str) -> None:
    # TZ moves the host's local time, PGTZ the PostgreSQL session's default: neither matters.
    result = verify_pg(stack_env, pg_copy, "--json", tz="America/New_York",
                       extra_env={"PGTZ": "Asia/Kolkata"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert report_of(result)[TORTURE]["source_rows"] > 0


def test_changed_missing_and_extra_rows_are_named(stack_env: StackEnv, pg_copy: str) -> None:
    changed = postgres_ids(stack_env, pg_copy, "payments")[2]
    missing = postgres_ids(stack_env, pg_copy, "ledger_entries")[6]
    execute_in_postgres(
        stack_env, pg_copy,
        f"UPDATE payments SET amount = amount + 0.0001 WHERE id = {changed}",
        f"DELETE FROM ledger_entries WHERE id = {missing}",
        "INSERT INTO refunds (id, payment_id, amount, reason, created_at) "
        "VALUES (900000, 900000, 1, 'invented', '2026-01-01 00:00:00')")
    result = verify_pg(stack_env, pg_copy, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = report_of(result)
    assert report["payments"]["changed"] == [[changed]]
    assert report["ledger_entries"]["missing_in_target"] == [[missing]]
    assert report["refunds"]["extra_in_target"] == [[900000]]
    assert (report["accounts"]["identical"], report[TORTURE]["identical"]) == (True, True)
    assert json.loads(result.stdout)["identical"] is False

    text = verify_pg(stack_env, pg_copy)
    assert text.returncode == 1
    assert f"changed: {changed}" in text.stdout
    assert f"missing in the target: {missing}" in text.stdout
    assert "extra in the target: 900000" in text.stdout
    assert text.stdout.splitlines()[-1] == "DIFFERENT"


def write_snapshot(store: Path, schema: TableSchema, rows: list[Row]) -> str:
    """A one-table snapshot, as ``cdc snapshot`` writes one, of rows given here."""
    files = FileSnapshotStore(store)
    now = datetime.now(UTC)
    snapshot_id = new_snapshot_id(now)
    stored = files.write_file(snapshot_id, "t0000-00000.avro", encode_chunk(schema, rows))
    entry = FileEntry(name=stored.name, rows=len(rows), bytes=stored.size,
                      sha256=stored.sha256, first_key=[rows[0]["id"]],
                      last_key=[rows[-1]["id"]])
    table = TableEntry(database=schema.database, table=schema.table,
                       columns=[column_to_json(c) for c in schema.columns],
                       primary_key=schema.primary_key, rows=len(rows), bytes=stored.size,
                       files=(entry,))
    manifest = Manifest(
        snapshot_id=snapshot_id, created_at=now, finished_at=now,
        source=SourceInfo(name="mysql8", host="127.0.0.1", port=3306, server_id=1,
                          flavor="mysql", version="8.0.36"),
        anchor=Anchor(gtid_position="", binlog_file="binlog.000001", binlog_position=4,
                      changelog_offset=None),
        compression="zstandard", encryption=None, tables=(table,))
    files.write_manifest(snapshot_id, to_json(manifest))
    return snapshot_id


@pytest.fixture
def json_documents(stack_env: StackEnv, tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """A snapshot of a MySQL 8 JSON column (MariaDB's JSON is LONGTEXT, which stays text in
    PostgreSQL) and its PostgreSQL copy in jsonb, each document spelled differently on each
    side: spacing, key order, escapes, a duplicate key (the last one counts, as in jsonb),
    1.0E2 for 100, a number no float holds."""
    database = unique_name("verifyjson")
    schema = TableSchema(database, "documents", 0, (
        Column("id", "int", nullable=False), Column("doc", "json", charset="utf8mb4")), ("id",))
    source = {
        1: '{ "z" : [1.0E2, "\\u00e9"],\n "a": 1, "n": 0.1000000000000000000001,'
           ' "a": {"y": null, "x": true} }',
        2: '{"n": 0.1000000000000000000001, "big": 123456789012345678901234567890}',
        3: '[ ]',
        4: None,
    }
    postgres = {
        1: '{"a": {"x": true, "y": null}, "n": 0.10000000000000000000010, "z": [100, "é"]}',
        2: '{"big": 1.23456789012345678901234567890E+29, "n": 0.1000000000000000000001}',
        3: '[]',
        4: None,
    }
    store = tmp_path / "store"
    snapshot_id = write_snapshot(store, schema, [{"id": k, "doc": v} for k, v in source.items()])
    setup = write_capture_config(tmp_path, stack_env, database, "current",
                                 extra_capture=snapshot_section(store))
    try:
        create_postgres_copy(stack_env, [(schema, [{"id": k, "doc": v}
                                                   for k, v in postgres.items()])])
        yield database, setup.config_path, snapshot_id
    finally:
        drop_postgres_schema(stack_env, database)


def test_json_compares_as_a_document_and_its_numbers_exactly(
        stack_env: StackEnv, json_documents: tuple[str, Path, str]) -> None:
    database, config, snapshot_id = json_documents
    args = ("--snapshot", snapshot_id, "--config", str(config), "--target",
            stack_env["CDC_POSTGRES_DSN"], "--tables", database, "--json")
    result = replayer_verify(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report_of(result)["documents"]["source_rows"] == 4

    # 0.1 is what a float would take the source's number for: it is another number.
    execute_in_postgres(stack_env, database, "UPDATE documents SET doc = "
                        """'{"n": 0.1, "big": 123456789012345678901234567890}' WHERE id = 2""")
    result = replayer_verify(*args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert report_of(result)["documents"]["changed"] == [[2]]


def test_a_missing_or_reshaped_table_is_a_difference(stack_env: StackEnv,
                                                     pg_copy: str) -> None:
    execute_in_postgres(stack_env, pg_copy, "DROP TABLE ledger_entries",
                        "ALTER TABLE refunds ALTER COLUMN reason TYPE text",
                        "ALTER TABLE accounts ADD COLUMN note text")
    result = verify_pg(stack_env, pg_copy, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = report_of(result)
    assert "the table is missing in the target" in report["ledger_entries"]["problems"][0]
    assert "column reason: varchar(255) in the source, text in the target" in \
        report["refunds"]["problems"][0]
    assert "column note only in the target" in report["accounts"]["problems"][0]
    assert report["payments"]["identical"] is True


def test_an_unreachable_or_refusing_postgresql_is_a_clear_error(stack_env: StackEnv) -> None:
    pg = parse_dsn(stack_env["CDC_POSTGRES_DSN"])
    source = stack_env["CDC_SOURCE_ADMIN_DSN"]
    wrong_password = f"postgresql://{pg.user}:wrong@{pg.host}:{pg.port}/{pg.database}"
    nobody_listens = f"postgresql://{pg.user}:{pg.password}@{pg.host}:1/{pg.database}"
    no_database = f"postgresql://{pg.user}:{pg.password}@{pg.host}:{pg.port}/"
    for dsn, reason in ((wrong_password, "password authentication failed"),
                        (nobody_listens, "Connection refused"),
                        (no_database, "names no database")):
        result = replayer_verify("--source", source, "--target", dsn, "--tables", "nothing")
        assert result.returncode == 2, result.stderr
        assert reason in result.stderr
        assert result.stderr.startswith("error: ")
        assert "\nhint: " in result.stderr
        assert "Traceback" not in result.stderr
        assert pg.password not in result.stderr
