"""Writing marks to a JSON-lines file: the I/O side of marks.py."""

from __future__ import annotations

import os
from pathlib import Path

from bench.workload.clock import Clock, SystemClock
from bench.workload.connection import MySQLConnection, read_gtid_position
from bench.workload.marks import Mark, format_mark, parse_mark
from cdc.errors import ConfigError


def write_mark(connection: MySQLConnection, marks_file: Path, label: str, transactions: int,
               *, clock: Clock | None = None) -> Mark:
    """Read the source's GTID position now and append a mark for it to ``marks_file``.

    Call it between transactions (never with one of this connection's open), so the
    position is exactly "everything committed so far". The line is flushed and fsynced:
    a mark that is written is on disk.
    """
    now = (clock or SystemClock()).utc_now()
    mark = Mark(label=label, time=now, gtid=read_gtid_position(connection),
                transactions=transactions)
    append_mark(marks_file, mark)
    return mark


def append_mark(marks_file: Path, mark: Mark) -> None:
    try:
        marks_file.parent.mkdir(parents=True, exist_ok=True)
        with marks_file.open("a", encoding="utf-8") as handle:
            handle.write(format_mark(mark) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise ConfigError(
            f"cannot write mark {mark.label!r} to {marks_file}: {exc.strerror or exc}",
            "check that the --marks-file path is a writable file in a writable directory",
        ) from None


def read_marks(marks_file: Path) -> list[Mark]:
    lines = marks_file.read_text(encoding="utf-8").splitlines()
    return [parse_mark(line) for line in lines if line.strip()]
