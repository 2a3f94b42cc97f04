from __future__ import annotations

import pytest

from cdc.dsn import Engine, parse_dsn
from cdc.errors import ConfigError


def test_mysql_dsn_with_every_part() -> None:
    dsn = parse_dsn("mysql://cdc:p%40ss@127.0.0.1:13306/payments?ssl-mode=REQUIRED")
    assert (dsn.engine, dsn.host, dsn.port, dsn.user, dsn.password, dsn.database) == (
        Engine.MYSQL, "127.0.0.1", 13306, "cdc", "p@ss", "payments")
    assert dsn.options == (("ssl-mode", "REQUIRED"),)


def test_defaults_for_port_and_database() -> None:
    assert parse_dsn("postgresql://u@h").port == 5432
    assert parse_dsn("mariadb://u@h/").port == 3306
    assert parse_dsn("mariadb://u@h/").database is None


def test_the_password_never_shows() -> None:
    dsn = parse_dsn("mysql://cdc:hunter2@h:1/db")
    assert "hunter2" not in repr(dsn)
    assert "hunter2" not in str(dsn)
    assert str(dsn) == "mysql://cdc:***@h:1/db"


@pytest.mark.parametrize(("text", "problem"), [
    ("oracle://u@h/db", "unsupported DSN scheme 'oracle'"),
    ("mysql:///db", "names no host"),
    ("mysql://h:3306/db", "names no user"),
    ("mysql://u@h:notaport/db", "bad port"),
])
def test_bad_dsns_name_the_problem_and_show_the_form(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_dsn(text)
    assert problem in caught.value.message
    assert "mysql://user:password@" in caught.value.hint
    assert caught.value.exit_status == 2
