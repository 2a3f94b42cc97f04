"""replayer verify between the real source and target MariaDB servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.capture_helpers import capture_env
from tests.db import mysql_connect, unique_name
from tests.integration.test_capture_crash import finish, workload
from tests.stack import StackEnv

pytestmark = pytest.mark.integration

COPIED = ("accounts", "payments", "ledger_entries", "refunds")


def run_verify(stack_env: StackEnv, database: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "replayer", "verify", "--source",
         stack_env["CDC_SOURCE_ADMIN_DSN"], "--target", stack_env["CDC_TARGET_MARIADB_DSN"],
         "--tables", ",".join(f"{database}.{t}" for t in COPIED), "--chunk-rows", "50",
         "--json"],
        env=capture_env(), capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def copied(stack_env: StackEnv) -> Iterator[str]:
    """A workload database on the source, copied table for table into the target."""
    database = unique_name("verify")
    finish(workload(stack_env, database, "--setup-only"))
    finish(workload(stack_env, database, "--transactions", "400", "--seed", "3"))
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as source, \
            mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target:
        with target.cursor() as out:
            out.execute(f"CREATE DATABASE `{database}`")
            out.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table in COPIED:
            with source.cursor() as cur:
                cur.execute(f"SHOW CREATE TABLE `{database}`.`{table}`")
                found = cur.fetchone()
                assert found is not None
                create = found[1]
                cur.execute(f"SELECT * FROM `{database}`.`{table}`")
                rows = cur.fetchall()
                width = len(cur.description or ())
            with target.cursor() as out:
                out.execute(f"USE `{database}`")
                out.execute(create)
                if rows:
                    marks = ", ".join(["%s"] * width)
                    out.executemany(f"INSERT INTO `{table}` VALUES ({marks})", rows)
        target.commit()
    yield database
    with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target, target.cursor() as out:
        out.execute(f"DROP DATABASE IF EXISTS `{database}`")


def test_an_exact_copy_is_identical(stack_env: StackEnv, copied: str) -> None:
    result = run_verify(stack_env, copied)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["identical"] is True
    counts = {t["table"]: (t["source_rows"], t["target_rows"]) for t in report["tables"]}
    assert set(counts) == {f"{copied}.{t}" for t in COPIED}
    assert all(s == t > 0 for s, t in counts.values())
    assert max(t["chunks"] for t in report["tables"]) > 1  # chunked by key range


def test_missing_extra_and_changed_rows_are_named(stack_env: StackEnv, copied: str) -> None:
    with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target, target.cursor() as out:
        out.execute(f"USE `{copied}`")
        out.execute("SET FOREIGN_KEY_CHECKS = 0")
        out.execute("DELETE FROM ledger_entries WHERE id = 7")
        out.execute("UPDATE accounts SET balance = balance + 0.0001 WHERE id = 3")
        out.execute("INSERT INTO refunds (id, payment_id, amount, reason) "
                    "VALUES (900000, 900000, 1, 'invented')")
        target.commit()
    result = run_verify(stack_env, copied)
    assert result.returncode == 1, result.stdout + result.stderr
    report = {t["table"].split(".")[1]: t for t in json.loads(result.stdout)["tables"]}
    assert report["ledger_entries"]["missing_in_target"] == [[7]]
    assert report["accounts"]["changed"] == [[3]]
    assert report["refunds"]["extra_in_target"] == [[900000]]
    assert report["payments"]["identical"] is True


def test_a_table_of_another_shape_is_a_difference(stack_env: StackEnv, copied: str) -> None:
    with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as target, target.cursor() as out:
        out.execute(f"ALTER TABLE `{copied}`.`refunds` ADD COLUMN note TEXT NULL")
    result = run_verify(stack_env, copied)
    assert result.returncode == 1
    [refunds] = [t for t in json.loads(result.stdout)["tables"]
                 if t["table"].endswith(".refunds")]
    assert "column note only in the target" in refunds["problems"][0]


def test_a_postgresql_source_is_refused_clearly(stack_env: StackEnv) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "replayer", "verify", "--source",
         stack_env["CDC_POSTGRES_DSN"], "--target", stack_env["CDC_SOURCE_ADMIN_DSN"]],
        env={**os.environ}, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "not built yet" in result.stderr
    assert "Traceback" not in result.stderr
