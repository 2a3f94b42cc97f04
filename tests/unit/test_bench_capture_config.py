"""The capture configuration a benchmark run writes is one capture accepts."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from bench.harness.capture_config import (
    PASSWORD_VARIABLE,
    CaptureRunConfig,
    capture_config_text,
    capture_environment,
)
from cdc.config import load_config
from cdc.dsn import parse_dsn

SOURCE = parse_dsn("mysql://cdc_capture:s3cr%23t@127.0.0.1:13306/")


def run_config(start: str = "gtid:0-1001-42") -> CaptureRunConfig:
    return CaptureRunConfig(source=SOURCE, server_id=41234, name="bench-ab12-r1",
                            bootstrap_servers="127.0.0.1:19092", topic_prefix="bench.ab12.r1",
                            include=("bench_capture_ab12.*",), start=start)


def test_the_text_holds_every_key_and_no_password() -> None:
    text = capture_config_text(run_config())
    assert "s3cr" not in text
    assert tomllib.loads(text) == {
        "source": {"dsn": "mysql://cdc_capture@127.0.0.1:13306/", "server_id": 41234,
                   "name": "bench-ab12-r1"},
        "kafka": {"bootstrap_servers": "127.0.0.1:19092", "topic_prefix": "bench.ab12.r1"},
        "capture": {"include": ["bench_capture_ab12.*"], "start": "gtid:0-1001-42",
                    "metrics_address": ""},
    }


def test_the_password_travels_in_the_environment() -> None:
    assert capture_environment(run_config()) == {PASSWORD_VARIABLE: "s3cr#t"}


def test_capture_loads_the_file_with_the_password_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "cdc.toml"
    path.write_text(capture_config_text(run_config()))
    config = load_config(path, capture_environment(run_config()))
    assert config.source_dsn.password == "s3cr#t"
    assert config.source.server_id == 41234
    assert config.changelog_topic == "bench.ab12.r1.changelog"
    assert config.capture.start_gtid == "0-1001-42"
    assert config.capture.metrics_endpoint is None
    assert config.table_filter.includes("bench_capture_ab12", "payments")
    assert not config.table_filter.includes("payments", "payments")


def test_a_worker_count_is_capture_workers(tmp_path: Path) -> None:
    path = tmp_path / "cdc.toml"
    path.write_text(capture_config_text(replace(run_config(), workers=0)))
    assert load_config(path, capture_environment(run_config())).capture.workers == 0
    path.write_text(capture_config_text(run_config()))
    assert load_config(path, capture_environment(run_config())).capture.workers is None


def test_a_start_at_the_current_position_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "cdc.toml"
    path.write_text(capture_config_text(run_config(start="current")))
    assert load_config(path, capture_environment(run_config())).capture.start == "current"


def test_the_topics_of_a_run() -> None:
    assert run_config().topics == ("bench.ab12.r1.changelog", "bench.ab12.r1.schemas")
