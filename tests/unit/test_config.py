"""Loading a valid configuration: defaults, derived names, environment overrides, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdc.config import CaptureConfig, load_config
from cdc.errors import ConfigError
from cdc.kafka.client_security import secured, use_security
from cdc.kafka.reader import consumer_settings
from tests.stack import REPO_ROOT

MINIMAL = """
[source]
dsn = "mysql://cdc_capture@db.example:3307/"
server_id = 4242

[kafka]
bootstrap_servers = "k1:9092,k2:9092"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cdc.toml"
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str = MINIMAL, **environ: str) -> CaptureConfig:
    return load_config(write(tmp_path, text), environ)


def test_defaults_and_derived_names(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert (config.source.name, config.source.flavor) == ("db.example-3307", "auto")
    assert config.kafka.topic_prefix == "cdc.db.example-3307"
    assert config.changelog_topic == "cdc.db.example-3307.changelog"
    assert config.schemas_topic == "cdc.db.example-3307.schemas"
    assert config.transactional_id == "cdc-capture-db.example-3307"
    kafka = config.kafka
    assert (kafka.replication_factor, kafka.min_insync_replicas, kafka.commit_interval_ms,
            kafka.transaction_timeout_ms, kafka.max_record_bytes, kafka.producer) == (
        1, 1, 200, 900_000, 67_108_864, {})
    capture = config.capture
    assert (capture.include, capture.exclude, capture.start, capture.heartbeat_interval_s,
            capture.metrics_address) == (["*"], [], "current", 5, "127.0.0.1:9108")
    assert capture.metrics_endpoint == ("127.0.0.1", 9108)
    assert capture.start_gtid is None


def test_an_explicit_name_sets_topics_and_transactional_id(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL.replace("server_id = 4242",
                                            'server_id = 4242\nname = "ledger-eu"'))
    assert config.changelog_topic == "cdc.ledger-eu.changelog"
    assert config.transactional_id == "cdc-capture-ledger-eu"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        CDC_SOURCE__DSN="mariadb://other@10.0.0.5:3306/",
        CDC_SOURCE__SERVER_ID="77",
        CDC_KAFKA__BOOTSTRAP_SERVERS="broker:19092",
        CDC_KAFKA__PRODUCER__LINGER_MS="20",
        CDC_KAFKA__SECURITY__SECURITY_PROTOCOL="SASL_SSL",
        CDC_KAFKA__SECURITY__SASL_PASSWORD="from-the-environment",
        CDC_CAPTURE__INCLUDE="payments, ledger.entries",
        CDC_CAPTURE__METRICS_ADDRESS="",
        CDC_CAPTURE__START="gtid:0-1001-42",
        CDC_SOURCE_PORT="13306",  # a stack variable, no double underscore: ignored
    )
    assert (config.source.dsn.host, config.source.server_id) == ("10.0.0.5", 77)
    assert config.kafka.bootstrap_servers == "broker:19092"
    assert config.kafka.producer == {"linger.ms": "20"}
    assert config.kafka.security == {"security.protocol": "SASL_SSL",
                                     "sasl.password": "from-the-environment"}
    assert config.capture.include == ["payments", "ledger.entries"]
    assert config.capture.metrics_endpoint is None
    assert config.capture.start_gtid == "0-1001-42"


def test_a_mysql_gtid_set_is_a_valid_start(tmp_path: Path) -> None:
    start = "gtid:3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7"
    config = load(tmp_path, MINIMAL + f'[capture]\nstart = "{start}"\n')
    assert config.capture.start == start


def test_password_precedence_environment_then_file_then_dsn(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-file\n")
    with_dsn_password = MINIMAL.replace("cdc_capture@", "cdc_capture:from-dsn@")
    assert load(tmp_path, with_dsn_password).source_dsn.password == "from-dsn"
    with_file = with_dsn_password.replace("server_id", 'password_file = "pw"\nserver_id')
    assert load(tmp_path, with_file).source_dsn.password == "from-file"
    overridden = load(tmp_path, with_file, CDC_SOURCE__PASSWORD="from-env")
    assert overridden.source_dsn.password == "from-env"
    assert overridden.source_dsn.user == "cdc_capture"


def test_secrets_never_show_in_repr_str_or_dumps(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL.replace("cdc_capture@", "cdc_capture:dsn-secret@"),
                  CDC_SOURCE__PASSWORD="env-secret",
                  CDC_KAFKA__SECURITY__SASL_PASSWORD="kafka-secret")
    shown = " ".join([repr(config), str(config), config.model_dump_json(),
                      str(config.model_dump()), repr(config.source_dsn), str(config.source_dsn)])
    for secret in ("dsn-secret", "env-secret", "kafka-secret"):
        assert secret not in shown
    assert config.source_dsn.password == "env-secret"
    assert config.kafka.security["sasl.password"] == "kafka-secret"


@pytest.mark.parametrize(("table", "problem", "fix"), [
    ('[kafka.producer]\n"security.protocol" = "SSL"\n', "'security.protocol' cannot be set",
     "[kafka.security], which every Kafka client uses"),
    ('[kafka.producer]\n"ssl.ca.location" = "ca.pem"\n', "'ssl.ca.location' cannot be set",
     "[kafka.security]"),
    ('[kafka.security]\n"linger.ms" = "5"\n', "'linger.ms' is not a TLS or SASL setting",
     "[kafka.producer]"),
    ('[kafka.security]\n"security.protocol" = "TLS"\n', "security.protocol 'TLS'",
     "sasl_ssl"),
])
def test_tls_and_sasl_settings_belong_to_every_client(tmp_path: Path, table: str,
                                                      problem: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, MINIMAL + table)
    assert problem in caught.value.message
    assert fix in caught.value.hint


def test_kafka_security_reaches_every_client_with_paths_from_the_config(
        tmp_path: Path) -> None:
    try:
        load(tmp_path, MINIMAL + '[kafka.security]\n"security.protocol" = "SSL"\n'
                                 '"ssl.ca.location" = "tls/ca.pem"\n')
        expected = {"security.protocol": "SSL",
                    "ssl.ca.location": str((tmp_path / "tls" / "ca.pem").resolve())}
        assert expected.items() <= consumer_settings("b:1").items()
        assert expected.items() <= secured({"bootstrap.servers": "b:1"}).items()
        load(tmp_path, MINIMAL)
        assert "security.protocol" not in consumer_settings("b:1")
    finally:
        use_security({})


def test_configuration_is_frozen(tmp_path: Path) -> None:
    config = load(tmp_path)
    with pytest.raises(ValueError, match="frozen"):
        config.source.server_id = 5


def test_the_example_for_the_local_stack_loads() -> None:
    config = load_config(REPO_ROOT / "examples" / "cdc.toml", {})
    assert (config.source.dsn.host, config.source.dsn.port) == ("127.0.0.1", 13306)
    assert config.source.server_id != 1001  # the local source's own id
    assert config.changelog_topic == "cdc.local-source.changelog"
