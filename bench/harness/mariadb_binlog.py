"""``mariadb-binlog`` reading a GTID range from the server and decoding its rows to text.

It reads as a replica would (``--read-from-remote-server``, the capture user), starting
from the binlog file the range begins in and following the server's later files
(``--to-last-log``); ``--start-position``/``--stop-position`` take GTID positions on
MariaDB 10.8+ (start exclusive, stop inclusive). ``--database`` keeps the decoded rows to
the benchmark's database, like the other readers' filters.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.harness.gtid_range import GtidRange
from cdc.dsn import Dsn
from cdc.errors import CdcError

ROW_LINE_PREFIXES = ("### INSERT INTO ", "### UPDATE ", "### DELETE FROM ")


class MariadbBinlogError(CdcError):
    """mariadb-binlog is missing or failed."""


@dataclass(frozen=True)
class BinlogRead:
    source: Dsn
    first_file: str
    range: GtidRange
    database: str
    binary: str = "mariadb-binlog"


def mariadb_binlog_args(read: BinlogRead) -> list[str]:
    """The command line (the password goes in the environment, never in the arguments)."""
    return [
        read.binary,
        "--read-from-remote-server",
        "--to-last-log",
        f"--host={read.source.host}",
        f"--port={read.source.port}",
        f"--user={read.source.user}",
        f"--start-position={read.range.start}",
        f"--stop-position={read.range.end}",
        f"--database={read.database}",
        "--base64-output=decode-rows",
        "--verbose",
        read.first_file,
    ]


def count_row_changes(lines: Iterable[str]) -> int:
    """Row changes in decoded output: one ``### INSERT INTO``, ``### UPDATE`` or
    ``### DELETE FROM`` line each."""
    return sum(1 for line in lines if line.startswith(ROW_LINE_PREFIXES))


def find_binary(name: str = "mariadb-binlog") -> str:
    found = shutil.which(name) or shutil.which("mysqlbinlog")
    if found is None:
        raise MariadbBinlogError(f"{name} is not installed",
                                 "install the mariadb-client package (make up does)")
    return found


def run_to_devnull(read: BinlogRead) -> None:
    """Decode the range with the output thrown away: the timed run."""
    completed = subprocess.run(
        mariadb_binlog_args(read), env=_environment(read.source), check=False,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _check(completed.returncode, completed.stderr)


def run_counting_rows(read: BinlogRead) -> int:
    """Decode the range and count its row changes: the untimed check that the range is
    the one the workload wrote."""
    with tempfile.TemporaryFile("w+", errors="replace") as errors, subprocess.Popen(
        mariadb_binlog_args(read), env=_environment(read.source), stdout=subprocess.PIPE,
        stderr=errors, text=True, errors="replace",
    ) as process:
        if process.stdout is None:
            raise MariadbBinlogError("mariadb-binlog gave no output stream")
        rows = count_row_changes(process.stdout)
        process.wait()
        errors.seek(0)
        _check(process.returncode, errors.read())
    return rows


def _environment(source: Dsn) -> dict[str, str]:
    return {**os.environ, "MYSQL_PWD": source.password}


def _check(returncode: int, stderr: str) -> None:
    if returncode != 0:
        raise MariadbBinlogError(
            f"mariadb-binlog exited with status {returncode}: {_last_lines(stderr)}",
            "run the same command by hand (see mariadb_binlog_args) to see the whole output")


def _last_lines(text: str, count: int = 3) -> str:
    lines: Sequence[str] = [line for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:]) or "(no message)"
