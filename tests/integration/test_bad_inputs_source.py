"""A source or a changelog capture cannot work with: binlog settings off (on a server of the
module's own), a start position purged from the binlog, changelog topics with settings that
would lose changes. Each stops capture with its cause and fix, before it writes a record."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from cdc.kafka.reader import watermarks
from cdc.kafka.topics import topic_exists
from tests.bad_inputs import assert_refused, run, stack_secrets
from tests.capture_helpers import CaptureSetup, write_capture_config
from tests.db import mysql_connect, query_one, unique_name
from tests.integration.test_startup_checks import purge_all_but_the_newest_binlog
from tests.stack import StackEnv
from tests.throwaway_mariadb import ThrowawayServer, throwaway_mariadb

pytestmark = pytest.mark.integration

WRONG_SETTINGS = {
    "binlog_format": ("MIXED", "ROW"),
    "binlog_row_image": ("MINIMAL", "FULL"),
    "binlog_row_metadata": ("MINIMAL", "FULL"),
    "log_bin_compress": ("ON", "OFF"),
}


@pytest.fixture(scope="module")
def misconfigured() -> Iterator[ThrowawayServer]:
    """One server with every binlog setting capture refuses; each case looks for its own."""
    cnf = "\n".join(f"{name}={wrong}" for name, (wrong, _) in WRONG_SETTINGS.items())
    with throwaway_mariadb("bad-binlog", 3301, cnf) as server:
        yield server


def _config(directory: Path, stack_env: StackEnv, dsn: str, start: str = "current") -> Path:
    """A capture config for ``dsn`` (the password stays in the DSN, as some operators do)."""
    setup = write_capture_config(directory, stack_env, unique_name("bad_source"), start)
    setup.config_path.write_text(setup.config_path.read_text().replace(
        f'dsn = "{stack_env["CDC_SOURCE_CAPTURE_DSN"]}"', f'dsn = "{dsn}"'))
    return setup.config_path


def _topics_of(config: Path) -> tuple[str, str]:
    prefix = next(line.split('"')[1] for line in config.read_text().splitlines()
                  if line.startswith("topic_prefix"))
    return f"{prefix}.changelog", f"{prefix}.schemas"


@pytest.mark.parametrize("setting", sorted(WRONG_SETTINGS))
@pytest.mark.parametrize("command", [("check",), ("capture", "--until-caught-up")])
def test_a_binlog_setting_capture_cannot_use(
        tmp_path: Path, stack_env: StackEnv, misconfigured: ThrowawayServer, setting: str,
        command: tuple[str, ...]) -> None:
    wrong, right = WRONG_SETTINGS[setting]
    config = _config(tmp_path, stack_env, misconfigured.capture_dsn)
    outcome = run("cdc", *command, "--config", str(config))
    assert_refused(outcome, 2, (f"{setting} is {wrong}; capture needs {right}",),
                   (f"{setting}: set {setting}={right}", "restart"),
                   (*stack_secrets(stack_env), misconfigured.capture_dsn.split(":")[2]
                    .split("@")[0]))
    assert not any(topic_exists(stack_env["CDC_KAFKA_BOOTSTRAP"], t) for t in _topics_of(config))


def test_a_start_position_purged_from_the_binlog(
        tmp_path: Path, stack_env: StackEnv, misconfigured: ThrowawayServer) -> None:
    """Runs after the settings cases (it puts the server right to reach the position
    check)."""
    database = unique_name("purged")
    with mysql_connect(misconfigured.admin_dsn) as admin, admin.cursor() as cur:
        for name, (_, right) in WRONG_SETTINGS.items():
            cur.execute(f"SET GLOBAL {name} = {right}")
        cur.execute(f"CREATE DATABASE {database}")
        cur.execute(f"CREATE TABLE {database}.t (id INT PRIMARY KEY)")
        cur.execute(f"INSERT INTO {database}.t VALUES (1)")
        (before,) = query_one(cur, "SELECT @@global.gtid_binlog_pos")
        cur.execute(f"INSERT INTO {database}.t VALUES (2)")
        cur.execute("FLUSH BINARY LOGS")
        purge_all_but_the_newest_binlog(cur)
    # Settings changed at run time reach new sessions only; capture's own is one.
    config = _config(tmp_path, stack_env, misconfigured.capture_dsn, f"gtid:{before}")
    outcome = run("cdc", "capture", "--config", str(config), "--until-caught-up")
    assert_refused(outcome, 2, (f"no longer has the binlog from GTID position {before}",
                                "were purged"), ("take a new base snapshot",),
                   stack_secrets(stack_env))
    changelog, _ = _topics_of(config)
    if topic_exists(stack_env["CDC_KAFKA_BOOTSTRAP"], changelog):
        # Topics may be made before the position is refused; never a record in them.
        low, high = watermarks(stack_env["CDC_KAFKA_BOOTSTRAP"], changelog)
        assert high == low, "capture wrote to the changelog from a purged position"


@pytest.fixture(scope="module")
def captured(stack_env: StackEnv, tmp_path_factory: pytest.TempPathFactory) -> CaptureSetup:
    """A capture that made its topics, for the cases that break them."""
    setup = write_capture_config(tmp_path_factory.mktemp("bad-topics"), stack_env,
                                 unique_name("bad_topics"), "current")
    first = run("cdc", "capture", "--config", str(setup.config_path), "--until-caught-up")
    assert first.status == 0, first.err
    return setup


def _set_topic(bootstrap: str, topic: str, name: str, value: str) -> None:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
        ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)])
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(timeout=30)
    time.sleep(0.5)  # the broker applies a change to every reader a moment later


@pytest.mark.parametrize(("name", "value", "right"), [
    ("cleanup.policy", "compact", "delete"),
    ("retention.ms", "3600000", "-1"),
    ("retention.bytes", "1048576", "-1"),
])
def test_a_changelog_topic_that_would_lose_changes(
        stack_env: StackEnv, captured: CaptureSetup, name: str, value: str,
        right: str) -> None:
    bootstrap = captured.bootstrap
    before = watermarks(bootstrap, captured.changelog_topic)
    _set_topic(bootstrap, captured.changelog_topic, name, value)
    try:
        outcome = run("cdc", "capture", "--config", str(captured.config_path),
                      "--until-caught-up", timeout=120)
    finally:
        _set_topic(bootstrap, captured.changelog_topic, name, right)
    assert_refused(outcome, 2, (f"changelog topic {captured.changelog_topic} has "
                                f"{name}={value}",),
                   ("the changelog is the backup", f"--add-config {name}={right}"),
                   stack_secrets(stack_env))
    assert watermarks(bootstrap, captured.changelog_topic) == before


def test_a_changelog_topic_with_several_partitions(tmp_path: Path,
                                                    stack_env: StackEnv) -> None:
    setup = write_capture_config(tmp_path, stack_env, unique_name("bad_parts"), "current")
    admin = AdminClient({"bootstrap.servers": setup.bootstrap})
    for future in admin.create_topics([NewTopic(setup.changelog_topic, num_partitions=3,
                                                replication_factor=1)]).values():
        future.result(timeout=30)
    try:
        outcome = run("cdc", "capture", "--config", str(setup.config_path),
                      "--until-caught-up")
        assert_refused(outcome, 2, (f"{setup.changelog_topic} has 3 partitions",),
                       ("exactly one partition", "kafka.topic_prefix"),
                       stack_secrets(stack_env))
    finally:
        for future in admin.delete_topics([setup.changelog_topic,
                                           setup.schemas_topic]).values():
            with contextlib.suppress(Exception):  # the schemas topic may not have been made
                future.result(timeout=30)
