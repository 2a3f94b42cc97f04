"""A full disk on the restore target: a PostgreSQL database whose tablespace is a small tmpfs.
The restore stops with an error that names the full disk and how to go on, and --resume, once
the volume has room, ends with the same target as a restore that never ran out."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from tests.bad_inputs import assert_refused, stack_secrets
from tests.bad_inputs_backup import Backup, restore
from tests.db import unique_name
from tests.restore_targets import postgres_state
from tests.stack import StackEnv, stack_dir

pytestmark = pytest.mark.integration

EMPTY_DATABASE_MB = 2  # what CREATE DATABASE from template0 writes into the tablespace


@dataclass(frozen=True)
class SmallVolume:
    path: Path

    def grow(self, size_mb: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size_mb}m", str(self.path)],
                       check=True, capture_output=True, timeout=60)


@contextmanager
def small_volume(size_mb: int) -> Iterator[SmallVolume]:
    """A tmpfs of ``size_mb`` that PostgreSQL's OS user owns (mounting takes root)."""
    path = stack_dir() / unique_name("full-disk")
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700",
                              "tmpfs", str(path)], capture_output=True, text=True, timeout=60,
                             check=False)
    if mounted.returncode != 0:
        path.rmdir()
        pytest.fail(f"a small volume for the full-disk case needs root to mount a tmpfs: "
                    f"{mounted.stderr.strip()}")
    try:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")
        yield SmallVolume(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=60,
                       check=False)
        path.rmdir()


def superuser(stack_env: StackEnv) -> psycopg2.extensions.connection:
    """The stack's PostgreSQL as its superuser, over its socket (trusted locally)."""
    connection = psycopg2.connect(host=str(stack_dir() / "postgres" / "run"),
                                  port=stack_env["CDC_POSTGRES_PORT"], user="postgres",
                                  dbname="postgres")
    connection.autocommit = True
    return connection


@contextmanager
def database_on(volume: SmallVolume, stack_env: StackEnv) -> Iterator[str]:
    """An empty database, owned by the stack's role, whose tablespace is ``volume``."""
    name = unique_name("full_disk")
    connection = superuser(stack_env)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLESPACE {name} OWNER cdc LOCATION '{volume.path}'")
            cursor.execute(f"CREATE DATABASE {name} OWNER cdc TABLESPACE {name} "
                           "ENCODING 'UTF8' TEMPLATE template0")
        yield urlunsplit(urlsplit(stack_env["CDC_POSTGRES_DSN"])._replace(path=f"/{name}"))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cursor.execute(f"DROP TABLESPACE IF EXISTS {name}")
        connection.close()


def test_a_full_disk_stops_the_restore_and_resume_finishes_it(
        backup: Backup, postgres_databases: Callable[[], str], stack_env: StackEnv) -> None:
    reference = postgres_databases()
    done = restore(backup, "latest", reference)
    assert done.status == 0, done.err
    with small_volume(EMPTY_DATABASE_MB + 2) as volume, database_on(volume, stack_env) as dsn:
        outcome = restore(backup, "latest", dsn)
        assert_refused(outcome, 1, ("the target's disk is full", "No space left on device"),
                       ("free space", "grow its volume", "--resume"), stack_secrets(stack_env))
        volume.grow(256)
        resumed = restore(backup, "latest", dsn, "--resume")
        assert resumed.status == 0, resumed.err
        tables = ("t",)
        assert postgres_state(dsn, backup.database, tables) == \
            postgres_state(reference, backup.database, tables)
