"""The server's own way to replay row changes: ``mariadb-binlog | mariadb``.

``mariadb-binlog`` reads the source's binlog as a replica would (``--read-from-remote-server``
with the capture user), from the file the range begins in through the later files
(``--to-last-log``), between two GTID positions (start exclusive, stop inclusive, MariaDB
10.8+), keeping to one database (``--database``: other sessions' transactions on the shared
source are left out). Rows events come out as ``BINLOG '...'`` statements, which ``mariadb``
applies to the target as the server applied them. Passwords go in ``MYSQL_PWD``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass

from cdc.dsn import Dsn
from cdc.errors import CdcError


class BinlogApplyError(CdcError):
    """mariadb-binlog or mariadb failed."""


@dataclass(frozen=True)
class BinlogApply:
    source: Dsn  # a user with REPLICATION SLAVE (the capture user)
    first_file: str
    start: str  # GTID position, exclusive
    stop: str  # GTID position, inclusive
    database: str
    target: Dsn
    binary: str = "mariadb-binlog"


def reader_args(apply: BinlogApply) -> list[str]:
    return [
        apply.binary,
        "--read-from-remote-server",
        "--to-last-log",
        f"--host={apply.source.host}",
        f"--port={apply.source.port}",
        f"--user={apply.source.user}",
        f"--start-position={apply.start}",
        f"--stop-position={apply.stop}",
        f"--database={apply.database}",
        apply.first_file,
    ]


def writer_args(apply: BinlogApply) -> list[str]:
    target = apply.target
    return ["mariadb", f"--host={target.host}", f"--port={target.port}",
            f"--user={target.user}"]


def apply_range(apply: BinlogApply) -> None:
    """``mariadb-binlog ... | mariadb``: both must succeed."""
    with tempfile.TemporaryFile() as reader_errors, tempfile.TemporaryFile() as writer_errors:
        reader = subprocess.Popen(reader_args(apply), stdout=subprocess.PIPE,
                                  stderr=reader_errors,
                                  env={**os.environ, "MYSQL_PWD": apply.source.password})
        writer = subprocess.Popen(writer_args(apply), stdin=reader.stdout,
                                  stdout=subprocess.DEVNULL, stderr=writer_errors,
                                  env={**os.environ, "MYSQL_PWD": apply.target.password})
        if reader.stdout is not None:
            reader.stdout.close()  # the writer holds the pipe now
        writer.wait()
        if writer.returncode != 0 and reader.poll() is None:
            reader.kill()
        reader.wait()
        # The writer first: when it fails, the reader dies of the broken pipe.
        for name, process, errors in (("mariadb", writer, writer_errors),
                                      ("mariadb-binlog", reader, reader_errors)):
            if process.returncode != 0:
                errors.seek(0)
                said = " / ".join(errors.read().decode(errors="replace").strip()
                                  .splitlines()[-3:])
                raise BinlogApplyError(
                    f"{name} exited with status {process.returncode}: {said or '(no message)'}",
                    "run 'mariadb-binlog ... | mariadb' by hand (see binlog_apply.reader_args)")
