"""Secrets never leak: every command runs with the capture password, the target passwords, a
drill target's password and the snapshot encryption key given as an operator gives them, and
none of them appears in any output (text, --json, logs at DEBUG), in the snapshot store's
files, in the drills topic or on the metrics endpoint; nor does a wrong password in the
error it causes."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from cdc.dsn import parse_dsn
from cdc.kafka.reader import read_committed
from tests.capture_helpers import capture_env, write_capture_config
from tests.db import unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.integration.test_verify_postgres import drop_source_database
from tests.snapshot_helpers import newest_manifest, snapshot_section
from tests.stack import StackEnv
from tests.throwaway_mariadb import free_port

pytestmark = pytest.mark.integration


class Outputs:
    """Every command's stdout and stderr, and whatever else is checked, by label."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.seen: dict[str, str] = {}

    def run(self, label: str, *argv: str, env: dict[str, str] | None = None,
            expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", *argv], env=env or self.env,
                                capture_output=True, text=True, timeout=600, check=False)
        self.seen[label] = result.stdout + "\n" + result.stderr
        if expect is not None:
            assert result.returncode == expect, (label, result.stdout, result.stderr)
        return result

    def leaks(self, secret: str) -> list[str]:
        return [label for label, text in self.seen.items() if secret in text]


@pytest.fixture
def source_database(stack_env: StackEnv) -> Iterator[str]:
    database = unique_name("secrets")
    finish(workload(stack_env, database, "--setup-only"))
    finish(workload(stack_env, database, "--transactions", "50", "--seed", "9"))
    yield database
    drop_source_database(stack_env, database)


def test_no_command_shows_a_secret(tmp_path: Path, stack_env: StackEnv,
                                   source_database: str) -> None:
    capture = parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])
    target_mariadb = stack_env["CDC_TARGET_MARIADB_DSN"]
    postgres = parse_dsn(stack_env["CDC_POSTGRES_DSN"])
    key_hex = secrets.token_hex(32)
    metrics = f"127.0.0.1:{free_port()}"
    store = tmp_path / "store"
    setup = write_capture_config(
        tmp_path, stack_env, source_database, "current",
        extra_capture=snapshot_section(store, anchor_wait="0s",
                                       extra='encryption_key_env = "CDC_TEST_SNAPSHOT_KEY"'))
    # The password leaves the DSN: it comes from the environment, as the docs advise.
    text = setup.config_path.read_text().replace(f":{capture.password}@", "@")
    text = text.replace('metrics_address = ""', f'metrics_address = "{metrics}"')
    setup.config_path.write_text(text)
    pg_server = (f"postgresql://{postgres.user}:{postgres.password}@{postgres.host}:"
                 f"{postgres.port}/{postgres.database}")
    env = {**capture_env(), "CDC_SOURCE__PASSWORD": capture.password,
           "CDC_TEST_SNAPSHOT_KEY": key_hex, "CDC_DRILLS__PASSWORD": postgres.password}
    tables = [f"{source_database}.{t}" for t in WORKLOAD_TABLES]
    (tmp_path / "drills.toml").write_text(
        text + f'\n[drills]\ntarget = "postgresql://{postgres.user}@{postgres.host}:'
               f'{postgres.port}/{postgres.database}"\ntables = {json.dumps(tables)}\n')
    config = str(setup.config_path)
    drills_config = str(tmp_path / "drills.toml")
    out = Outputs(env)

    out.run("check", "cdc", "check", "--config", config)
    out.run("check --json", "cdc", "check", "--config", config, "--json")
    out.run("snapshot", "cdc", "snapshot", "--config", config, "--json")
    out.run("capture --until-caught-up", "cdc", "capture", "--config", config,
            "--until-caught-up", "--json", "--log-level", "DEBUG")
    _scrape_while_capturing(out, config, metrics, env)
    out.run("mark", "cdc", "mark", "--config", config, "secrets-test", "--json")
    out.run("window", "cdc", "window", "--config", config, "--json")
    out.run("tail", "cdc", "tail", "--config", config, "-n", "3", "--json")
    out.run("backups list", "cdc", "backups", "list", "--config", config, "--json")
    out.run("backups verify", "cdc", "backups", "verify", "--config", config, "--json")
    out.run("check --nagios", "cdc", "check", "--config", config, "--nagios", "--json",
            expect=None)
    snapshot_id = newest_manifest(store).snapshot_id

    pg_target = _new_postgres_database(pg_server)
    try:
        _restore_side(out, config=config, drills_config=drills_config, pg_target=pg_target,
                      snapshot_id=snapshot_id, target_mariadb=target_mariadb,
                      source_database=source_database, tables=tables)
    finally:
        _drop_postgres_database(pg_server, pg_target.rsplit("/", 1)[1])
    wrong = "Wrong" + secrets.token_hex(12)
    out.run("check, wrong password", "cdc", "check", "--config", config, "--json",
            env={**env, "CDC_SOURCE__PASSWORD": wrong}, expect=2)
    out.run("restore, wrong password", "replayer", "restore", "--config", config, "--to",
            "latest", "--target", pg_server.replace(f":{postgres.password}@", f":{wrong}@"),
            expect=2)
    out.run("drill, wrong password", "replayer", "drill", "--config", drills_config,
            env={**env, "CDC_DRILLS__PASSWORD": wrong}, expect=None)

    stored = {f"store:{path.relative_to(store)}": path.read_bytes().decode("latin-1")
              for path in store.rglob("*") if path.is_file()}
    drills = "\n".join(r.value.decode() for r in read_committed(
        stack_env["CDC_KAFKA_BOOTSTRAP"], f"{setup.topic_prefix}.drills"))
    out.seen.update(stored)
    out.seen["drills topic"] = drills
    assert len(out.seen) > 25
    # The search sees real output: the names beside the secrets do show.
    assert "check" in out.leaks(f"as {capture.user} ")
    assert "drill" in out.leaks('"verdict": "identical"')
    target_password = parse_dsn(target_mariadb).password
    for name, secret in (("capture password", capture.password), ("key", key_hex),
                         ("PostgreSQL password", postgres.password),
                         ("MariaDB target password", target_password),
                         ("wrong password", wrong)):
        assert out.leaks(secret) == [], f"the {name} shows in {out.leaks(secret)}"


