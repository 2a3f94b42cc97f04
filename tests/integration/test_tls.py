"""Every connection over TLS, on the stack of `make up TLS=1`: capture reads the binlog and
takes a snapshot as a source user that may log in only over TLS, writes the changelog
through Kafka's SASL_SSL listener (SCRAM); restore and migrate read it through the SSL
listener into PostgreSQL (`sslmode=verify-full`, a role refused without TLS) and MariaDB (a
server that refuses any connection without TLS). A certificate that does not name the host
connected to is refused, with an error that says which setting to check, and nothing written.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pymysql
import pytest

from cdc.dsn import parse_dsn
from cdc.kafka.client_security import use_security
from cdc.kafka.topics import topic_exists
from tests.bad_inputs import Outcome, assert_refused, run
from tests.capture_helpers import capture_env
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.restore_targets import mysql_state, postgres_state
from tests.stack import StackEnv
from tests.throwaway_mariadb import throwaway_mariadb

pytestmark = pytest.mark.integration

TABLES = ("accounts",)


@dataclass(frozen=True)
class TlsStack:
    ca: str
    source_capture_dsn: str
    source_admin_dsn: str
    target_mariadb_dsn: str
    postgres_dsn: str
    kafka_ssl: str
    kafka_sasl: str
    scram_user: str
    scram_password: str


@dataclass(frozen=True)
class Backup:
    database: str
    sasl_config: Path
    """Capture's: Kafka through SASL_SSL."""
    ssl_config: Path
    """The same changelog through the SSL listener."""
    folder: Path


@pytest.fixture(scope="module")
def tls(stack_env: StackEnv) -> TlsStack:
    if stack_env.values.get("CDC_TLS") != "1":
        pytest.fail("the local stack runs without TLS: start it with 'make up TLS=1' "
                    "('make test' does)")
    return TlsStack(
        stack_env["CDC_TLS_CA"], stack_env["CDC_SOURCE_TLS_CAPTURE_DSN"],
        stack_env["CDC_SOURCE_TLS_ADMIN_DSN"], stack_env["CDC_TARGET_MARIADB_TLS_DSN"],
        stack_env["CDC_POSTGRES_TLS_DSN"], stack_env["CDC_KAFKA_SSL_BOOTSTRAP"],
        stack_env["CDC_KAFKA_SASL_BOOTSTRAP"], stack_env["CDC_KAFKA_SCRAM_USER"],
        stack_env["CDC_KAFKA_SCRAM_PASSWORD"])


def with_host(dsn: str, host: str) -> str:
    """The DSN with its host replaced (credentials, port, path and TLS options kept)."""
    parts = urlsplit(dsn)
    credentials, _, address = parts.netloc.rpartition("@")
    port = address.rpartition(":")[2]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}:{port}"))


