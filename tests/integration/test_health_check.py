"""cdc check --nagios on the real stack: OK while capture keeps up, WARNING then CRITICAL as
capture stays stopped and the RPO grows, WARNING as binlog retention runs short, CRITICAL
once the binlog capture needs is purged; and the same facts on capture's metrics endpoint."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.capture_helpers import (
    CaptureSetup,
    capture_env,
    kill,
    run_capture_until_caught_up,
    start_capture,
    wait_until_streaming,
    write_capture_config,
)
from tests.db import mysql_connect
from tests.integration.test_startup_checks import purge_all_but_the_newest_binlog
from tests.snapshot_helpers import run_cdc, snapshot_section, take
from tests.stack import StackEnv
from tests.throwaway_mariadb import ThrowawayServer, free_port, throwaway_mariadb

pytestmark = pytest.mark.integration
WARNING_S, CRITICAL_S = 6, 40


@pytest.fixture(scope="module")
def own_source() -> Iterator[ThrowawayServer]:
    """A source of the test's own: its binlog gets purged."""
    with throwaway_mariadb("health-source", 3501) as server:
        yield server


def _monitoring(metrics_address: str) -> str:
    return (f'metrics_address = "{metrics_address}"\n\n'
            "[monitoring]\n"
            f'rpo_warning = "{WARNING_S}s"\n'
            f'rpo_critical = "{CRITICAL_S}s"\n'
            'snapshot_age_warning = "1d"\n'
            'snapshot_age_critical = "2d"\n'
            'drill_age_warning = "0"\n'
            'drill_age_critical = "0"\n')


def _setup(tmp_path: Path, stack_env: StackEnv, source: ThrowawayServer,
           metrics_address: str) -> CaptureSetup:
    setup = write_capture_config(
        tmp_path, stack_env, "health", "current",
        extra_capture=_monitoring(metrics_address)
        + "\n" + snapshot_section(tmp_path / "store", anchor_wait="0s"),
        prefix=f"test.health.{time.time_ns()}")
    text = setup.config_path.read_text().replace(stack_env["CDC_SOURCE_CAPTURE_DSN"],
                                                 source.capture_dsn)
    # the metrics address line written by the helper is replaced by ours
    text = text.replace('metrics_address = ""\n', "", 1)
    setup.config_path.write_text(text)
    return setup


def _nagios(setup: CaptureSetup) -> tuple[int, str, dict[str, str]]:
    text = run_cdc("check", "--config", str(setup.config_path), "--nagios")
    as_json = run_cdc("check", "--config", str(setup.config_path), "--nagios", "--json")
    assert as_json.returncode == text.returncode, (text.stdout, as_json.stdout)
    report = json.loads(as_json.stdout)
    by_fact = {f["fact"]: f["status"] for f in report["findings"]}
    return text.returncode, text.stdout.strip(), by_fact


