"""Every kind of configuration mistake stops the start with exit status 2, naming the key, the
problem and a fix; a password never appears in the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdc.config import load_config
from cdc.errors import ConfigError

GOOD = """
[source]
dsn = "mysql://cdc_capture@127.0.0.1:13306/"
server_id = 4242

[kafka]
bootstrap_servers = "127.0.0.1:19092"
"""


def config_error(tmp_path: Path, text: str, **environ: str) -> ConfigError:
    path = tmp_path / "cdc.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ)
    assert caught.value.exit_status == 2
    return caught.value


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.toml", {})
    assert caught.value.message == f"config file {tmp_path / 'absent.toml'} does not exist"
    assert "--config" in caught.value.hint


def test_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    with pytest.raises(ConfigError, match=r"cannot read config file .*: Not a directory"):
        load_config(tmp_path / "plain" / "cdc.toml", {})


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, {})


def test_invalid_toml_gives_line_and_column(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD.replace('server_id = 4242', 'server_id = 42 42'))
    assert "is not valid TOML" in error.message
    assert "line 4, column" in error.message
    assert "quotes" in error.hint


def test_an_unknown_key_suggests_the_closest_known_one(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD.replace("server_id", "sever_id"))
    assert "source.sever_id: unknown key; did you mean 'server_id'?" in error.message
    assert "dsn, password, password_file, server_id, name, flavor" in error.hint


def test_an_unknown_section_and_a_key_outside_its_section(tmp_path: Path) -> None:
    error = config_error(tmp_path, 'dsn = "x"\n' + GOOD + "[captur]\n")
    assert "captur: unknown section; did you mean 'capture'?" in error.message
    assert "dsn: unknown section; dsn is a key of [source]" in error.message
    assert "move dsn under [source]" in error.hint


def test_a_wrong_type_names_the_expected_one_and_what_was_found(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD.replace("4242", '"4242"'))
    assert error.message.endswith("source.server_id: must be an integer (got '4242')")
    assert "replica server id" in error.hint


def test_a_missing_required_key_names_the_variable_that_can_set_it(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD.replace("server_id = 4242\n", ""))
    assert error.message.endswith("source.server_id: is required but missing")
    assert "CDC_SOURCE__SERVER_ID" in error.hint


def test_a_missing_section(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD.split("[kafka]", maxsplit=1)[0])
    assert error.message.endswith("[kafka]: the section is missing")
    assert "examples/cdc.toml" in error.hint


@pytest.mark.parametrize(("change", "expected"), [
    (("4242", "0"), "source.server_id: must be at least 1 (got 0)"),
    (("4242", "4294967296"), "source.server_id: must be at most 4294967295 (got 4294967296)"),
    (("[kafka]", "[kafka]\nreplication_factor = 0"),
     "kafka.replication_factor: must be at least 1 (got 0)"),
    (("[kafka]", "[kafka]\nmax_record_bytes = 2000000000"),
     "kafka.max_record_bytes: must be at most 1000000000"),
    (("[kafka]", "[kafka]\nmin_insync_replicas = 2"),
     "kafka.min_insync_replicas: is 2, more than replication_factor 1"),
    (("[kafka]", "[kafka]\ncommit_interval_ms = 5000\ntransaction_timeout_ms = 5000"),
     "kafka.commit_interval_ms: is 5000, not shorter than transaction_timeout_ms 5000"),
])
def test_values_out_of_range(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    error = config_error(tmp_path, GOOD.replace(*change))
    assert expected in error.message
    assert error.hint


@pytest.mark.parametrize(("change", "expected"), [
    (("[source]", '[source]\nflavor = "postgres"'),
     "source.flavor: must be one of 'auto', 'mariadb' or 'mysql' (got 'postgres')"),
    (("[source]", '[source]\nname = "eu ledger"'), "source.name: 'eu ledger' may hold only"),
    (('"127.0.0.1:19092"', '"broker"'), "kafka.bootstrap_servers: 'broker' is not host:port"),
    (("[kafka]", '[kafka]\ntopic_prefix = "cdc/eu"'), "kafka.topic_prefix: 'cdc/eu' may hold"),
    (("[kafka.producer]", '[kafka.producer]\n"transactional.id" = "mine"'),
     "kafka.producer: 'transactional.id' cannot be set here"),
    (("[kafka.producer]", '[kafka.producer]\n"linger.ms" = 5'),
     "kafka.producer.linger.ms: must be a string (in quotes)"),
    (("[capture]", '[capture]\ninclude = "payments"'), "capture.include: must be a list"),
    (("[capture]", "[capture]\ninclude = []"), "capture.include: must not be empty"),
    (("[capture]", '[capture]\ninclude = ["a.b.c"]'),
     "capture.include: 'a.b.c' is not a table pattern"),
    (("[capture]", '[capture]\nexclude = ["mysql"]'),
     "capture.exclude: 'mysql' names a system schema"),
    (("[capture]", '[capture]\nstart = "yesterday"'),
     "capture.start: 'yesterday' is not a start position"),
    (("[capture]", '[capture]\nstart = "gtid:0-1001"'),
     "capture.start: 'gtid:0-1001': '0-1001' is not a GTID"),
    (("[capture]", "[capture]\nheartbeat_interval_s = 0"),
     "capture.heartbeat_interval_s: must be at least 1 (got 0)"),
    (("[capture]", '[capture]\nmetrics_address = "9108"'),
     "capture.metrics_address: '9108' is not host:port"),
])
def test_bad_values_name_key_and_problem(tmp_path: Path, change: tuple[str, str],
                                         expected: str) -> None:
    every_section = GOOD + "\n[kafka.producer]\n\n[capture]\n"
    error = config_error(tmp_path, every_section.replace(*change))
    assert expected in error.message
    assert error.hint


def test_every_problem_is_reported_at_once_each_with_its_hint(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD.replace("4242", "0").replace(
        '"127.0.0.1:19092"', '"broker"') + '[capture]\nstart = "x"\n')
    assert error.message.splitlines()[0].endswith("cdc.toml: 3 problems")
    for key in ("source.server_id", "kafka.bootstrap_servers", "capture.start"):
        assert f"  {key}: " in error.message
        assert f"  {key}: " in error.hint


def test_a_value_from_the_environment_names_its_variable(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD, CDC_SOURCE__SERVER_ID="twelve")
    assert ("source.server_id (from CDC_SOURCE__SERVER_ID): must be an integer (got 'twelve')"
            in error.message)
    error = config_error(tmp_path, GOOD, CDC_SORCE__DSN="mysql://u@h/")
    assert "sorce (from CDC_SORCE__DSN): unknown section; did you mean 'source'?" in error.message


@pytest.mark.parametrize(("dsn", "expected"), [
    ("oracle://cdc:hunter2@db/", "unsupported DSN scheme 'oracle'"),
    ("postgresql://cdc:hunter2@db/", "must be a mysql:// or mariadb:// DSN, not postgresql://"),
    ("mysql://cdc:hunter2@/", "the DSN names no host"),
    # Unescaped '@' and '/' in a password: the parser quotes a piece of it as the port.
    ("mysql://cdc:p@ss:hunter2/x@db:3306/", "the DSN has a bad port"),
    ("mysql://cdc:hunter2/x@db:3306/", "the DSN names no user"),
])
def test_a_bad_dsn_is_named_without_echoing_its_password(tmp_path: Path, dsn: str,
                                                         expected: str) -> None:
    error = config_error(tmp_path, GOOD, CDC_SOURCE__DSN=dsn)
    assert f"source.dsn (from CDC_SOURCE__DSN): {expected}" in error.message
    assert "hunter2" not in str(error)
    assert "percent-encode" in error.hint


def test_a_wrongly_typed_password_is_not_echoed(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD.replace("server_id", "password = 123456789\nserver_id"))
    assert error.message.endswith("source.password: must be a string (in quotes)")
    assert "123456789" not in str(error)


def test_password_file_problems(tmp_path: Path) -> None:
    with_file = GOOD.replace("server_id", 'password_file = "secret/pw"\nserver_id')
    error = config_error(tmp_path, with_file)
    assert error.message == f"source.password_file: {tmp_path / 'secret/pw'} does not exist"
    assert "CDC_SOURCE__PASSWORD" in error.hint
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "pw").write_text("\n")
    error = config_error(tmp_path, with_file)
    assert error.message == f"source.password_file: {tmp_path / 'secret/pw'} is empty"


def test_an_empty_password_from_the_environment_is_refused(tmp_path: Path) -> None:
    error = config_error(tmp_path, GOOD, CDC_SOURCE__PASSWORD="")
    assert error.message.endswith("source.password (from CDC_SOURCE__PASSWORD): is empty")
    assert "unset CDC_SOURCE__PASSWORD" in error.hint
