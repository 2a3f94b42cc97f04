"""Capture's reader and worker processes, each killed with SIGKILL at random moments while a
workload writes: capture stops with exit status 5 and names the process, started again it
resumes from the changelog, and in the end the changelog is the binlog, GTID by GTID.

Also: a capture killed itself leaves no reader or worker behind, and a 1,000,000-row source
transaction passes through four workers with bounded memory."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.capture_helpers import (
    CDC,
    CaptureSetup,
    capture_env,
    current_gtid_position,
    kill,
    run_capture_until_caught_up,
    start_capture,
    write_capture_config,
)
from tests.db import mysql_connect, unique_name
from tests.integration.test_capture_crash import (
    assert_changelog_equals_source,
    finish,
    workload,
)
from tests.stack import StackEnv

pytestmark = pytest.mark.integration

KILLS = 20
CHILDREN = re.compile(r"reading the binlog in process (\d+), decoding it in \d+ worker "
                      r"processes \[([\d, ]*)\]")


def children(log: Path, since: int, timeout: float = 30) -> tuple[int, list[int]]:
    """The reader's and the workers' pids of the capture started when the log had ``since``
    bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = CHILDREN.search(log.read_text()[since:])
        if found:
            return int(found.group(1)), [int(p) for p in found.group(2).split(", ") if p]
        time.sleep(0.05)
    raise AssertionError("capture did not say which processes it started:\n"
                         + log.read_text()[since:][-3000:])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def workers_config(tmp_path: Path, stack_env: StackEnv, database: str, start: str,
                   workers: int = 2) -> CaptureSetup:
    return write_capture_config(tmp_path, stack_env, database, start,
                                extra_capture=f"workers = {workers}\n")


@pytest.mark.parametrize("victim", ["reader", "worker"])
def test_sigkill_of_a_reader_or_worker_stops_capture_and_a_restart_loses_nothing(
        stack_env: StackEnv, tmp_path: Path, victim: str) -> None:
    database = unique_name(f"kill_{victim}")
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    setup = workers_config(tmp_path, stack_env, database, f"gtid:{start}")
    log = tmp_path / "capture.log"
    rng = random.Random(f"{victim}-20261202")
    load = workload(stack_env, database, "--connections", "4", "--rate", "200",
                    "--duration", "45", "--seed", "21")
    try:
        for kill_number in range(KILLS):
            since = log.stat().st_size if log.exists() else 0
            capture = start_capture(setup, log)
            reader, workers = children(log, since)
            target = reader if victim == "reader" else rng.choice(workers)
            time.sleep(rng.uniform(0.0, 1.5))
            os.kill(target, signal.SIGKILL)
            capture.wait(timeout=60)
            text = log.read_text()[since:]
            assert capture.returncode == 5, f"kill {kill_number}: {text[-3000:]}"
            assert f"(pid {target}, killed by signal 9)" in text
            assert "start capture again: it resumes from the changelog" in text
            assert not any(alive(pid) for pid in (reader, *workers)), "a child outlived capture"
    finally:
        finish(load)
    result = run_capture_until_caught_up(setup)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_changelog_equals_source(stack_env, setup, start)


def test_a_killed_capture_takes_its_reader_and_workers_with_it(
        stack_env: StackEnv, tmp_path: Path) -> None:
    database = unique_name("orphans")
    finish(workload(stack_env, database, "--setup-only"))
    setup = workers_config(tmp_path, stack_env, database, "current", workers=3)
    log = tmp_path / "capture.log"
    capture = start_capture(setup, log)
    reader, workers = children(log, 0)
    assert len(workers) == 3
    kill(capture)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in (reader, *workers)):
        time.sleep(0.1)
    assert not any(alive(p) for p in (reader, *workers))


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        found = re.search(r"VmRSS:\s+(\d+)", status)
        if found is not None:  # an exiting process (a zombie) has no VmRSS line any more
            total += int(found.group(1))
    return total


def test_a_million_row_transaction_passes_through_four_workers_in_bounded_memory(
        stack_env: StackEnv, tmp_path: Path) -> None:
    database = unique_name("million")
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {database}")
        cur.execute(f"CREATE TABLE {database}.entries (id BIGINT PRIMARY KEY, "
                    "amount DECIMAL(19,4) NOT NULL, note VARCHAR(200) NOT NULL)")
    start = current_gtid_position(stack_env)
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"INSERT INTO {database}.entries SELECT seq, seq / 100, "
                    f"REPEAT(CHAR(65 + seq % 26), 150) FROM {database}.seq_1_to_1000000")
        conn.commit()
    setup = workers_config(tmp_path, stack_env, database, f"gtid:{start}", workers=4)
    log = tmp_path / "capture.log"
    process = subprocess.Popen(
        [*CDC, "capture", "--config", str(setup.config_path), "--until-caught-up", "--json"],
        env=capture_env(), stdout=subprocess.PIPE, stderr=log.open("wb"))
    peak = 0
    pids: list[int] = [process.pid]
    while process.poll() is None:
        if len(pids) == 1 and CHILDREN.search(log.read_text()):
            reader, workers = children(log, 0)
            pids += [reader, *workers]
        peak = max(peak, rss_kib(pids))
        time.sleep(0.1)
    out = process.stdout.read().decode() if process.stdout else ""
    assert process.returncode == 0, log.read_text()[-3000:]
    assert '"records": 1000000' in out, out
    print(f"peak RSS of capture and its 5 children: {peak / 1024:.0f} MiB")
    # About 340 MiB here, most of it the six interpreters and the Kafka client's queue
    # (128 MiB at most); the transaction's records held at once would add over 400 MiB.
    assert peak < 640 * 1024, f"peak RSS {peak / 1024:.0f} MiB"

