"""The command line: options, and operator errors as one line with a hint and exit 2."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from bench.workload.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env or {"CDC_SOURCE_ADMIN_DSN": ""})
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), f"unexpected exception: {result.exception!r}"
    return result.exit_code, result.output


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_help_explains_every_option() -> None:
    code, output = run("--help")
    assert code == 0
    for option in ("--dsn", "--database", "--setup-only", "--reset", "--rate", "--duration",
                   "--transactions", "--seed", "--marks-file", "--mark-every", "--json"):
        assert option in output
    assert "CDC_SOURCE_ADMIN_DSN" in output


def test_a_missing_dsn_is_one_line_with_a_hint() -> None:
    code, output = run("--transactions", "1")
    assert code == 2
    assert output.strip().count("\n") == 0
    assert output.startswith("cdc-workload: error: no source DSN given (hint: pass --dsn")
    assert "Traceback" not in output


def test_a_bad_dsn_exits_2() -> None:
    code, output = run("--dsn", "http://example.com/")
    assert code == 2
    assert "unsupported DSN scheme 'http'" in output
    assert "hint:" in output


def test_a_postgresql_dsn_is_refused() -> None:
    code, output = run("--dsn", "postgresql://u:p@127.0.0.1:5432/db")
    assert code == 2
    assert "needs a MySQL or MariaDB source" in output


def test_an_unreachable_server_exits_2_without_the_password() -> None:
    port = unused_port()
    code, output = run("--dsn", f"mysql://someone:s3cret@127.0.0.1:{port}/")
    assert code == 2
    assert f"connecting to mysql://someone:***@127.0.0.1:{port}/ failed: (2003)" in output
    assert "s3cret" not in output
    assert "hint: check that the server is running" in output
    assert output.strip().count("\n") == 0


def test_the_dsn_can_come_from_the_environment() -> None:
    port = unused_port()
    code, output = run(env={"CDC_SOURCE_ADMIN_DSN": f"mysql://u:p@127.0.0.1:{port}/"})
    assert code == 2
    assert f"127.0.0.1:{port}" in output


def test_a_bad_database_name_exits_2() -> None:
    code, output = run("--dsn", "mysql://u:p@127.0.0.1:1/", "--database", "x; DROP TABLE y")
    assert code == 2
    assert "not a database name the workload accepts" in output


@pytest.mark.parametrize(("args", "message"), [
    (["--duration", "1", "--transactions", "5"], "not both"),
    (["--mark-every", "1"], "--mark-every needs --marks-file"),
    (["--rate", "-1"], "--rate"),
])
def test_contradictory_options_are_usage_errors(args: list[str], message: str) -> None:
    code, output = run("--dsn", "mysql://u:p@127.0.0.1:1/", *args)
    assert code == 2
    assert message in output
