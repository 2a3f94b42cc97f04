"""Counting what a capture run committed, and what it logged."""

from __future__ import annotations

from bench.harness.capture_run import log_problems
from bench.harness.changelog_count import summarise
from cdc.kafka.reader import StoredRecord


def stored(offset: int, key: bytes | None, value: bytes) -> StoredRecord:
    return StoredRecord(offset, key, value, 0)


def test_row_changes_are_the_keyed_records_and_repeats_are_found() -> None:
    count = summarise([
        stored(0, b"k1", b"insert 1"),
        stored(1, None, b"heartbeat"),
        stored(2, b"k1", b"update 1"),
        stored(3, b"k2", b"insert 2"),
        stored(4, b"k2", b"insert 2"),
    ])
    assert count.records == 5
    assert count.row_changes == 4
    assert count.distinct_row_changes == 3
    assert count.duplicates == 1


def test_an_empty_changelog() -> None:
    count = summarise([])
    assert (count.records, count.row_changes, count.duplicates) == (0, 0, 0)


def test_warnings_and_errors_of_the_capture_log() -> None:
    stderr = ("2026-11-24 01:50:00,1 INFO cdc.capture: capture resumes after GTID position\n"
              "2026-11-24 01:51:00,2 WARNING cdc.capture: capture restarts from the changelog "
              "after: lost the binlog connection (attempt 1)\n"
              "2026-11-24 01:52:00,3 ERROR cdc.kafka: broker down\n")
    problems = log_problems(stderr)
    assert len(problems) == 2
    assert "capture restarts" in problems[0]
    assert problems[1].endswith("broker down")
