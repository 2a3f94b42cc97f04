"""Progress lines for long work, when stderr is not a terminal."""

from __future__ import annotations

import io
import json

from cdc.progress import ProgressReporter


def test_plain_lines_every_interval_with_rate_and_time_left() -> None:
    now = [100.0]
    out = io.StringIO()
    reporter = ProgressReporter(stream=out, terminal=False, interval_s=5, clock=lambda: now[0])
    reporter.update("db.payments", 0, 1000)
    now[0] = 102.0
    reporter.update("db.payments", 200, 1000)  # the first line, once a second has passed
    now[0] = 104.0
    reporter.update("db.payments", 300, 1000)  # within the interval: quiet
    now[0] = 110.0
    reporter.update("db.payments", 500, 1000)
    now[0] = 111.0
    reporter.update("db.other", 10, 10)  # a new unit closes the last one with a final line
    reporter.close()
    lines = out.getvalue().splitlines()
    assert lines == [
        "db.payments: 200 rows of about 1,000, 100 rows/s, about 8 s left",
        "db.payments: 500 rows of about 1,000, 50 rows/s, about 10 s left",
        "db.payments: 500 rows of about 500, 45 rows/s",
        "db.other: 10 rows of about 10",
    ]


def test_json_lines() -> None:
    now = [0.0]
    out = io.StringIO()
    reporter = ProgressReporter(stream=out, terminal=False, as_json=True, interval_s=1,
                                clock=lambda: now[0])
    reporter.update("t", 0, 100)
    now[0] = 2.0
    reporter.update("t", 40, 100)
    reporter.close()
    first = json.loads(out.getvalue().splitlines()[0])
    assert first == {"progress": "t", "rows": 40, "estimated": 100, "rows_per_s": 20,
                     "seconds_left": 3}


def test_a_terminal_gets_a_bar() -> None:
    out = io.StringIO()
    reporter = ProgressReporter(stream=out, terminal=True)
    reporter.update("db.payments", 10, 100)
    reporter.update("db.payments", 100, 100)
    reporter.close()
    assert "db.payments" in out.getvalue()
    assert "100/100" in out.getvalue()
