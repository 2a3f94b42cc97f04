"""Exactly once from the very first start: a capture killed again and again from its first
second, before and after its first commit, while a workload writes over several connections,
begins the changelog once and loses and repeats nothing after that beginning.

Before the start record existed, every restart before the first Kafka commit resolved
``capture.start = "current"`` anew, and what was committed in between was in no backup.
"""

from __future__ import annotations

import random
import re
import time
import zlib
from pathlib import Path

import pytest

from cdc.changes import ChangeRecord, Operation
from cdc.dsn import parse_dsn
from cdc.position import GtidPosition
from cdc.startup_checks import earliest_available_position
from cdc.startup_checks.queries import connect
from tests.capture_helpers import (
    CaptureSetup,
    changelog,
    current_gtid_position,
    kill,
    run_capture_until_caught_up,
    source_row_counts_by_gtid,
    start_capture,
    transactions,
    write_capture_config,
)
from tests.db import unique_name
from tests.integration.test_capture_crash import finish, workload
from tests.stack import StackEnv

pytestmark = pytest.mark.integration

KILLS = 20
RESUMES = re.compile(r"capture resumes after GTID position '([^']*)'")
COMMITTED = "first start: committed the start record"
# "current" is the rule the report lost transactions with; it runs five times in a row.
RULES = [pytest.param("current", id=f"current-{n}") for n in range(1, 6)] + [
    pytest.param("earliest", id="earliest"), pytest.param("gtid", id="gtid")]


def earliest_now(stack_env: StackEnv) -> GtidPosition:
    with connect(parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])) as conn:
        return GtidPosition.parse(earliest_available_position(conn))


def wait_for_streaming(log: Path, since: int, timeout: float = 30) -> None:
    """Until the capture started when the log was ``since`` bytes long says it streams."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if RESUMES.search(log.read_text()[since:]):
            return
        time.sleep(0.01)


def kill_repeatedly(setup: CaptureSetup, log: Path, rng: random.Random) -> None:
    """The first capture dies within its first second, before it can have committed
    anything. Each of the others dies either at a random moment of its start-up or
    streaming, or just after it says where it streams from: the moment a capture that had
    not yet made its beginning durable lost what came before the next one's beginning."""
    capture = start_capture(setup, log)
    time.sleep(rng.uniform(0.05, 0.6))
    kill(capture)
    assert COMMITTED not in log.read_text(), "the first kill came after the first commit"
    for _ in range(KILLS - 1):
        since = log.stat().st_size
        capture = start_capture(setup, log)
        if rng.random() < 0.6:
            wait_for_streaming(log, since)
            time.sleep(rng.uniform(0.0, 0.08))
        else:
            time.sleep(rng.uniform(0.2, 2.6))
        kill(capture)


def row_changes_by_transaction(records: list[ChangeRecord]) -> list[tuple[str, int]]:
    """(GTID, row changes) of each transaction in changelog order; DDL-only ones left out,
    as the binlog's count has only rows events."""
    counted = [(tx[0].position.gtid, sum(r.operation is not Operation.DDL for r in tx))
               for tx in transactions(records)]
    return [(gtid, rows) for gtid, rows in counted if rows]


def first_difference(ours: list[tuple[str, int]], theirs: list[tuple[str, int]]) -> str:
    for index, (mine, other) in enumerate(zip(ours, theirs, strict=False)):
        if mine != other:
            return f"transaction {index}: changelog {mine}, binlog {other}"
    return f"{len(ours)} transactions in the changelog, {len(theirs)} in the binlog"


@pytest.mark.parametrize("rule", RULES)
def test_sigkills_from_the_first_second_lose_and_repeat_nothing_after_the_start(
        stack_env: StackEnv, tmp_path: Path, rule: str, request: pytest.FixtureRequest) -> None:
    database = unique_name("first")
    finish(workload(stack_env, database, "--setup-only"))
    before = GtidPosition.parse(current_gtid_position(stack_env))
    configured = {"current": "current", "earliest": "earliest", "gtid": f"gtid:{before}"}[rule]
    setup = write_capture_config(tmp_path, stack_env, database, configured)
    seed = zlib.crc32(request.node.callspec.id.encode())
    log = tmp_path / "capture.log"
    load = workload(stack_env, database, "--connections", "4", "--rate", "120",
                    "--duration", "25", "--seed", str(seed))
    try:
        kill_repeatedly(setup, log, random.Random(seed))
    finally:
        finish(load)
    final = run_capture_until_caught_up(setup)
    assert final.returncode == 0, final.stderr[-3000:]

    # The first position any capture said it streams from: what the operator was told, and
    # so the beginning, whether or not a start record says so.
    begins = GtidPosition.parse(RESUMES.findall(log.read_text())[0])
    records = changelog(setup)
    expected = [(gtid, rows) for gtid, rows in
                source_row_counts_by_gtid(stack_env, str(begins), database).items() if rows]
    captured = row_changes_by_transaction(records)
    assert len(captured) > 1000, "the workload wrote too little for the test to mean much"
    assert captured == expected, ("the changelog is not the binlog after its beginning, "
                                  "GTID by GTID: " + first_difference(captured, expected))
    starts = [r for r in records if r.operation is Operation.START]
    assert len(starts) == 1, f"{len(starts)} start records: the beginning was decided again"
    assert records[0] is starts[0], "the start record is not the changelog's first record"
    assert GtidPosition.parse(starts[0].position.gtid_position) == begins
    if rule == "gtid":
        assert begins == before
    elif rule == "earliest":
        assert begins == earliest_now(stack_env)
    else:
        assert before.at_or_before(begins)
