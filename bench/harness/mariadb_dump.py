"""The server's own way to copy a database: ``mariadb-dump --single-transaction`` into a
file (untimed), then ``mariadb < dump.sql`` into an empty target (the timed part).

Passwords go in ``MYSQL_PWD``, never on the command line.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cdc.dsn import Dsn
from cdc.errors import CdcError


class MariadbDumpError(CdcError):
    """mariadb-dump or mariadb failed."""


def connection_args(dsn: Dsn) -> list[str]:
    return [f"--host={dsn.host}", f"--port={dsn.port}", f"--user={dsn.user}"]


def dump_args(source: Dsn, database: str, binary: str = "mariadb-dump") -> list[str]:
    """The whole database, CREATE DATABASE and USE included, in one consistent read."""
    return [binary, *connection_args(source), "--single-transaction", "--databases", database]


def load_args(target: Dsn, binary: str = "mariadb") -> list[str]:
    return [binary, *connection_args(target)]


def dump_database(source: Dsn, database: str, path: Path) -> int:
    """Dump ``database`` into ``path``; return the file's size."""
    with path.open("wb") as out:
        done = subprocess.run(dump_args(source, database), env=_environment(source),
                              stdout=out, stderr=subprocess.PIPE, check=False)
    _check("mariadb-dump", done.returncode, done.stderr)
    return path.stat().st_size


def load_dump(target: Dsn, path: Path) -> None:
    """``mariadb < path`` into the target."""
    with path.open("rb") as dump:
        done = subprocess.run(load_args(target), env=_environment(target), stdin=dump,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    _check("mariadb < dump.sql", done.returncode, done.stderr)


def _environment(dsn: Dsn) -> dict[str, str]:
    return {**os.environ, "MYSQL_PWD": dsn.password}


def _check(what: str, returncode: int, stderr: bytes) -> None:
    if returncode != 0:
        said = " / ".join(stderr.decode(errors="replace").strip().splitlines()[-3:])
        raise MariadbDumpError(f"{what} exited with status {returncode}: {said or '(no message)'}",
                               "run the same command by hand to see the whole output")
