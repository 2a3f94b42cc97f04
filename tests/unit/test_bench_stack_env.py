"""The stack's addresses: the environment first, then .stack/env."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.harness.stack_env import StackSettings, parse_env_file
from cdc.errors import ConfigError

ENV_FILE = """# Written by 'make up'
export CDC_STACK_DIR='/srv/stack'
export CDC_KAFKA_BOOTSTRAP='127.0.0.1:19092'
export CDC_SOURCE_ADMIN_DSN='mysql://cdc_admin:a'"'"'b@127.0.0.1:13306/'
"""


def test_the_stack_scripts_format_is_read() -> None:
    values = parse_env_file(ENV_FILE)
    assert values["CDC_STACK_DIR"] == "/srv/stack"
    assert values["CDC_SOURCE_ADMIN_DSN"] == "mysql://cdc_admin:a'b@127.0.0.1:13306/"
    assert len(values) == 3


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "env").write_text("export CDC_KAFKA_BOOTSTRAP='127.0.0.1:19092'\n"
                                  "export CDC_SOURCE_PORT='13306'\n")
    settings = StackSettings({"CDC_STACK_DIR": str(tmp_path),
                              "CDC_KAFKA_BOOTSTRAP": "10.0.0.1:9092"})
    assert settings["CDC_KAFKA_BOOTSTRAP"] == "10.0.0.1:9092"
    assert settings["CDC_SOURCE_PORT"] == "13306"
    assert settings.stack_dir == tmp_path


def test_a_missing_variable_says_how_to_get_it(tmp_path: Path) -> None:
    settings = StackSettings({"CDC_STACK_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="make up"):
        settings["CDC_SOURCE_ADMIN_DSN"]