def _restore_side(out: Outputs, *, config: str, drills_config: str, pg_target: str,
                  snapshot_id: str, target_mariadb: str, source_database: str,
                  tables: list[str]) -> None:
    out.run("restore", "replayer", "restore", "--config", config, "--to", "latest",
            "--target", pg_target, "--tables", ",".join(tables), "--json")
    out.run("status", "replayer", "status", "--target", pg_target, "--config", config,
            "--json")
    out.run("status --nagios", "replayer", "status", "--target", pg_target, "--config",
            config, "--nagios", expect=None)
    out.run("verify --snapshot", "replayer", "verify", "--snapshot", snapshot_id, "--config",
            config, "--target", target_mariadb, "--json", "--tables", source_database,
            expect=None)
    out.run("drill", "replayer", "drill", "--config", drills_config, "--json")
    out.run("drill --history", "replayer", "drill", "--config", drills_config, "--history",
            "--json")
    out.run("plan", "cdc", "plan", "--config", config, "--from-metrics", "--rto", "1h",
            "--rpo", "10m", "--json")



def _scrape_while_capturing(out: Outputs, config: str, metrics: str,
                            env: dict[str, str]) -> None:
    process = subprocess.Popen([sys.executable, "-m", "cdc", "capture", "--config", config,
                                "--log-level", "DEBUG"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline and "cdc_backup_health_status" not in body:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://{metrics}/metrics", timeout=30) as page:
                    body = page.read().decode()
                with urllib.request.urlopen(f"http://{metrics}/health", timeout=30) as page:
                    body += page.read().decode()
            except OSError:
                continue
        assert "cdc_backup_health_status" in body
        out.seen["metrics"] = body
    finally:
        process.send_signal(signal.SIGTERM)
        logs, _ = process.communicate(timeout=120)
    out.seen["capture (service)"] = logs


def _new_postgres_database(server: str) -> str:
    name = unique_name("secrets_pg")
    _on_server(server, f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    return server.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(server: str, name: str) -> None:
    _on_server(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _on_server(server: str, statement: str) -> None:
    connection = psycopg2.connect(server)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()
