"""docker-compose.yml configures its MySQL the way capture requires."""

from __future__ import annotations

from typing import Any

import yaml

from cdc.source_requirements import Flavor, unmet_settings
from tests.stack import REPO_ROOT


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return loaded


def server_options(command: list[str]) -> dict[str, object]:
    """'--binlog-format=ROW' becomes {'binlog_format': 'ROW'}; '--log-bin=x' turns log_bin ON."""
    options: dict[str, object] = {}
    for word in command:
        name, _, value = word.removeprefix("--").partition("=")
        options[name.replace("-", "_")] = value
    if "log_bin" in options:
        options["log_bin"] = "ON"
    return options


def test_compose_mysql_has_every_setting_capture_requires() -> None:
    mysql = compose()["services"]["mysql"]
    assert mysql["image"].startswith("mysql:8.4")
    options = server_options(mysql["command"])
    assert unmet_settings(Flavor.MYSQL, options) == []
    assert int(str(options["server_id"])) > 0


def test_a_missing_setting_would_be_noticed() -> None:
    mysql = compose()["services"]["mysql"]
    options = server_options([w for w in mysql["command"] if "row-metadata" not in w])
    unmet = unmet_settings(Flavor.MYSQL, options)
    assert [setting.variable for setting, _ in unmet] == ["binlog_row_metadata"]


def test_compose_kafka_is_kraft_and_allows_transactions_on_one_broker() -> None:
    kafka = compose()["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == 1
    assert kafka["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == 1


def test_compose_builds_the_service_from_the_dockerfile() -> None:
    assert compose()["services"]["cdc"]["build"] == "."
    assert (REPO_ROOT / "Dockerfile").read_text().count("pip install") == 1
