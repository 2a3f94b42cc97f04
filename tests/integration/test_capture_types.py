"""The type-torture table round-trips exactly through capture, in any host time zone."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.workload import TORTURE_ROWS_BY_ID, ZERO_DATE
from cdc.avro.envelope import decode_envelope
from cdc.kafka.reader import read_committed
from cdc.values import ZeroDate, ZeroDateTime
from tests.capture_helpers import (
    CaptureSetup,
    capture_env,
    changelog,
    current_gtid_position,
    replay,
    run_capture_until_caught_up,
    write_capture_config,
)
from tests.db import mysql_connect, unique_name
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


def same_value(column: str, expected: Any, captured: Any) -> bool:
    if expected is None or captured is None:
        return expected is captured
    if column.startswith("json"):
        # MariaDB keeps JSON as text; the torture data holds the parsed document.
        return isinstance(captured, str) and json.loads(captured) == expected
    if expected is ZERO_DATE:
        return isinstance(captured, ZeroDate | ZeroDateTime) and \
            captured.text.strip("0-: .") == ""
    if isinstance(expected, Decimal):
        # Equal and with the same scale: 1.50 is not 1.5.
        return isinstance(captured, Decimal) and str(expected) == str(captured)
    return type(expected) is type(captured) and expected == captured


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_every_torture_value_comes_back_exactly(
    stack_env: StackEnv, tmp_path: Path, tz: str
) -> None:
    database = unique_name("torture")
    start = current_gtid_position(stack_env)
    subprocess.run(
        [sys.executable, "-m", "bench.workload", "--dsn", stack_env["CDC_SOURCE_ADMIN_DSN"],
         "--database", database, "--transactions", "400", "--seed", "3"],
        env=capture_env(tz), check=True, capture_output=True, timeout=300)
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}")
    result = run_capture_until_caught_up(setup, tz=tz)
    assert result.returncode == 0, result.stderr

    records = changelog(setup)
    torture = [r for r in records if r.table == "type_torture" and r.statement is None]
    assert {r.operation.value for r in torture} >= {"insert", "update"}
    final = replay(records)["type_torture"]
    assert sorted(key[0] for key in final) == sorted(TORTURE_ROWS_BY_ID)
    mismatches = [
        (row_id, column, expected, final[(row_id,)][column])
        for row_id, row in TORTURE_ROWS_BY_ID.items()
        for column, expected in row.values.items()
        if not same_value(column, expected, final[(row_id,)][column])
    ]
    assert mismatches == []
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE {database}")


def _row_change_bytes(setup: CaptureSetup) -> list[tuple[bytes | None, bytes]]:
    """Every committed row change's Kafka key and value, as stored."""
    return [(stored.key, stored.value)
            for stored in read_committed(setup.bootstrap, setup.changelog_topic)
            if not decode_envelope(stored.value, lambda *_: (None, None)).operation.is_marker]


def test_the_compiled_path_and_the_pure_path_write_the_same_bytes(
        stack_env: StackEnv, tmp_path: Path) -> None:
    """The whole workload, the type-torture table with its zero dates, 65-digit decimals and
    latin1 text included, captured twice from the same position: once through the compiled
    fast path (with the pure path for what it declines), once through the pure path alone."""
    database = unique_name("fastpure")
    start = current_gtid_position(stack_env)
    subprocess.run(
        [sys.executable, "-m", "bench.workload", "--dsn", stack_env["CDC_SOURCE_ADMIN_DSN"],
         "--database", database, "--transactions", "600", "--seed", "9"],
        env=capture_env(), check=True, capture_output=True, timeout=300)
    runs = []
    for name, extra in (("fast", {}), ("pure", {"CDC_PURE_PYTHON": "1"})):
        directory = tmp_path / name
        directory.mkdir()
        setup = write_capture_config(directory, stack_env, database, f"gtid:{start}",
                                     prefix=f"test.{database}.{name}")
        result = run_capture_until_caught_up(setup, extra_env=extra)
        assert result.returncode == 0, result.stderr
        runs.append(_row_change_bytes(setup))
    fast, pure = runs
    assert len(fast) > 2000
    assert fast == pure
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE {database}")
