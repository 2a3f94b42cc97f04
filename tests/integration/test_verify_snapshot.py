"""replayer verify --snapshot: a stored snapshot's rows against the live source right after it
was taken, against a MariaDB copy of it, and against a PostgreSQL copy of it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdc.snapshot.catalog import table_schema
from cdc.snapshot.manifest import Manifest
from tests.capture_helpers import capture_env, write_capture_config
from tests.db import mysql_connect, unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.integration.test_verify_postgres import (
    TABLES,
    TORTURE,
    create_postgres_copy,
    drop_postgres_schema,
    drop_source_database,
    replayer_verify,
    report_of,
)
from tests.snapshot_helpers import newest_manifest, snapshot_section, snapshot_tables, take
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Snapshotted:
    database: str
    config: Path
    store: Path
    manifest: Manifest

    def verify(self, target: str, *extra: str,
               tz: str | None = None) -> subprocess.CompletedProcess[str]:
        return replayer_verify("--snapshot", self.manifest.snapshot_id, "--config",
                               str(self.config), "--target", target, "--tables", self.database,
                               "--chunk-rows", "50", *extra, tz=tz)


@pytest.fixture
def snapshotted(stack_env: StackEnv, tmp_path: Path) -> Iterator[Snapshotted]:
    """A workload database on the source and a snapshot of it taken just now."""
    database = unique_name("verifysnap")
    store = tmp_path / "store"
    try:
        finish(workload(stack_env, database, "--setup-only"))
        finish(workload(stack_env, database, "--transactions", "200", "--seed", "6"))
        setup = write_capture_config(tmp_path, stack_env, database, "current",
                                     extra_capture=snapshot_section(store, anchor_wait="0s"))
        take(setup.config_path)
        yield Snapshotted(database, setup.config_path, store, newest_manifest(store))
    finally:
        drop_source_database(stack_env, database)


@pytest.fixture
def copied_target(stack_env: StackEnv, snapshotted: Snapshotted) -> Iterator[str]:
    """The payment tables copied into the target MariaDB, as the source holds them (and the
    snapshot: nothing was written since)."""
    dsn = stack_env["CDC_TARGET_MARIADB_DSN"]
    database = snapshotted.database
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as source, \
            mysql_connect(dsn) as target, target.cursor() as out:
        out.execute(f"CREATE DATABASE `{database}`")
        out.execute(f"USE `{database}`")
        out.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table in WORKLOAD_TABLES:
            with source.cursor() as cursor:
                cursor.execute(f"SHOW CREATE TABLE `{database}`.`{table}`")
                found = cursor.fetchone()
                assert found is not None
                cursor.execute(f"SELECT * FROM `{database}`.`{table}`")
                rows = cursor.fetchall()
                marks = ", ".join(["%s"] * len(cursor.description or ()))
            out.execute(found[1])
            out.executemany(f"INSERT INTO `{table}` VALUES ({marks})", rows)
    try:
        yield dsn
    finally:
        with mysql_connect(dsn) as target, target.cursor() as out:
            out.execute(f"DROP DATABASE IF EXISTS `{database}`")


def test_a_snapshot_equals_its_source_right_after(stack_env: StackEnv,
                                                  snapshotted: Snapshotted) -> None:
    result = snapshotted.verify(stack_env["CDC_SOURCE_ADMIN_DSN"], "--json",
                                tz="America/New_York")
    assert result.returncode == 0, result.stdout + result.stderr
    report = report_of(result)
    rows = {t.table: t.rows for t in snapshotted.manifest.tables}
    assert set(report) == set(TABLES) == set(rows)
    assert {table: (t["source_rows"], t["target_rows"]) for table, t in report.items()} == \
        {table: (count, count) for table, count in rows.items()}
    assert min(rows.values()) > 0
    assert max(t["chunks"] for t in report.values()) > 1  # cut into chunks as it is read

    text = snapshotted.verify(stack_env["CDC_SOURCE_ADMIN_DSN"])
    assert text.returncode == 0, text.stdout + text.stderr
    assert text.stdout.splitlines()[-1] == "identical"


def test_a_changed_row_in_a_copy_is_named(snapshotted: Snapshotted, copied_target: str) -> None:
    tables = ",".join(f"{snapshotted.database}.{table}" for table in WORKLOAD_TABLES)
    result = snapshotted.verify(copied_target, "--json", "--tables", tables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(report_of(result)) == set(WORKLOAD_TABLES)

    with mysql_connect(copied_target, snapshotted.database) as target, \
            target.cursor() as cursor:
        cursor.execute("SELECT id FROM accounts ORDER BY id LIMIT 1 OFFSET 2")
        found = cursor.fetchone()
        assert found is not None
        changed = int(found[0])
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        cursor.execute("UPDATE accounts SET balance = balance + 0.0001 WHERE id = %s",
                       (changed,))
        cursor.execute("DELETE FROM ledger_entries ORDER BY id DESC LIMIT 1")
        cursor.execute("INSERT INTO refunds (id, payment_id, amount, reason) "
                       "VALUES (900000, 900000, 1, 'invented')")
    last_entry = max(key[0] for key in snapshot_tables(
        snapshotted.store, snapshotted.manifest)["ledger_entries"])

    result = snapshotted.verify(copied_target, "--json", "--tables", tables)
    assert result.returncode == 1, result.stdout + result.stderr
    report = report_of(result)
    assert report["accounts"]["changed"] == [[changed]]
    assert report["ledger_entries"]["missing_in_target"] == [[last_entry]]
    assert report["refunds"]["extra_in_target"] == [[900000]]
    assert report["payments"]["identical"] is True

    text = snapshotted.verify(copied_target, "--tables", tables)
    assert text.returncode == 1
    assert f"changed: {changed}" in text.stdout
    assert text.stdout.splitlines()[-1] == "DIFFERENT"


def test_a_postgresql_copy_of_a_snapshot_is_identical_but_for_what_it_cannot_hold(
        stack_env: StackEnv, snapshotted: Snapshotted) -> None:
    rows = snapshot_tables(snapshotted.store, snapshotted.manifest)
    schemas = {entry.table: table_schema(entry) for entry in snapshotted.manifest.tables}
    try:
        refused = create_postgres_copy(
            stack_env, [(schemas[table], list(rows[table].values())) for table in TABLES])
        assert set(refused) == {TORTURE}, refused
        result = snapshotted.verify(stack_env["CDC_POSTGRES_DSN"], "--json")
    finally:
        drop_postgres_schema(stack_env, snapshotted.database)
    assert result.returncode == 1, result.stdout + result.stderr
    report = report_of(result)
    assert all(report[table]["identical"] for table in WORKLOAD_TABLES), report
    torture = report[TORTURE]
    assert torture["missing_in_target"] == [[key] for key in sorted(refused[TORTURE])]
    assert (torture["changed"], torture["extra_in_target"]) == ([], [])
    assert torture["target_rows"] == torture["source_rows"] - len(refused[TORTURE]) > 0


def test_snapshot_options_are_checked_clearly(stack_env: StackEnv,
                                              snapshotted: Snapshotted) -> None:
    target = stack_env["CDC_SOURCE_ADMIN_DSN"]
    config = str(snapshotted.config)
    cases = {
        ("--snapshot", "20200101T000000Z-000000", "--config", config, "--target", target):
            "there is no snapshot '20200101T000000Z-000000'",
        ("--snapshot", snapshotted.manifest.snapshot_id, "--config", config, "--source",
         target, "--target", target): "mutually exclusive",
        ("--target", target): "--source DSN, or --snapshot ID with --config FILE",
        ("--snapshot", snapshotted.manifest.snapshot_id, "--target", target):
            "--snapshot needs --config",
        ("--source", target, "--config", config, "--target", target):
            "--config is only used with --snapshot",
    }
    for args, message in cases.items():
        result = replayer_verify(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    missing = replayer_verify(*next(iter(cases)))
    assert missing.stderr.startswith("error: ")
    assert "\nhint: 'cdc backups list' shows them" in missing.stderr
    assert missing.stdout == ""


def test_an_encrypted_snapshot_is_read_with_its_key(stack_env: StackEnv, tmp_path: Path,
                                                    snapshotted: Snapshotted) -> None:
    key = tmp_path / "snapshot.key"
    key.write_bytes(bytes(range(32)))
    store = tmp_path / "encrypted"
    env = {"CDC_SNAPSHOTS__STORE": str(store), "CDC_SNAPSHOTS__ENCRYPTION_KEY_FILE": str(key)}
    take(snapshotted.config, env={**capture_env(), **env})
    manifest = newest_manifest(store)
    assert manifest.encryption is not None
    args = ("--snapshot", manifest.snapshot_id, "--config", str(snapshotted.config),
            "--target", stack_env["CDC_SOURCE_ADMIN_DSN"], "--tables", snapshotted.database,
            "--json")
    result = replayer_verify(*args, extra_env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["identical"] is True

    without = replayer_verify(*args, extra_env={"CDC_SNAPSHOTS__STORE": str(store)})
    assert without.returncode == 2, without.stdout + without.stderr
    assert "no key was given" in without.stderr
    assert "Traceback" not in without.stderr
