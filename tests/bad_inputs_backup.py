"""One small captured database with a plain and an encrypted snapshot, for every bad-input
case of the replayer (the session's, built once)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bad_inputs import Outcome, run
from tests.capture_helpers import capture_env, current_gtid_position, write_capture_config
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.snapshot_helpers import newest_manifest, snapshot_section, take
from tests.stack import StackEnv

KEY_ENV = "BAD_INPUTS_SNAPSHOT_KEY"
ROWS = 60_000
UPDATES = 6_000


@dataclass(frozen=True)
class Backup:
    config: Path
    encrypted_config: Path
    database: str
    key_hex: str
    snapshot_id: str
    encrypted_id: str

    @property
    def key_env(self) -> dict[str, str]:
        return {**capture_env(), KEY_ENV: self.key_hex}

    def variant(self, directory: Path, old: str, new: str, *,
                encrypted: bool = False) -> Path:
        source = self.encrypted_config if encrypted else self.config
        text = source.read_text()
        assert old in text, old
        path = directory / "variant.toml"
        path.write_text(text.replace(old, new))
        return path


@pytest.fixture(scope="session")
def backup(stack_env: StackEnv,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backup]:
    """A table of ROWS rows, captured; a plain and an encrypted snapshot of it; then UPDATES
    one-row transactions, captured too."""
    directory = tmp_path_factory.mktemp("bad-restore")
    database = unique_name("bad_restore")
    start = current_gtid_position(stack_env)
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {database}")
        cur.execute(f"CREATE TABLE {database}.t (id INT PRIMARY KEY, v VARCHAR(40))")
        cur.execute(f"INSERT INTO {database}.t SELECT seq, REPEAT('x', 30) "
                    f"FROM {database}.seq_1_to_{ROWS}")
    setup = write_capture_config(directory, stack_env, database, f"gtid:{start}",
                                 extra_capture=snapshot_section(
                                     directory / "store", anchor_wait="0s",
                                     extra="file_rows = 3000"))
    key_hex = secrets.token_hex(32)
    encrypted = directory / "encrypted.toml"
    encrypted.write_text(setup.config_path.read_text().replace(
        f'"{directory / "store"}"', f'"{directory / "encrypted-store"}"')
        + f'encryption_key_env = "{KEY_ENV}"\n')
    caught_up = run("cdc", "capture", "--config", str(setup.config_path), "--until-caught-up")
    assert caught_up.status == 0, caught_up.err
    take(setup.config_path)
    take(encrypted, env={**capture_env(), KEY_ENV: key_hex})
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        for row in range(1, UPDATES + 1):
            cur.execute(f"UPDATE {database}.t SET v = %s WHERE id = %s", (f"u{row}", row))
    caught_up = run("cdc", "capture", "--config", str(setup.config_path), "--until-caught-up")
    assert caught_up.status == 0, caught_up.err
    yield Backup(setup.config_path, encrypted, database, key_hex,
                 newest_manifest(directory / "store").snapshot_id,
                 newest_manifest(directory / "encrypted-store").snapshot_id)
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {database}")


def postgres_schemas(dsn: str) -> set[str]:
    """The schemas a restore could have made in a PostgreSQL database."""
    with postgres_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                       "AND nspname NOT IN ('information_schema', 'public')")
        return {str(name) for (name,) in cursor.fetchall()}


def restore(backup: Backup, point: str, target: str, *args: str,
            config: Path | None = None, env: dict[str, str] | None = None) -> Outcome:
    return run("replayer", "restore", "--config", str(config or backup.config), "--to", point,
               "--target", target, *args, env=env)


def applied_positions(dsn: str) -> list[tuple[object, ...]]:
    """The positions a PostgreSQL target records as restored (none before a restore ends)."""
    with postgres_connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('cdc_replayer.applied_position') IS NOT NULL")
        row = cursor.fetchone()
        if not (row and row[0]):
            return []
        cursor.execute("SELECT source, gtid FROM cdc_replayer.applied_position")
        return [tuple(r) for r in cursor.fetchall()]
