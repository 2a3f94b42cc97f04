"""The health judgement behind 'cdc check --nagios' and 'replayer status --nagios'."""

from __future__ import annotations

from cdc.config.models import MonitoringSettings
from cdc.health import (
    HealthFacts,
    LastDrill,
    Status,
    TargetLag,
    evaluate,
    target_report,
)

LIMITS = MonitoringSettings(rpo_warning="60s", rpo_critical="5m", behind_warning=100,
                            behind_critical=1000, snapshot_age_warning="26h",
                            snapshot_age_critical="50h", drill_age_warning="8d",
                            drill_age_critical="15d", binlog_retention_warning="24h",
                            binlog_retention_critical="6h")
HEALTHY = HealthFacts(rpo_s=0.0, transactions_behind=0, newest_snapshot_age_s=3600.0,
                      last_drill=LastDrill("identical", 86400.0, "d1"),
                      binlog_retention_left_s=7 * 86400.0)


def _status(facts: HealthFacts, fact: str) -> Status:
    return next(f.status for f in evaluate(facts, LIMITS).findings if f.fact == fact)


def _with(**changes: object) -> HealthFacts:
    from dataclasses import replace  # noqa: PLC0415
    return replace(HEALTHY, **changes)  # type: ignore[arg-type]


def test_a_healthy_backup_is_ok_with_performance_data() -> None:
    report = evaluate(HEALTHY, LIMITS)
    assert report.status is Status.OK
    line = report.nagios()
    assert line.startswith("CDC OK - ")
    perf = line.split(" | ", 1)[1].split()
    assert "rpo=0s;60;300;0" in perf
    assert "snapshot_age=3600s;93600;180000;0" in perf
    assert "binlog_retention=604800s;86400:;21600:;0" in perf
    assert "drill_age=86400s;691200;1296000;0" in perf


def test_rpo_grows_from_warning_to_critical() -> None:
    assert _status(_with(rpo_s=59.0, transactions_behind=3), "rpo") is Status.OK
    assert _status(_with(rpo_s=61.0, transactions_behind=3), "rpo") is Status.WARNING
    assert _status(_with(rpo_s=301.0, transactions_behind=3), "rpo") is Status.CRITICAL
    report = evaluate(_with(rpo_s=301.0, transactions_behind=3), LIMITS)
    assert report.status is Status.CRITICAL
    assert report.nagios().startswith("CDC CRITICAL - rpo: 5 min of committed")


def test_transactions_behind_is_graded() -> None:
    assert _status(_with(transactions_behind=99), "behind") is Status.OK
    assert _status(_with(transactions_behind=100), "behind") is Status.WARNING
    assert _status(_with(transactions_behind=5000), "behind") is Status.CRITICAL


def test_no_usable_snapshot_is_critical_and_an_old_one_warns() -> None:
    assert _status(_with(newest_snapshot_age_s=None), "snapshot_age") is Status.CRITICAL
    assert _status(_with(newest_snapshot_age_s=27 * 3600.0), "snapshot_age") is Status.WARNING
    assert _status(_with(newest_snapshot_age_s=51 * 3600.0), "snapshot_age") is \
        Status.CRITICAL


def test_a_failed_drill_is_critical_whatever_its_age() -> None:
    failed = _with(last_drill=LastDrill("different", 60.0, "d2"))
    assert _status(failed, "drill_age") is Status.CRITICAL
    assert "d2 different" in evaluate(failed, LIMITS).nagios()
    assert _status(_with(last_drill=LastDrill("identical", 9 * 86400.0, "d3")),
                   "drill_age") is Status.WARNING
    assert _status(_with(last_drill=None), "drill_age") is Status.WARNING


def test_purged_binlog_is_critical_and_retention_left_is_graded_downwards() -> None:
    purged = _with(binlog_purged="the source no longer has the binlog from 0-1-5 on")
    assert _status(purged, "binlog_retention") is Status.CRITICAL
    assert "no longer has the binlog" in evaluate(purged, LIMITS).nagios()
    assert _status(_with(binlog_retention_left_s=23 * 3600.0), "binlog_retention") is \
        Status.WARNING
    assert _status(_with(binlog_retention_left_s=5 * 3600.0), "binlog_retention") is \
        Status.CRITICAL
    assert _status(_with(binlog_retention_left_s=None), "binlog_retention") is Status.OK


def test_unknown_facts_say_why_and_rank_below_warning() -> None:
    facts = _with(rpo_s=None, transactions_behind=None,
                  unknown=(("rpo", "Kafka is unreachable"), ("behind", "Kafka is unreachable")))
    report = evaluate(facts, LIMITS)
    assert report.status is Status.UNKNOWN
    assert "Kafka is unreachable" in report.nagios()
    worse = _with(rpo_s=None, transactions_behind=None, newest_snapshot_age_s=None,
                  unknown=(("rpo", "Kafka is unreachable"),))
    assert evaluate(worse, LIMITS).status is Status.CRITICAL


def test_capture_never_started_is_critical() -> None:
    report = evaluate(_with(changelog_started=False), LIMITS)
    assert report.status is Status.CRITICAL
    assert "nothing is backed up" in report.nagios()


def test_a_threshold_of_zero_is_off() -> None:
    off = MonitoringSettings(rpo_warning="0", rpo_critical="0")
    finding = next(f for f in evaluate(_with(rpo_s=10_000.0, transactions_behind=1),
                                       off).findings if f.fact == "rpo")
    assert finding.status is Status.OK
    assert finding.perfdata == "rpo=10000s;;;0"


def test_target_lag_report() -> None:
    assert target_report([], 60, 300).status is Status.UNKNOWN
    caught_up = target_report([TargetLag("s", 5000.0, 0)], 60, 300)
    assert caught_up.status is Status.OK
    behind = target_report([TargetLag("s", 120.0, 40)], 60, 300)
    assert behind.status is Status.WARNING
    assert "40 transaction(s) to apply" in behind.nagios()
    assert target_report([TargetLag("s", 400.0, None)], 60, 300).status is Status.CRITICAL
