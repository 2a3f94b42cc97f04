"""The migration benchmark's processes, without running them: the commands, the workload's
summary, what migrate's log and replayer status say, and the capture configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.harness.migrate_config import MigrateBenchConfig, command_environment, config_text
from bench.harness.migrate_process import (
    Applied,
    lag_transactions,
    log_problems,
    migrate_command,
    parse_stopped,
)
from bench.harness.workload_process import (
    WorkloadProcessError,
    WorkloadRun,
    parse_summary,
    workload_command,
)
from cdc.dsn import parse_dsn

LOG = "\n".join([
    "2026-11-24 07:49:01,100 INFO replayer.migrate: following the changelog from offset 12 "
    "(after GTID 0-1001-5), sync mode",
    "2026-11-24 07:49:03,200 WARNING replayer.migrate: lost the target or Kafka (gone); "
    "reconnecting in 1.0 s, from the position the target holds",
    "2026-11-24 07:49:05,300 INFO replayer.migrate: stopped after 10 transactions "
    "(40 row changes) in this run",
    "2026-11-24 07:49:09,300 INFO replayer.migrate: stopped after 1075 transactions "
    "(4936 row changes) in this run",
])


def test_migrate_says_what_it_applied_last() -> None:
    assert parse_stopped(LOG) == Applied(1075, 4936)
    assert parse_stopped("nothing yet") is None


def test_the_warnings_and_errors_of_the_log() -> None:
    assert log_problems(LOG) == (LOG.splitlines()[1],)


def test_lag_transactions_of_the_source_in_status() -> None:
    status = json.dumps({"target": "mysql://x@h:1/", "sources": [
        {"source": "other", "lag_transactions": 5},
        {"source": "bench-migrate-1", "lag_transactions": 0, "gtid": "0-1-2"}]})
    assert lag_transactions(status, "bench-migrate-1") == 0
    assert lag_transactions(status, "missing") is None


def test_the_migrate_command() -> None:
    command = migrate_command(Path("/tmp/b.toml"), "mysql://u:p@h:1/", "async",
                              tables="db.a,db.b", python="py")
    assert command == ["py", "-m", "replayer", "migrate", "--config", "/tmp/b.toml",
                       "--target", "mysql://u:p@h:1/", "--mode", "async", "--tables",
                       "db.a,db.b"]
    assert "--tables" not in migrate_command(Path("b.toml"), "t", "sync")


def test_the_workload_command_keeps_the_dsn_off_the_command_line() -> None:
    command = workload_command("db", rate=1000, seed=3, duration_s=12,
                               marks_file=Path("/tmp/m.jsonl"), python="py")
    assert command == ["py", "-m", "bench.workload", "--database", "db", "--rate", "1000",
                       "--seed", "3", "--json", "--duration", "12", "--marks-file",
                       "/tmp/m.jsonl"]
    assert workload_command("db", rate=0, seed=1, transactions=50, python="py")[-2:] == \
        ["--transactions", "50"]


def test_the_workload_takes_a_duration_or_a_number_of_transactions() -> None:
    with pytest.raises(ValueError, match="one of them"):
        workload_command("db", rate=0, seed=1)
    with pytest.raises(ValueError, match="one of them"):
        workload_command("db", rate=0, seed=1, duration_s=1, transactions=1)


def test_the_workload_summary() -> None:
    stdout = "some line\n" + json.dumps({"setup": {}, "run": {
        "target_rate": 1000.0, "transactions": 2000, "elapsed_seconds": 2.5,
        "row_changes": {"inserts": 5000, "updates": 4000, "deletes": 300, "total": 9300},
        "row_changes_by_table": {"payments": {"inserts": 3000, "updates": 1000, "deletes": 0},
                                 "type_torture": {"inserts": 10, "updates": 290,
                                                  "deletes": 0}},
        "last_gtid": "0-1001-77"}}) + "\n"
    run = parse_summary(stdout)
    assert run == WorkloadRun(1000.0, 2000, 2.5, 9300,
                              {"payments": 4000, "type_torture": 300}, "0-1001-77")
    assert run.achieved_rate == 800.0
    assert run.row_changes_per_s == 3720.0
    assert run.row_changes_in(None) == 9300
    assert run.row_changes_in(frozenset({"payments", "refunds"})) == 4000


def test_a_workload_that_printed_no_summary() -> None:
    with pytest.raises(WorkloadProcessError, match="no JSON summary"):
        parse_summary("error: something\n")
    with pytest.raises(WorkloadProcessError, match="no JSON summary"):
        parse_summary(json.dumps({"setup": {}, "run": None}))


def _config(commit_interval_ms: int | None) -> MigrateBenchConfig:
    return MigrateBenchConfig(
        source=parse_dsn("mysql://cdc_capture:s3cret@127.0.0.1:13306/"), server_id=41_234,
        name="bench-migrate-ab", bootstrap_servers="127.0.0.1:19092",
        topic_prefix="bench.migrate.ab", include=("bench_migrate_ab.*",),
        start="gtid:0-1001-9", store=Path("/tmp/store"),
        kafka_commit_interval_ms=commit_interval_ms)


def test_the_capture_config_keeps_capture_s_commit_interval_unless_told() -> None:
    text = config_text(_config(None))
    assert "commit_interval_ms" not in text
    assert 'include = ["bench_migrate_ab.*"]' in text
    assert 'start = "gtid:0-1001-9"' in text
    assert 'store = "/tmp/store"' in text
    assert "s3cret" not in text
    assert 'metrics_address = ""' in text
    assert "commit_interval_ms = 50" in config_text(_config(50))
    assert _config(None).topics == ("bench.migrate.ab.changelog", "bench.migrate.ab.schemas")


def test_commands_get_the_password_and_not_the_stack_s_variables() -> None:
    env = command_environment(_config(None), {"PATH": "/bin", "CDC_KAFKA_BOOTSTRAP": "x"})
    assert env == {"PATH": "/bin", "CDC_SOURCE__PASSWORD": "s3cret"}