def with_database(dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


def kafka_section(tls: TlsStack, protocol: str, bootstrap: str | None = None,
                  user: str | None = None) -> str:
    listener = tls.kafka_sasl if protocol == "SASL_SSL" else tls.kafka_ssl
    lines = [f'bootstrap_servers = "{bootstrap or listener}"', "", "[kafka.security]",
             f'"security.protocol" = "{protocol}"', f'"ssl.ca.location" = "{tls.ca}"']
    if protocol == "SASL_SSL":
        lines += ['"sasl.mechanisms" = "SCRAM-SHA-512"',
                  f'"sasl.username" = "{user or tls.scram_user}"']
    return "\n".join(lines)


def write_config(path: Path, tls: TlsStack, database: str, start: str, protocol: str, *,
                 source_dsn: str | None = None, bootstrap: str | None = None,
                 kafka_user: str | None = None) -> Path:
    source = parse_dsn(source_dsn or tls.source_capture_dsn)
    # The password goes in through the environment, as an operator would give it.
    dsn = with_host((source_dsn or tls.source_capture_dsn).replace(
        f":{source.password}@", "@"), source.host)
    kafka = kafka_section(tls, protocol, bootstrap, kafka_user)
    path.write_text(
        f'[source]\ndsn = "{dsn}"\nserver_id = {50000 + secrets.randbelow(10000)}\n'
        f'name = "{database}"\n\n'
        f'[kafka]\ntopic_prefix = "test.{database}"\ncommit_interval_ms = 100\n{kafka}\n\n'
        f'[capture]\ninclude = ["{database}.*"]\nstart = "{start}"\nheartbeat_interval_s = 1\n'
        'metrics_address = ""\n\n'
        f'[snapshots]\nstore = "{path.parent / "store"}"\nanchor_wait = "60s"\n')
    return path


def command_env(tls: TlsStack) -> dict[str, str]:
    return {**capture_env(), "CDC_SOURCE__PASSWORD": parse_dsn(tls.source_capture_dsn).password,
            "CDC_KAFKA__SECURITY__SASL_PASSWORD": tls.scram_password}


def run_ok(program: str, *args: str, tls: TlsStack, timeout: float = 300) -> Outcome:
    outcome = run(program, *args, env=command_env(tls), timeout=timeout)
    assert outcome.status == 0, f"{program} {args[0]}: exit {outcome.status}\n{outcome.err[-4000:]}"
    for secret in (tls.scram_password, parse_dsn(tls.source_capture_dsn).password):
        assert secret not in outcome.out + outcome.err, f"{program} {args[0]} showed a secret"
    return outcome


def source_sql(tls: TlsStack, *statements: str) -> None:
    with mysql_connect(tls.source_admin_dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        row = cursor.fetchone()
        assert row is not None
        assert row[1], "the test's own source connection is not over TLS"
        for statement in statements:
            cursor.execute(statement)


def source_position(tls: TlsStack) -> str:
    with mysql_connect(tls.source_admin_dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT @@global.gtid_binlog_pos")
        row = cursor.fetchone()
        assert row is not None
        return str(row[0])


def capture_caught_up(backup: Backup, tls: TlsStack) -> None:
    outcome = run_ok("cdc", "capture", "--config", str(backup.sasl_config), "--until-caught-up",
                     "--json", tls=tls)
    assert "Traceback" not in outcome.err


def new_postgres_database(tls: TlsStack) -> str:
    name = unique_name("tls_pg")
    connection = postgres_connect(tls.postgres_dsn)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    finally:
        connection.close()
    return with_database(tls.postgres_dsn, name)


@pytest.fixture(scope="module")
def backup(tls: TlsStack, tmp_path_factory: pytest.TempPathFactory) -> Backup:
    """A database with rows, captured, snapshotted, then changed and captured again."""
    folder = tmp_path_factory.mktemp("tls")
    database = unique_name("tls")
    start = source_position(tls)
    source_sql(tls, f"CREATE DATABASE {database}",
               f"CREATE TABLE {database}.accounts (id INT PRIMARY KEY, "
               "balance DECIMAL(20,4) NOT NULL, note VARCHAR(64), opened DATETIME(6))",
               *(f"INSERT INTO {database}.accounts VALUES ({i}, {i * 1000}.0001, 'n{i}', "
                 f"'2026-01-0{1 + i % 9} 10:00:00.{i:06d}')" for i in range(1, 51)))
    backup = Backup(database, write_config(folder / "sasl.toml", tls, database, f"gtid:{start}",
                                           "SASL_SSL"),
                    write_config(folder / "ssl.toml", tls, database, f"gtid:{start}", "SSL"),
                    folder)
    capture_caught_up(backup, tls)
    run_ok("cdc", "snapshot", "--config", str(backup.sasl_config), "--json", tls=tls)
    source_sql(tls, f"UPDATE {database}.accounts SET balance = balance + 1 WHERE id <= 10",
               f"DELETE FROM {database}.accounts WHERE id BETWEEN 41 AND 45",
               *(f"INSERT INTO {database}.accounts VALUES ({i}, -{i}.5, NULL, NULL)"
                 for i in range(100, 120)))
    capture_caught_up(backup, tls)
    return backup


def source_state(tls: TlsStack, database: str) -> dict[str, object]:
    return dict(mysql_state(tls.source_admin_dsn, database, TABLES))


def test_the_tls_users_cannot_log_in_without_tls(tls: TlsStack) -> None:
    """What makes the tests below proof of TLS: without it these logins are refused."""
    source = parse_dsn(tls.source_capture_dsn)
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(host=source.host, port=source.port, user=source.user,
                        password=source.password, ssl_disabled=True)
    assert refused.value.args[0] == 1045
    postgres = parse_dsn(tls.postgres_dsn)
    with pytest.raises(psycopg2.OperationalError, match="no encryption"):
        psycopg2.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                         password=postgres.password, dbname=postgres.database,
                         sslmode="disable")


def test_restore_into_postgresql_over_tls(backup: Backup, tls: TlsStack) -> None:
    target = new_postgres_database(tls)
    run_ok("replayer", "restore", "--config", str(backup.ssl_config), "--to", "latest",
           "--target", target, "--json", tls=tls)
    restored = postgres_state(target, backup.database, TABLES)
    assert len(restored["accounts"]) == 65
    assert restored == source_state(tls, backup.database)


def test_restore_into_mariadb_over_tls(backup: Backup, tls: TlsStack) -> None:
    tls_dir = Path(tls.ca).parent
    # A server that refuses every connection without TLS: the restore cannot go around it.
    cnf = (f"ssl_ca={tls.ca}\nssl_cert={tls_dir / 'server.pem'}\n"
           f"ssl_key={tls_dir / 'server.key'}\nrequire_secure_transport=ON")
    with throwaway_mariadb("tls-target", 3401, cnf) as server:
        target = f"{server.admin_dsn}?ssl-mode=VERIFY_IDENTITY&ssl-ca={tls.ca}"
        admin = parse_dsn(server.admin_dsn)
        with pytest.raises(pymysql.err.OperationalError):
            pymysql.connect(host=admin.host, port=admin.port, user=admin.user,
                            password=admin.password, ssl_disabled=True)
        run_ok("replayer", "restore", "--config", str(backup.sasl_config), "--to", "latest",
               "--target", target, "--json", tls=tls)
        restored = mysql_state(target, backup.database, TABLES)
    assert len(restored["accounts"]) == 65
    assert restored == source_state(tls, backup.database)


def test_migrate_into_postgresql_over_tls(backup: Backup, tls: TlsStack) -> None:
    target = new_postgres_database(tls)
    log = (backup.folder / "migrate.log").open("ab")
    migrate = subprocess.Popen(
        [sys.executable, "-m", "replayer", "migrate", "--config", str(backup.ssl_config),
         "--target", target, "--mode", "sync"], env=command_env(tls), stdout=log, stderr=log)
    try:
        source_sql(tls, *(f"INSERT INTO {backup.database}.accounts VALUES ({i}, {i}, 'm', NULL)"
                          for i in range(200, 230)),
                   f"UPDATE {backup.database}.accounts SET note = 'moved' WHERE id < 20")
        capture_caught_up(backup, tls)
        deadline = time.monotonic() + 180
        while True:
            assert migrate.poll() is None, (backup.folder / "migrate.log").read_text()[-4000:]
            status = subprocess.run(
                [sys.executable, "-m", "replayer", "status", "--target", target, "--config",
                 str(backup.ssl_config), "--json"], env=command_env(tls), capture_output=True,
                text=True, timeout=120, check=False)
            entries = json.loads(status.stdout)["sources"] if status.returncode == 0 else []
            if entries and entries[0]["lag_transactions"] == 0:
                break
            assert time.monotonic() < deadline, (backup.folder / "migrate.log").read_text()
            time.sleep(0.5)
    finally:
        migrate.send_signal(signal.SIGTERM)
        migrate.wait(timeout=60)
    migrated = postgres_state(target, backup.database, TABLES)
    assert len(migrated["accounts"]) == 95
    assert migrated == source_state(tls, backup.database)


def postgres_tables(dsn: str) -> list[str]:
    connection = postgres_connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT table_schema || '.' || table_name FROM "
                           "information_schema.tables WHERE table_schema NOT IN "
                           "('pg_catalog', 'information_schema')")
            return [str(row[0]) for row in cursor.fetchall()]
    finally:
        connection.close()


def test_a_source_certificate_for_another_host_is_refused(backup: Backup,
                                                          tls: TlsStack) -> None:
    config = write_config(backup.folder / "wrong-source.toml", tls, backup.database,
                          "current", "SASL_SSL",
                          source_dsn=with_host(tls.source_capture_dsn, "localhost"))
    outcome = run("cdc", "check", "--config", str(config), env=command_env(tls))
    assert_refused(outcome, 2, ["TLS to the source at localhost", "certificate verify failed"],
                   ["ssl-ca", "name the host 'localhost'"], [tls.scram_password])


def test_a_postgresql_certificate_for_another_host_is_refused(backup: Backup,
                                                              tls: TlsStack) -> None:
    target = new_postgres_database(tls)
    outcome = run("replayer", "restore", "--config", str(backup.ssl_config), "--to", "latest",
                  "--target", with_host(target, "localhost"), env=command_env(tls))
    assert_refused(outcome, 2, ["TLS to the target", 'does not match host name "localhost"'],
                   ["sslrootcert", "name the host 'localhost'"],
                   [parse_dsn(target).password])
    assert postgres_tables(target) == []


def certificate_for_another_host(tls: TlsStack, folder: Path) -> tuple[Path, Path]:
    """A certificate signed by the stack's own CA, for the name other-host.invalid only."""
    ca_key = Path(tls.ca).with_name("ca.key")
    key, request, cert = folder / "other.key", folder / "other.csr", folder / "other.pem"
    names = folder / "other.ext"
    names.write_text("subjectAltName = DNS:other-host.invalid\n")
    for command in (
        ["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-subj", "/CN=other-host.invalid", "-out", str(request)],
        ["openssl", "x509", "-req", "-in", str(request), "-CA", tls.ca, "-CAkey", str(ca_key),
         "-set_serial", str(secrets.randbits(63)), "-days", "2", "-extfile", str(names),
         "-out", str(cert)],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    return cert, key


def test_a_mariadb_certificate_for_another_host_is_refused(backup: Backup,
                                                           tls: TlsStack) -> None:
    """The server's certificate is signed by the right CA but names another host."""
    cert, key = certificate_for_another_host(tls, backup.folder)
    cnf = f"ssl_ca={tls.ca}\nssl_cert={cert}\nssl_key={key}"
    with throwaway_mariadb("tls-wrong-host", 3402, cnf) as server:
        target = f"{server.admin_dsn}?ssl-mode=VERIFY_IDENTITY&ssl-ca={tls.ca}"
        outcome = run("replayer", "restore", "--config", str(backup.ssl_config), "--to",
                      "latest", "--target", target, env=command_env(tls))
        assert_refused(outcome, 2, ["TLS to the target", "127.0.0.1"],
                       ["ssl-ca", "name the host '127.0.0.1'"], [parse_dsn(target).password])
        with mysql_connect(server.admin_dsn) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW DATABASES LIKE %s", (backup.database,))
            assert cursor.fetchall() == ()


def test_a_kafka_certificate_for_another_host_is_refused(backup: Backup, tls: TlsStack) -> None:
    port = tls.kafka_ssl.rpartition(":")[2]
    config = write_config(backup.folder / "wrong-kafka.toml", tls, backup.database, "current",
                          "SSL", bootstrap=f"localhost:{port}")
    target = new_postgres_database(tls)
    outcome = run("replayer", "restore", "--config", str(config), "--to", "latest",
                  "--target", target, env=command_env(tls))
    assert_refused(outcome, 2, ["Kafka refused the connection", "certificate verify failed"],
                   ["ssl.ca.location", "name the host"], [tls.scram_password])
    assert postgres_tables(target) == []


def test_a_wrong_scram_password_is_named(backup: Backup, tls: TlsStack) -> None:
    target = new_postgres_database(tls)
    env = {**command_env(tls), "CDC_KAFKA__SECURITY__SASL_PASSWORD": "not-the-password"}
    outcome = run("replayer", "restore", "--config", str(backup.sasl_config), "--to", "latest",
                  "--target", target, env=env)
    assert_refused(outcome, 2, ["Kafka refused the connection", "SASL authentication"],
                   ["CDC_KAFKA__SECURITY__SASL_PASSWORD"], ["not-the-password"])
    assert postgres_tables(target) == []


def test_capture_writes_nothing_when_a_certificate_is_refused(backup: Backup,
                                                              tls: TlsStack) -> None:
    """The changelog's tail is where it was: a capture stopped by TLS wrote no record."""
    config = write_config(backup.folder / "wrong-capture.toml", tls, backup.database,
                          "current", "SASL_SSL",
                          source_dsn=with_host(tls.source_capture_dsn, "localhost"))
    config.write_text(config.read_text().replace(f'topic_prefix = "test.{backup.database}"',
                                                 f'topic_prefix = "test.{backup.database}.x"'))
    outcome = run("cdc", "capture", "--config", str(config), "--until-caught-up",
                  env=command_env(tls))
    assert_refused(outcome, 2, ["TLS to the source", "certificate verify failed"],
                   ["name the host 'localhost'"])
    use_security({"security.protocol": "SSL", "ssl.ca.location": tls.ca})
    try:
        assert not topic_exists(tls.kafka_ssl, f"test.{backup.database}.x.changelog")
    finally:
        use_security({})


@pytest.fixture(scope="module")
def limited_user(stack_env: StackEnv) -> tuple[str, str]:
    """A SCRAM user of the brokers' that no ACL grants anything (the authorizer is on)."""
    return stack_env["CDC_KAFKA_LIMITED_USER"], stack_env["CDC_KAFKA_LIMITED_PASSWORD"]


def test_capture_as_a_kafka_user_without_acls_is_refused_before_writing(
        backup: Backup, tls: TlsStack, stack_env: StackEnv,
        limited_user: tuple[str, str]) -> None:
    user, password = limited_user
    config = write_config(backup.folder / "no-acl-capture.toml", tls, backup.database,
                          "current", "SASL_SSL", kafka_user=user)
    config.write_text(config.read_text().replace(f'topic_prefix = "test.{backup.database}"',
                                                 f'topic_prefix = "test.{backup.database}.acl"'))
    env = {**command_env(tls), "CDC_KAFKA__SECURITY__SASL_PASSWORD": password}
    outcome = run("cdc", "capture", "--config", str(config), "--until-caught-up", env=env)
    assert_refused(outcome, 2, ["Kafka refused access to the topic"],
                   ["grant", "ACLs", "Write", "Create"], [password, tls.scram_password])
    assert not topic_exists(stack_env["CDC_KAFKA_BOOTSTRAP"],
                            f"test.{backup.database}.acl.changelog")


def test_restore_as_a_kafka_user_without_acls_is_refused(
        backup: Backup, tls: TlsStack, limited_user: tuple[str, str]) -> None:
    """The client reports a topic it may not describe as an unknown partition: the error
    must still name the ACLs, not a missing topic."""
    user, password = limited_user
    config = write_config(backup.folder / "no-acl-restore.toml", tls, backup.database,
                          "current", "SASL_SSL", kafka_user=user)
    target = new_postgres_database(tls)
    env = {**command_env(tls), "CDC_KAFKA__SECURITY__SASL_PASSWORD": password}
    outcome = run("replayer", "restore", "--config", str(config), "--to", "latest",
                  "--target", target, env=env)
    assert_refused(outcome, 2, ["Kafka refused access to the topic", "authorization"],
                   ["grant", "ACLs", "Read"], [password])
    assert postgres_tables(target) == []
