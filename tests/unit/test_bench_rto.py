"""The RTO drill's result: RTO and the dominant phase from a drill's phases, medians over
runs, the target's verdict, and the text and JSON reports."""

from __future__ import annotations

import json

import pytest

from bench.harness.machine import MachineFacts
from bench.harness.rto_report import format_json, format_text
from bench.harness.rto_result import DrillData, DrillRun, DrillSide, PhaseTime, RtoResult
from bench.harness.rto_sides import STARTUP, drill_run

MACHINE = MachineFacts(cpus=2, cpu_model="AMD EPYC", mariadb="10.11.19-MariaDB",
                       mariadb_binlog="mariadb-binlog Ver 3.5", kafka="4.1.1 (Scala 2.13)",
                       python="3.11.7", mysql_replication="1.0.17", load_average="2.00")
DATA = DrillData(database="rto_drill_x", rows=10_000_000, transactions=222_222,
                 row_changes=999_999,
                 row_changes_by_kind={"inserts": 222_222, "updates": 666_666, "deletes": 111_111},
                 snapshot_id="20261203T000000Z-abc", snapshot_bytes=300_000_000,
                 dump_bytes=1_500_000_000, made_at="2026-12-03 07:00 UTC",
                 made_in_s={"fill": 100.0}, reused=True)


def ours(load: float, indexes: float, replay: float, *, startup: float = 2.0,
         verdict: str = "identical") -> DrillRun:
    return DrillRun((PhaseTime(STARTUP, startup), PhaseTime("load", load, 10_000_000),
                     PhaseTime("indexes", indexes, 10_000_000),
                     PhaseTime("replay", replay, 999_999), PhaseTime("verify", 300.0)), verdict)


def result(*sides: DrillSide) -> RtoResult:
    return RtoResult("python -m bench.rto_drill", "2026-12-03 08:00 UTC", MACHINE, "15.18",
                     DATA, sides, "postgresql", 240.0)


def test_a_drills_record_becomes_a_run_with_its_start_up_as_the_rest_of_its_time() -> None:
    record: dict[str, object] = {
        "verdict": "identical", "detail": "",
        "phases": [{"name": "load", "seconds": 10.0, "units": 100},
                   {"name": "indexes", "seconds": 5.0, "units": 100},
                   {"name": "replay", "seconds": 20.0, "units": 50},
                   {"name": "verify", "seconds": 30.0, "units": 150}]}
    run = drill_run(record, wall_s=68.5)
    assert run.seconds(STARTUP) == pytest.approx(3.5)
    assert run.rto_s == pytest.approx(38.5)  # everything but the verify
    assert run.verdict == "identical"


def test_the_rto_leaves_the_proof_out_and_names_the_longest_phase() -> None:
    side = DrillSide("replayer drill into PostgreSQL", "postgresql",
                     (ours(100.0, 40.0, 150.0), ours(120.0, 50.0, 130.0),
                      ours(110.0, 45.0, 140.0)))
    assert side.rto_s == pytest.approx(297.0)  # the median of 292, 302 and 297
    assert side.phase_s("load") == 110.0
    assert side.dominant == "replay"
    assert not side.failed


def test_a_copy_that_differs_or_a_side_that_could_not_run_fails_the_drill() -> None:
    different = DrillSide("replayer drill into MariaDB", "mariadb",
                          (ours(1, 1, 1, verdict="different"),))
    broken = DrillSide("replayer drill into MariaDB", "mariadb", (), "the target is gone")
    assert different.failed
    assert broken.failed
    assert broken.rto_s is None
    assert broken.dominant is None
    assert result(different).failed


def test_the_target_is_met_only_under_four_minutes_into_postgresql() -> None:
    fast = DrillSide("replayer drill into PostgreSQL", "postgresql", (ours(100, 40, 90),))
    slow = DrillSide("replayer drill into PostgreSQL", "postgresql", (ours(100, 40, 100),))
    mariadb = DrillSide("replayer drill into MariaDB", "mariadb", (ours(10, 4, 9),))
    assert result(fast, mariadb).target_met() is True
    assert result(slow, mariadb).target_met() is False  # 242 s
    assert result(mariadb).target_met() is None


def test_the_text_report_gives_each_phase_the_rto_and_the_verdict_on_the_target() -> None:
    anchor = DrillSide("mariadb < dump.sql, then mariadb-binlog | mariadb", "mariadb",
                       (DrillRun((PhaseTime("load", 400.0), PhaseTime("replay", 360.0),
                                  PhaseTime("verify", 20.0)), "identical"),))
    text = format_text(result(
        DrillSide("replayer drill into PostgreSQL", "postgresql", (ours(150, 60, 100),)),
        anchor))
    assert "10,000,000 rows" in text
    assert "999,999 row changes" in text
    assert "(kept from an earlier run)" in text
    [line] = [row for row in text.splitlines() if row.startswith("replayer drill into Post")]
    assert line.split()[-7:] == ["2.0", "150.0", "60.0", "100.0", "312.0", "load", "300.0"]
    [line] = [row for row in text.splitlines() if row.startswith("mariadb < dump.sql")]
    assert line.split()[-7:] == ["-", "400.0", "-", "360.0", "760.0", "load", "20.0"]
    assert ("RTO into postgresql: 312.0 s against a target of 240 s: NOT met; load dominates "
            "(48% of it)") in text


def test_the_json_report_has_every_run_and_the_medians() -> None:
    found = json.loads(format_json(result(
        DrillSide("replayer drill into PostgreSQL", "postgresql", (ours(50, 20, 60),)))))
    [side] = found["sides"]
    assert side["rto_seconds"] == 132.0
    assert side["dominant_phase"] == "replay"
    assert side["median_seconds"]["verify"] == 300.0
    assert [p["name"] for p in side["runs"][0]["phases"]] == [
        STARTUP, "load", "indexes", "replay", "verify"]
    assert found["target"] == {"engine": "postgresql", "rto_seconds": 240.0, "met": True}
    assert found["data"]["rows"] == 10_000_000