def _tail_time(setup: CaptureSetup) -> float:
    window = run_cdc("window", "--config", str(setup.config_path), "--json")
    assert window.returncode == 0, window.stderr
    return datetime.fromisoformat(json.loads(window.stdout)["latest"]["time"]).timestamp()


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def test_nagios_follows_rpo_retention_and_purge(
        tmp_path: Path, stack_env: StackEnv, own_source: ThrowawayServer) -> None:
    with mysql_connect(own_source.admin_dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE health")
        cur.execute("CREATE TABLE health.t (id INT PRIMARY KEY, v INT)")
        cur.execute("INSERT INTO health.t VALUES (1, 1)")
    address = f"127.0.0.1:{free_port()}"
    setup = _setup(tmp_path, stack_env, own_source, address)

    status, line, facts = _nagios(setup)
    assert status == 2, line
    assert facts["rpo"] == "CRITICAL"
    assert "nothing is backed up" in line
    assert facts["snapshot_age"] == "CRITICAL"

    take(setup.config_path)
    _metrics_while_capturing(setup, own_source, tmp_path / "capture.log", address)
    status, line, facts = _nagios(setup)
    assert status == 0, line
    assert line.startswith("CDC OK - ")
    assert f"rpo=0s;{WARNING_S};{CRITICAL_S};0" in line

    _rpo_grows_while_capture_is_stopped(setup, own_source)
    _short_retention_warns(setup, own_source)
    _purged_binlog_is_critical(setup, own_source)


def _metrics_while_capturing(setup: CaptureSetup, source: ThrowawayServer, log: Path,
                             address: str) -> None:
    capture = start_capture(setup, log)
    try:
        wait_until_streaming(log)
        with mysql_connect(source.admin_dsn) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO health.t VALUES (2, 2)")
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://{address}/metrics", timeout=30) as response:
                body = response.read().decode()
            if "cdc_backup_rpo_seconds 0.0" in body \
                    and "cdc_backup_transactions_behind 0.0" in body:
                break
            time.sleep(1)
        assert "cdc_backup_rpo_seconds 0.0" in body, body
        assert 'cdc_backup_health_status{fact="overall"} 0.0' in body, body
        assert "cdc_backup_transactions_behind 0.0" in body
        assert "cdc_backup_newest_snapshot_age_seconds" in body
    finally:
        kill(capture, signal.SIGTERM)
        capture.wait(timeout=60)


def _rpo_grows_while_capture_is_stopped(setup: CaptureSetup, source: ThrowawayServer) -> None:
    with mysql_connect(source.admin_dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO health.t VALUES (3, 3)")
    tail = _tail_time(setup)
    _sleep_until(tail + WARNING_S + 1)
    status, line, facts = _nagios(setup)
    assert status == 1, line
    assert facts["rpo"] == "WARNING"
    assert facts["behind"] == "OK"
    assert line.startswith("CDC WARNING - rpo: ")
    _sleep_until(tail + CRITICAL_S + 1)
    status, line, facts = _nagios(setup)
    assert status == 2, line
    assert facts["rpo"] == "CRITICAL"
    assert line.startswith("CDC CRITICAL - rpo: ")
    caught_up = run_capture_until_caught_up(setup)
    assert caught_up.returncode == 0, caught_up.stderr
    status, line, facts = _nagios(setup)
    assert status == 0, line


def _short_retention_warns(setup: CaptureSetup, source: ThrowawayServer) -> None:
    with mysql_connect(source.admin_dsn) as conn, conn.cursor() as cur:
        cur.execute("SET GLOBAL binlog_expire_logs_seconds = 20 * 3600")
        try:
            status, line, facts = _nagios(setup)
        finally:
            cur.execute("SET GLOBAL binlog_expire_logs_seconds = 0")
    assert status == 1, line
    assert facts["binlog_retention"] == "WARNING"
    assert "before the source may purge binlog capture still needs" in line


def _purged_binlog_is_critical(setup: CaptureSetup, source: ThrowawayServer) -> None:
    with mysql_connect(source.admin_dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO health.t VALUES (4, 4)")
        cur.execute("FLUSH BINARY LOGS")
        purge_all_but_the_newest_binlog(cur)
    status, line, facts = _nagios(setup)
    assert status == 2, line
    assert facts["binlog_retention"] == "CRITICAL"
    assert "the source no longer has the binlog from GTID position" in line


def test_nagios_is_unknown_with_a_config_it_cannot_read(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[source\n")
    result = run_cdc("check", "--config", str(config), "--nagios")
    assert result.returncode == 3
    assert result.stdout.startswith("CDC UNKNOWN - ")
    assert "is not valid TOML" in result.stdout


def test_replayer_status_nagios_is_unknown_when_the_target_is_unreachable() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "replayer", "status", "--target",
         f"postgresql://nobody:wrong@127.0.0.1:{free_port()}/none", "--nagios"],
        env=capture_env(), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("CDC UNKNOWN - cannot connect to the target")
    assert "wrong" not in result.stdout
