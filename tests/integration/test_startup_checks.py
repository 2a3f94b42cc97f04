"""``cdc check`` against the real servers: each way a source can be unfit for capture gives its
message and exit status 2; a fit one gives exit 0 and what capture needs to know."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pymysql.cursors
import pytest

from cdc.config import TableFilter
from cdc.dsn import parse_dsn
from cdc.errors import SourceCheckError
from cdc.startup_checks import (
    check_position_available,
    earliest_available_position,
    tables_without_primary_key,
)
from cdc.startup_checks.queries import connect
from tests.db import mysql_connect, query_one, unique_name
from tests.stack import REPO_ROOT, StackEnv
from tests.throwaway_mariadb import ThrowawayServer, free_port, throwaway_mariadb

pytestmark = pytest.mark.integration

CDC = Path(sys.executable).with_name("cdc")
CAPTURE_SERVER_ID = 4242
THROWAWAY_SERVER_ID = 3001
MISCONFIGURATION = ("binlog_format=MIXED\nbinlog_row_metadata=MINIMAL\nbinlog_row_image=MINIMAL\n"
                    "log_bin_compress=ON")


@dataclass(frozen=True)
class CheckRun:
    status: int
    out: str
    err: str


def run_check(config: Path, environ: Mapping[str, str] | None = None,
              as_json: bool = False) -> CheckRun:
    """The real command in a process of its own, with only the overrides given here."""
    env = {name: value for name, value in os.environ.items()
           if not (name.startswith("CDC_") and "__" in name)}
    env.update(environ or {})
    args = [str(CDC), "check", "--config", str(config), *(["--json"] if as_json else [])]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    return CheckRun(done.returncode, done.stdout, done.stderr)


def write_config(directory: Path, dsn: str, bootstrap: str, extra: str = "",
                 server_id: int = CAPTURE_SERVER_ID) -> Path:
    path = directory / "cdc.toml"
    path.write_text(f'[source]\ndsn = "{dsn}"\nserver_id = {server_id}\n{extra}\n'
                    f'[kafka]\nbootstrap_servers = "{bootstrap}"\n')
    return path


@pytest.fixture
def capture_config(tmp_path: Path, stack_env: StackEnv) -> Path:
    return write_config(tmp_path, stack_env["CDC_SOURCE_CAPTURE_DSN"],
                        stack_env["CDC_KAFKA_BOOTSTRAP"])


def test_a_fit_source_passes_with_what_capture_needs_to_know(
        capture_config: Path, stack_env: StackEnv) -> None:
    run = run_check(capture_config)
    assert (run.status, run.err) == (0, "")
    source_id = stack_env["CDC_SOURCE_SERVER_ID"]
    assert "server      mariadb 10." in run.out
    assert f"server ids  source {source_id}, capture {CAPTURE_SERVER_ID}" in run.out
    assert f"GTID position 0-{source_id}-" in run.out
    assert run.out.endswith("capture can start\n")
    assert parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"]).password not in run.out


def test_the_example_with_password_and_addresses_from_the_environment(
        stack_env: StackEnv) -> None:
    dsn = parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])
    run = run_check(REPO_ROOT / "examples" / "cdc.toml", {
        "CDC_SOURCE__DSN": f"mysql://{dsn.user}@{dsn.host}:{dsn.port}/",
        "CDC_SOURCE__PASSWORD": dsn.password,
        "CDC_KAFKA__BOOTSTRAP_SERVERS": stack_env["CDC_KAFKA_BOOTSTRAP"],
    }, as_json=True)
    assert run.status == 0, run.out
    found = json.loads(run.out)
    assert found["ok"] is True
    assert (found["flavor"], found["server_id"]) == (
        "mariadb", int(stack_env["CDC_SOURCE_SERVER_ID"]))
    assert found["binlog_file"].startswith("mariadb-bin.")
    assert found["changelog_topic"] == "cdc.local-source.changelog"
    assert dsn.password not in run.out


def test_the_password_from_a_file(tmp_path: Path, stack_env: StackEnv) -> None:
    dsn = parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])
    (tmp_path / "capture.pw").write_text(dsn.password + "\n")
    config = write_config(tmp_path, f"mysql://{dsn.user}@{dsn.host}:{dsn.port}/",
                          stack_env["CDC_KAFKA_BOOTSTRAP"], 'password_file = "capture.pw"')
    assert run_check(config).status == 0


def test_captured_tables_without_a_primary_key_are_a_warning(
        tmp_path: Path, stack_env: StackEnv) -> None:
    database = unique_name("check_keys")
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as admin, admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {database}")
        try:
            cur.execute(f"CREATE TABLE {database}.keyed (id INT PRIMARY KEY)")
            cur.execute(f"CREATE TABLE {database}.keyless (note VARCHAR(10))")
            config = write_config(tmp_path, stack_env["CDC_SOURCE_CAPTURE_DSN"],
                                  stack_env["CDC_KAFKA_BOOTSTRAP"])
            config.write_text(config.read_text() + f'[capture]\ninclude = ["{database}"]\n')
            run = run_check(config)
            with connect(parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])) as conn:
                only_this = TableFilter.from_patterns([database])
                without_key = tables_without_primary_key(conn, only_this)
                excluded = TableFilter.from_patterns([database], [f"{database}.keyless"])
                assert tables_without_primary_key(conn, excluded) == []
        finally:
            cur.execute(f"DROP DATABASE {database}")
    assert without_key == [f"{database}.keyless"]
    assert run.status == 0
    assert (f"warning: 1 captured table(s) have no primary key: {database}.keyless; "
            in run.out)


def test_an_unreachable_port(tmp_path: Path, stack_env: StackEnv) -> None:
    port = free_port()
    config = write_config(tmp_path, f"mysql://cdc_capture:secret-pw@127.0.0.1:{port}/",
                          stack_env["CDC_KAFKA_BOOTSTRAP"])
    run = run_check(config)
    assert run.status == 2
    assert run.err.startswith(
        f"error: cannot reach the source at 127.0.0.1:{port} "
        f"(source.dsn mysql://cdc_capture:***@127.0.0.1:{port}/): ")
    assert "Connection refused" in run.err
    assert "\nhint: check that the server runs and listens on that host and port" in run.err
    assert "secret-pw" not in run.err
    assert "Traceback" not in run.err


def test_a_wrong_password(capture_config: Path) -> None:
    run = run_check(capture_config, {"CDC_SOURCE__PASSWORD": "not-the-password-42"})
    assert run.status == 2
    assert "error: the source refused the login of 'cdc_capture'" in run.err
    assert "Access denied for user 'cdc_capture'" in run.err
    assert "hint: check the password, taken from CDC_SOURCE__PASSWORD" in run.err
    assert "not-the-password-42" not in run.err


@pytest.fixture
def weak_user(stack_env: StackEnv) -> Iterator[tuple[str, str, str]]:
    """A login with SELECT on one database only: (dsn, user, that database)."""
    user, password, database = unique_name("cdc_weak"), "weak-pw-1", unique_name("only")
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as admin, admin.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        try:
            cur.execute(f"GRANT SELECT ON `{database}`.* TO '{user}'@'%'")
            dsn = parse_dsn(stack_env["CDC_SOURCE_ADMIN_DSN"])
            yield f"mysql://{user}:{password}@{dsn.host}:{dsn.port}/", user, database
        finally:
            cur.execute(f"DROP USER '{user}'@'%'")


def test_a_capture_user_lacking_grants_gets_the_grant_statements(
        tmp_path: Path, stack_env: StackEnv, weak_user: tuple[str, str, str]) -> None:
    dsn, user, database = weak_user
    config = write_config(tmp_path, dsn, stack_env["CDC_KAFKA_BOOTSTRAP"])
    run = run_check(config)
    assert run.status == 2
    assert "is not ready for capture: 3 problems" in run.err
    assert f"the capture user {user}@% lacks REPLICATION SLAVE" in run.err
    assert f"the capture user {user}@% lacks BINLOG MONITOR" in run.err
    assert f"the capture user {user}@% lacks SELECT ON *.*" in run.err
    for privilege in ("REPLICATION SLAVE", "BINLOG MONITOR", "SELECT"):
        assert f"run: GRANT {privilege} ON *.* TO '{user}'@'%';" in run.err

    # SELECT on the one captured database is enough for it.
    run = run_check(config, {"CDC_CAPTURE__INCLUDE": database})
    assert "2 problems" in run.err
    assert "SELECT" not in run.err.split("hint:")[1]


def test_a_server_without_binlog(tmp_path: Path, stack_env: StackEnv) -> None:
    target = parse_dsn(stack_env["CDC_TARGET_MARIADB_DSN"])
    config = write_config(tmp_path, stack_env["CDC_TARGET_MARIADB_DSN"],
                          stack_env["CDC_KAFKA_BOOTSTRAP"])
    run = run_check(config, as_json=True)
    assert run.status == 2
    error = json.loads(run.out)
    assert error["ok"] is False
    assert error["error"].startswith(f"the source {target.host}:{target.port} (mariadb ")
    assert "  - log_bin is OFF; capture needs ON" in error["error"]
    assert "  - log_bin: enable the binlog in the server's configuration ([mariadbd] log-bin=" \
        in error["hint"]


def test_the_sources_own_server_id(capture_config: Path, stack_env: StackEnv) -> None:
    source_id = stack_env["CDC_SOURCE_SERVER_ID"]
    run = run_check(capture_config, {"CDC_SOURCE__SERVER_ID": source_id})
    assert run.status == 2
    assert f"source.server_id {source_id} is the source's own @@server_id" in run.err
    assert "hint: set source.server_id (or CDC_SOURCE__SERVER_ID) to an id that no server" \
        in run.err


def test_a_configuration_mistake(capture_config: Path) -> None:
    capture_config.write_text(capture_config.read_text().replace("server_id", "serverid"))
    run = run_check(capture_config)
    assert run.status == 2
    assert "source.serverid: unknown key; did you mean 'server_id'?" in run.err
    assert "source.server_id: is required but missing" in run.err


def test_positions_the_shared_source_never_had(stack_env: StackEnv) -> None:
    source_id = int(stack_env["CDC_SOURCE_SERVER_ID"])
    with connect(parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])) as conn, \
            conn.cursor() as cur:
        (current,) = query_one(cur, "SELECT @@global.gtid_binlog_pos")
        check_position_available(conn, str(current))
        for position, reason in [
            (f"7-{source_id}-1", f"7-{source_id}-1: the binlog has never had a transaction "
                                 "in domain 7"),
            ("0-999999-1", "0-999999-1: server 999999 never wrote to domain 0"),
            (f"0-{source_id}-999999999", "ahead of the binlog"),
        ]:
            with pytest.raises(SourceCheckError) as caught:
                check_position_available(conn, position)
            assert caught.value.message.startswith(
                f"the source no longer has the binlog from GTID position {position} on: ")
            assert reason in caught.value.message
            assert "the oldest binlog, mariadb-bin." in caught.value.message
            assert caught.value.hint.startswith("take a new base snapshot")
            assert caught.value.exit_status == 2


@pytest.fixture(scope="session")
def misconfigured_source() -> Iterator[ThrowawayServer]:
    """A MariaDB of its own with the binlog settings capture refuses."""
    with throwaway_mariadb("check-misconfigured", THROWAWAY_SERVER_ID,
                           MISCONFIGURATION) as server:
        yield server


def test_a_misconfigured_source_names_every_wrong_setting_and_its_fix(
        tmp_path: Path, stack_env: StackEnv, misconfigured_source: ThrowawayServer) -> None:
    config = write_config(tmp_path, misconfigured_source.capture_dsn,
                          stack_env["CDC_KAFKA_BOOTSTRAP"])
    run = run_check(config)
    assert run.status == 2
    error, _, hint = run.err.partition("\nhint: ")
    assert "is not ready for capture: 4 problems" in error
    for line in ("binlog_format is MIXED; capture needs ROW",
                 "binlog_row_image is MINIMAL; capture needs FULL",
                 "binlog_row_metadata is MINIMAL; capture needs FULL",
                 "log_bin_compress is ON; capture needs OFF"):
        assert f"\n  - {line}" in error
    for fix in ("binlog_format: set binlog_format=ROW in the server's configuration "
                "([mariadbd] binlog-format=ROW) and restart it",
                "binlog_row_image: set binlog_row_image=FULL",
                "binlog_row_metadata: set binlog_row_metadata=FULL",
                "log_bin_compress: set log_bin_compress=OFF in the server's configuration "
                "([mariadbd] log-bin-compress=OFF) and restart it"):
        assert f"\n  - {fix}" in hint


def test_a_position_older_than_the_oldest_binlog(
        misconfigured_source: ThrowawayServer) -> None:
    database = unique_name("purge_probe")
    with mysql_connect(misconfigured_source.admin_dsn) as admin, admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {database}")
        cur.execute(f"CREATE TABLE {database}.t (id INT PRIMARY KEY)")
        cur.execute(f"INSERT INTO {database}.t VALUES (1)")
        (before_purge,) = query_one(cur, "SELECT @@global.gtid_binlog_pos")
        cur.execute(f"INSERT INTO {database}.t VALUES (2)")
        cur.execute("FLUSH BINARY LOGS")
        (after_flush,) = query_one(cur, "SELECT @@global.gtid_binlog_pos")
        newest = purge_all_but_the_newest_binlog(cur)
        cur.execute(f"INSERT INTO {database}.t VALUES (3)")

    with connect(parse_dsn(misconfigured_source.capture_dsn)) as conn:
        check_position_available(conn, str(after_flush))
        assert earliest_available_position(conn) == str(after_flush)
        with pytest.raises(SourceCheckError) as caught:
            check_position_available(conn, str(before_purge))
    sequence = str(after_flush).rsplit("-", 1)[1]
    assert caught.value.message == (
        f"the source no longer has the binlog from GTID position {before_purge} on: "
        f"{before_purge}: the transactions after it up to sequence {sequence} in domain 0 "
        f"were purged; the oldest binlog, {newest}, starts after {after_flush}")
    assert caught.value.hint.startswith("take a new base snapshot")


def purge_all_but_the_newest_binlog(cur: pymysql.cursors.Cursor) -> str:
    """Purge on the test's own server (never the shared one). MariaDB keeps a file, without a
    warning, until its binlog checkpoint has moved past it, so the purge is repeated."""
    deadline = time.monotonic() + 30
    while True:
        cur.execute("SHOW BINARY LOGS")
        files = [row[0] for row in cur.fetchall()]
        if len(files) == 1:
            return str(files[0])
        assert time.monotonic() < deadline, f"binlogs {files} were not purged within 30 s"
        cur.execute(f"PURGE BINARY LOGS TO '{files[-1]}'")
        time.sleep(0.2)
