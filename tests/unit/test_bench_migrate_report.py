"""The migration benchmark's result: the issue's lag target, and the text and JSON reports."""

from __future__ import annotations

import json

from bench.harness.machine import MachineFacts
from bench.harness.migrate_report import format_json, format_text
from bench.harness.migrate_result import (
    AsyncThroughput,
    MigrateBenchResult,
    Settings,
    SyncLag,
    TargetResult,
)
from bench.harness.pipeline_sampler import Backlogs
from bench.harness.probe_lag import LagStats
from bench.harness.workload_process import WorkloadRun

MACHINE = MachineFacts(cpus=2, cpu_model="AMD EPYC", mariadb="10.11.19-MariaDB",
                       mariadb_binlog="mariadb-binlog Ver 3.5", kafka="4.1.1 (Scala 2.13)",
                       python="3.11.7", mysql_replication="1.0.17", load_average="2.00")
SETTINGS = Settings(seconds=60, settle_s=2, probe_interval_s=0.1, poll_s=0.005,
                    backlog=50_000, kafka_commit_interval_ms=None, idle_seconds=10)


def _sync(rate: float, achieved: float, p99: float, *, seen: int = 600,
          idle: bool = False) -> SyncLag:
    workload = WorkloadRun(rate, round(achieved * 62), 62.0, round(achieved * 62 * 4.65))
    stats = LagStats(600, seen, p99 / 2, p99, p99 + 0.1, p99 / 3)
    return SyncLag(rate, workload, 0.1, 60.0, stats, 0.5,
                   Backlogs(60, 0, 0, 120, 30), idle=idle)


def _async(applied: int, expected: int) -> AsyncThroughput:
    workload = WorkloadRun(0.0, 10_753, 30.0, 50_012, {"payments": 20_000}, "0-1001-900")
    return AsyncThroughput(workload, applied, expected, total_s=12.5, following_s=10.0,
                           lag_transactions_after=0, status_s=1.25, changelog_records=123_456)


def _target(*sync: SyncLag, kind: str = "mariadb",
            async_run: AsyncThroughput | None = None) -> TargetResult:
    return TargetResult(kind, "a throwaway MariaDB", "MariaDB 10.11", "all of the database",
                        1_034, 2.5, sync, async_run)


def test_the_lag_target_is_met_below_two_seconds_at_a_thousand() -> None:
    assert _target(_sync(1000, 999.0, 1.2)).target_met() == \
        (True, "p99 1.200 s at 999 tx/s")
    assert _target(_sync(1000, 1000.0, 2.5)).target_met()[0] is False


def test_the_lag_target_is_untested_when_the_workload_is_slower() -> None:
    met, said = _target(_sync(1000, 175.0, 0.5)).target_met()
    assert met is None
    assert "did not reach 1,000 tx/s" in said


def test_the_lag_target_is_missed_when_probes_never_arrive() -> None:
    met, said = _target(_sync(1000, 1000.0, 0.5, seen=590)).target_met()
    assert met is False
    assert "10 probe(s) never arrived" in said


def test_the_lag_target_ignores_idle_and_other_rates() -> None:
    assert _target(_sync(0, 0.0, 0.1, idle=True), _sync(0, 512.0, 0.9)).target_met() == \
        (None, "not measured")


def test_the_text_report() -> None:
    result = MigrateBenchResult(
        "python -m bench.migrate_lag", "2026-11-24 08:00 UTC", MACHINE, SETTINGS,
        (_target(_sync(0, 0.0, 0.2, idle=True), _sync(1000, 998.4, 1.5),
                 _sync(0, 1234.5, 3.0), async_run=_async(50_012, 50_012)),
         _target(_sync(1000, 990.0, 1.9), kind="postgresql", async_run=_async(100, 99))),
        notes=("a note",))
    text = format_text(result)
    assert "migrate lag and throughput, 2026-11-24 08:00 UTC" in text
    assert "probes alone for 10 s ('idle')" in text
    lines = text.splitlines()
    idle = next(line for line in lines if line.startswith("MariaDB     idle"))
    assert idle.split()[-6:] == ["0.200", "0.300", "0.067", "0.50", "0/0", "120/30"]
    thousand = next(line for line in lines if line.startswith("MariaDB     1,000 tx/s"))
    assert thousand.split()[3:6] == ["998.4", "4,643", "600/600"]
    assert any(line.startswith("MariaDB     max") and "1,234.5" in line for line in lines)
    row = next(line for line in lines if line.startswith("MariaDB  ") and "50,012" in line)
    assert row.split()[1:] == ["50,012", "10,753", "12.50", "4,001", "10.00", "5,001", "0"]
    assert "MariaDB: replayer status --config took 1.25 s on a changelog of 123,456 records" \
        in lines
    assert "  MariaDB: yes (p99 1.500 s at 998 tx/s)" in lines
    assert "  PostgreSQL: yes (p99 1.900 s at 990 tx/s)" in lines
    assert any(line.startswith("MISMATCH (PostgreSQL)") for line in lines)
    assert lines[-1] == "note: a note"
    assert result.failed


def test_the_json_report() -> None:
    result = MigrateBenchResult("cmd", "date", MACHINE, SETTINGS,
                                (_target(_sync(1000, 999.0, 1.2),
                                         async_run=_async(50_012, 50_012)),))
    document = json.loads(format_json(result))
    assert document["benchmark"] == "migrate_lag"
    [target] = document["targets"]
    assert target["lag_target"] == {"met": True, "detail": "p99 1.200 s at 999 tx/s"}
    assert target["sync"][0]["lag"]["p99_s"] == 1.2
    assert target["sync"][0]["backlogs_transactions"]["migrate_behind_max"] == 120
    assert target["async"]["row_changes_per_s"] == 4001.0
    assert target["async"]["row_changes_per_s_following"] == 5001.2
    assert document["settings"]["kafka_commit_interval_ms"] is None
    assert not result.failed
