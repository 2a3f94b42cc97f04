"""Measurements, the comparisons derived from them, and the table and JSON they print as."""

from __future__ import annotations

import json
import re

import pytest

from bench.harness.machine import MachineFacts
from bench.harness.report import format_json, format_table, format_text
from bench.harness.result import (
    CAPTURE,
    CAPTURE_STARTUP,
    MARIADB_BINLOG,
    RAW_DECODE,
    RAW_DECODE_CACHED,
    WORKLOAD,
    BenchResult,
    Measurement,
    RangeFacts,
    workers_key,
    workers_of,
)

MACHINE = MachineFacts(cpus=2, cpu_model="AMD EPYC", mariadb="10.11.19-MariaDB",
                       mariadb_binlog="mariadb-binlog Ver 3.5", kafka="4.1.1 (Scala 2.13)",
                       python="3.11.7", mysql_replication="1.0.17")
RANGE = RangeFacts(database="bench_capture_ab12", start_gtid="0-1001-100",
                   end_gtid="0-1001-21700", first_binlog_file="mariadb-bin.000002",
                   binlog_bytes=190_000_000, transactions_in_range=21_600,
                   workload_transactions=21_600, row_changes=100_000,
                   row_changes_by_kind={"inserts": 60_000, "updates": 38_000, "deletes": 2_000})


def result(*measurements: Measurement) -> BenchResult:
    return BenchResult("python -m bench.capture_throughput", "2026-11-24 01:30 UTC", MACHINE,
                       RANGE, measurements, ("a note",))


ALL = (
    Measurement(WORKLOAD, "workload generation", 100_000, (50.0,)),
    Measurement(MARIADB_BINLOG, "mariadb-binlog", 100_000, (2.0, 2.5, 1.6)),
    Measurement(RAW_DECODE, "raw decode", 100_000, (8.0, 10.0, 9.0)),
    Measurement(RAW_DECODE_CACHED, "raw decode cached", 100_000, (5.0, 4.0, 6.0)),
    Measurement(CAPTURE, "capture", 100_000, (22.0, 20.0, 30.0)),
    Measurement(CAPTURE_STARTUP, "capture start-up", 0, (2.0, 3.0, 4.0)),
)


def test_a_measurement_reports_the_rate_at_its_median_time() -> None:
    raw = ALL[2]
    assert raw.runs == 3
    assert raw.median_seconds == 9.0
    assert raw.rate is not None
    assert round(raw.rate) == 11_111
    assert raw.rate_range == (10_000.0, 12_500.0)


def test_a_fixed_cost_has_no_rate() -> None:
    startup = ALL[-1]
    assert startup.rate is None
    assert startup.rate_range is None
    assert startup.median_seconds == 3.0


def test_ratios_compare_rates_at_the_medians() -> None:
    ratios = result(*ALL).ratios()
    assert ratios["capture/raw_decode"] == pytest.approx(9.0 / 22.0)
    assert ratios["capture/raw_decode_cached"] == pytest.approx(5.0 / 22.0)
    assert ratios["capture/mariadb_binlog"] == pytest.approx(2.0 / 22.0)
    assert ratios["raw_decode/mariadb_binlog"] == pytest.approx(2.0 / 9.0)


def test_missing_measurements_give_no_ratio() -> None:
    partial = result(*ALL[:3])
    assert partial.ratios()["capture/raw_decode"] is None
    assert "capture / library" not in format_text(partial)
    assert partial.ratios()["raw_decode/mariadb_binlog"] == pytest.approx(2.0 / 9.0)
    assert partial.capture_after_startup_rate() is None


def test_capture_once_started_takes_the_start_up_median_off() -> None:
    assert result(*ALL).capture_after_startup_rate() == pytest.approx(100_000 / (22.0 - 3.0))


def test_the_table_has_a_row_per_measurement_with_medians_and_spread() -> None:
    lines = format_table(ALL).splitlines()
    assert lines[0].split()[:2] == ["measurement", "runs"]
    assert set(lines[1]) == {"-", " "}
    capture = next(line for line in lines if line.startswith("capture "))
    assert capture.split() == ["capture", "3", "22.00", "4,545", "3,333", "-", "5,000"]
    startup = next(line for line in lines if line.startswith("capture start-up"))
    assert startup.split()[-2:] == ["3.00", "-"]
    workload = next(line for line in lines if line.startswith("workload"))
    assert workload.split()[-1] == "2,000"  # one run: no spread column


def test_the_text_report_names_the_range_machine_ratios_and_notes() -> None:
    text = format_text(result(*ALL))
    assert "after 0-1001-100 up to 0-1001-21700" in text
    assert "190.0 MB of binlog" in text
    assert "2 CPUs, AMD EPYC" in text
    assert re.search(r"^capture / library raw decode +0\.41$", text, re.MULTILINE)
    assert re.search(r"^capture / library raw decode, maps cached +0\.23$", text, re.MULTILINE)
    assert "note: a note" in text


def test_the_json_is_one_object_with_everything() -> None:
    data = json.loads(format_json(result(*ALL)))
    assert data["benchmark"] == "capture_throughput"
    assert data["machine"]["cpus"] == 2
    assert data["range"]["row_changes"] == 100_000
    assert data["measurements"]["raw_decode"]["median_seconds"] == 9.0
    assert data["measurements"]["capture_startup"]["row_changes_per_second"] is None
    assert data["ratios"]["capture/raw_decode"] == 0.409
    assert data["capture_after_startup_row_changes_per_second"] == 5263.2
    assert data["notes"] == ["a note"]


def test_the_scaling_line_lists_capture_by_worker_count() -> None:
    scaled = (*ALL, Measurement(workers_key(1), "cdc capture --workers 1", 100_000, (10.0,)),
              Measurement(workers_key(0), "cdc capture --workers 0", 100_000, (20.0,)))
    found = result(*scaled)
    assert found.scaling() == [("0", 5_000.0), ("1", 10_000.0)]
    assert "capture by --workers" in format_text(found)
    assert "0: 5,000, 1: 10,000 row changes/s" in format_text(found)
    assert workers_of(workers_key(3)) == 3
    assert workers_of(CAPTURE) is None
