"""The RTO drill benchmark end to end on a small scale: the data made once and used again,
each way of restoring proved identical, and the kept data dropped on request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.harness.mariadb_target import user_databases
from cdc.dsn import parse_dsn
from tests.stack import StackEnv

ROWS, CHANGES = 3000, 500


def rto_drill(stack_env: StackEnv, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.rto_drill", "--rows", str(ROWS), "--changes",
         str(CHANGES), *arguments],
        env={**os.environ, **stack_env.values}, capture_output=True, text=True, timeout=900,
        check=False)


def test_the_drill_restores_each_way_identically_and_keeps_its_data(
        stack_env: StackEnv) -> None:
    folder = Path(stack_env["CDC_STACK_DIR"]) / "rto" / f"{ROWS}-{CHANGES}"
    rto_drill(stack_env, "--forget")  # what an earlier, interrupted run left
    try:
        first = rto_drill(stack_env, "--json")
        assert first.returncode == 0, first.stderr[-3000:]
        found = json.loads(first.stdout)
        assert found["data"]["reused"] is False
        assert found["data"]["rows"] == ROWS
        assert found["data"]["row_changes"] == 500  # 111 transactions of 4.5 changes
        sides = {side["label"]: side for side in found["sides"]}
        assert len(sides) == 3
        for side in sides.values():
            [run] = side["runs"]
            assert run["verdict"] == "identical", side
            assert side["rto_seconds"] > 0
        ours = sides["replayer drill into PostgreSQL"]["runs"][0]["phases"]
        assert [p["name"] for p in ours] == ["start-up and planning", "load", "indexes",
                                            "replay", "verify"]
        assert {p["name"]: p["units"] for p in ours}["replay"] == 500
        database = found["data"]["database"]

        again = rto_drill(stack_env, "--only", "anchor", "--json")
        assert again.returncode == 0, again.stderr[-3000:]
        assert json.loads(again.stdout)["data"]["reused"] is True
        assert "using the data kept in" in again.stderr
    finally:
        forgotten = rto_drill(stack_env, "--forget")
    assert forgotten.returncode == 0, forgotten.stderr
    assert not folder.exists()
    assert database not in user_databases(parse_dsn(stack_env["CDC_SOURCE_ADMIN_DSN"]))
