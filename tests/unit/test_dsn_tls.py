"""TLS in a DSN: every option checked when the DSN is parsed, and what each library gets."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from cdc.dsn import parse_dsn
from cdc.dsn_tls import MysqlSslMode
from cdc.errors import ConfigError
from cdc.tls_settings import is_tls_failure, libpq_options, mysqlclient_tls, pymysql_tls


@pytest.fixture
def ca_file(tmp_path: Path) -> str:
    # Any PEM CA will do for building a context; the system's first CA is one.
    paths = ssl.get_default_verify_paths()
    system = Path(paths.cafile or "/etc/ssl/certs/ca-certificates.crt")
    path = tmp_path / "ca.pem"
    path.write_bytes(system.read_bytes())
    return str(path)


def test_no_options_means_no_tls_in_both_libraries() -> None:
    dsn = parse_dsn("mysql://u:p@127.0.0.1:3306/")
    assert dsn.mysql_tls.mode is MysqlSslMode.DISABLED
    # Without this PyMySQL would encrypt unchecked and mysqlclient not at all.
    assert pymysql_tls(dsn) == {"ssl_disabled": True}
    assert mysqlclient_tls(dsn) == {"ssl_mode": "DISABLED"}


def test_verify_identity_checks_the_certificate_and_the_host(ca_file: str) -> None:
    dsn = parse_dsn(f"mysql://u:p@127.0.0.1:3306/?ssl-mode=verify_identity&ssl-ca={ca_file}")
    context = pymysql_tls(dsn)["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert mysqlclient_tls(dsn) == {"ssl_mode": "VERIFY_IDENTITY", "ssl": {"ca": ca_file}}


def test_a_ca_alone_means_verify_identity(ca_file: str) -> None:
    dsn = parse_dsn(f"mysql://u:p@h/?ssl-ca={ca_file}")
    assert dsn.mysql_tls.mode is MysqlSslMode.VERIFY_IDENTITY


def test_verify_ca_checks_the_certificate_not_the_name(ca_file: str) -> None:
    context = pymysql_tls(parse_dsn(f"mysql://u@h/?ssl-mode=VERIFY_CA&ssl-ca={ca_file}"))["ssl"]
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert not context.check_hostname


def test_required_encrypts_without_checking() -> None:
    context = pymysql_tls(parse_dsn("mysql://u@h/?ssl-mode=REQUIRED"))["ssl"]
    assert context.verify_mode is ssl.CERT_NONE
    assert not context.check_hostname


@pytest.mark.parametrize(("text", "problem", "fix"), [
    ("mysql://u@h/?ssl=1", "option this tool does not know: 'ssl'", "ssl-mode, ssl-ca"),
    ("mysql://u@h/?ssl-mode=ALWAYS", "ssl-mode 'ALWAYS'", "VERIFY_IDENTITY"),
    ("mysql://u@h/?ssl-mode=DISABLED&ssl-ca=/ca.pem", "ssl-mode=DISABLED", "drop"),
    ("mysql://u@h/?ssl-cert=/c.pem", "without the other", "ssl-key"),
    ("mysql://u@h/?ssl-mode=REQUIRED&ssl-mode=DISABLED", "twice", "once"),
    ("postgresql://u@h/db?sslmode=verify_full", "sslmode 'verify_full'", "verify-full"),
    ("postgresql://u@h/db?ssl-mode=REQUIRED", "'ssl-mode'", "sslmode, sslrootcert"),
])
def test_bad_tls_options_are_config_errors(text: str, problem: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_dsn(text)
    assert problem in caught.value.message
    assert fix in caught.value.hint


def test_a_missing_ca_file_is_named() -> None:
    dsn = parse_dsn("mysql://u@h/?ssl-mode=VERIFY_IDENTITY&ssl-ca=/nowhere/ca.pem")
    for settings in (pymysql_tls, mysqlclient_tls):
        with pytest.raises(ConfigError) as caught:
            settings(dsn)
        assert "/nowhere/ca.pem named by the DSN's ssl-ca does not exist" in caught.value.message


def test_postgres_options_go_to_libpq_unchanged() -> None:
    dsn = parse_dsn("postgresql://u:p@127.0.0.1/db?sslmode=verify-full&sslrootcert=/ca.pem")
    assert libpq_options(dsn) == {"sslmode": "verify-full", "sslrootcert": "/ca.pem"}
    assert dsn.with_database("other").postgres_options == libpq_options(dsn)


@pytest.mark.parametrize(("reason", "tls"), [
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch", True),
    ('server certificate for "127.0.0.1" does not match host name "localhost"', True),
    ("SSL is required but the server doesn't support it", True),
    ("TLS/SSL error: Validation of SSL server certificate failed", True),
    ("Access denied for user 'cdc'@'127.0.0.1' (using password: YES)", False),
    ("Connection refused", False),
])
def test_tls_failures_are_told_apart(reason: str, tls: bool) -> None:
    assert is_tls_failure(reason) is tls
