"""Progress of long work (snapshots, loads, replays) for an operator.

On a terminal: a bar per unit of work with rows, rows/s and time left (tqdm). Otherwise a
line every few seconds on stderr, plain or JSON, so that logs and scripts can follow it too.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from tqdm import tqdm


class ProgressReporter:
    """``update(unit, done, total)`` as work goes on; ``close()`` at the end."""

    def __init__(self, *, what: str = "rows", as_json: bool = False,
                 stream: TextIO | None = None, interval_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic,
                 terminal: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._what = what
        self._json = as_json
        self._interval = interval_s
        self._clock = clock
        self._bar: tqdm[Any] | None = None
        self._unit = ""
        self._started = clock()
        self._last_line = 0.0
        self._done = 0

    def update(self, unit: str, done: int, total: int) -> None:
        if unit != self._unit:
            self._finish_unit()
            self._unit = unit
            self._started = self._clock()
            if self._terminal:
                self._bar = tqdm(total=total or None, desc=unit, unit=f" {self._what}",
                                 unit_scale=True, file=self._stream, leave=True)
        self._done = done
        if self._bar is not None:
            if total and total > (self._bar.total or 0):
                self._bar.total = total
            self._bar.update(done - self._bar.n)
            return
        now = self._clock()
        if now - self._last_line >= self._interval and now - self._started >= 1.0:
            self._last_line = now
            self._line(done, total, now)

    def close(self) -> None:
        self._finish_unit()

    def _finish_unit(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._unit:
            self._line(self._done, self._done, self._clock())
        self._unit = ""

    def _line(self, done: int, total: int, now: float) -> None:
        elapsed = now - self._started
        rate = done / elapsed if elapsed >= 1.0 else 0.0  # no rate from a blink
        left = (total - done) / rate if rate and total > done else 0.0
        if self._json:
            text = json.dumps({"progress": self._unit, self._what: done, "estimated": total,
                               f"{self._what}_per_s": round(rate), "seconds_left": round(left)})
        else:
            text = (f"{self._unit}: {done:,} {self._what}"
                    + (f" of about {total:,}" if total else "")
                    + (f", {rate:,.0f} {self._what}/s" if rate else "")
                    + (f", about {left:,.0f} s left" if left else ""))
        print(text, file=self._stream, flush=True)
