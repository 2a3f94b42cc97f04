"""The marks file format: one JSON object per line, times in UTC with microseconds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.workload.mark_writer import append_mark, read_marks
from bench.workload.marks import Mark, format_mark, format_time, parse_mark
from cdc.errors import ConfigError


def test_a_mark_is_one_json_line_with_fixed_keys() -> None:
    mark = Mark("start", datetime(2026, 11, 1, 5, 30, 0, 120, tzinfo=UTC), "0-1001-34", 0)
    line = format_mark(mark)
    assert "\n" not in line
    assert line == (
        '{"label": "start", "time": "2026-11-01T05:30:00.000120+00:00", '
        '"gtid": "0-1001-34", "transactions": 0}'
    )
    assert list(json.loads(line)) == ["label", "time", "gtid", "transactions"]


def test_time_always_has_microseconds_and_a_utc_offset() -> None:
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000000+00:00"
    )


def test_time_in_another_zone_is_converted_to_utc() -> None:
    new_york_winter = timezone(timedelta(hours=-5))
    moment = datetime(2026, 11, 1, 1, 30, 0, 999999, tzinfo=new_york_winter)
    assert format_time(moment) == "2026-11-01T06:30:00.999999+00:00"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Mark("x", datetime(2026, 1, 1), "0-1-1", 0)


def test_a_mark_survives_formatting_and_parsing() -> None:
    mark = Mark("mark-3 ✓", datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=UTC),
                "0-1001-9,1-1001-4", 1234)
    assert parse_mark(format_mark(mark)) == mark


def test_marks_are_appended_and_read_back_in_order(tmp_path: Path) -> None:
    marks_file = tmp_path / "nested" / "marks.jsonl"
    marks = [
        Mark(label, datetime(2026, 1, 1, 0, 0, i, tzinfo=UTC), f"0-1-{10 + i}", i * 5)
        for i, label in enumerate(["start", "mark-1", "end"])
    ]
    for mark in marks:
        append_mark(marks_file, mark)
    assert read_marks(marks_file) == marks
    assert len(marks_file.read_text().splitlines()) == 3


def test_an_unwritable_marks_file_is_an_operator_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    mark = Mark("start", datetime(2026, 1, 1, tzinfo=UTC), "0-1-1", 0)
    with pytest.raises(ConfigError, match="cannot write mark 'start'") as caught:
        append_mark(blocker / "marks.jsonl", mark)
    assert caught.value.exit_status == 2
    assert "--marks-file" in caught.value.hint
