"""The configuration the migration benchmark writes: capture of its database, from a given
GTID position, into topics of its own, with a snapshot store in a folder of its own (TOML
text; see docs/configuration.md).

Unlike the restore benchmark's, it keeps capture's own Kafka commit interval unless told
otherwise: the lag measured is the lag an operator gets. The password stays out of the file:
the commands read it from ``CDC_SOURCE__PASSWORD``, set for their process only. Pure, except
``write_config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.harness.restore_config import source_environment, toml_string, write_private
from cdc.dsn import Dsn


@dataclass(frozen=True)
class MigrateBenchConfig:
    source: Dsn  # the capture user
    server_id: int
    name: str
    bootstrap_servers: str
    topic_prefix: str
    include: tuple[str, ...]
    start: str  # "gtid:<position>" or "current"
    store: Path
    kafka_commit_interval_ms: int | None = None  # None: capture's default
    heartbeat_interval_s: int = 1  # so that a snapshot taken while idle finds its anchor soon
    metrics_address: str = ""  # capture's /metrics and /health (host:port); none when empty

    @property
    def topics(self) -> tuple[str, str]:
        """The changelog and schemas topics capture creates."""
        return f"{self.topic_prefix}.changelog", f"{self.topic_prefix}.schemas"

    @property
    def changelog_topic(self) -> str:
        return self.topics[0]


def config_text(config: MigrateBenchConfig) -> str:
    dsn = f"mysql://{config.source.user}@{config.source.host}:{config.source.port}/"
    include = ", ".join(toml_string(pattern) for pattern in config.include)
    kafka = [
        "[kafka]",
        f"bootstrap_servers = {toml_string(config.bootstrap_servers)}",
        f"topic_prefix = {toml_string(config.topic_prefix)}",
    ]
    if config.kafka_commit_interval_ms is not None:
        kafka.append(f"commit_interval_ms = {config.kafka_commit_interval_ms}")
    return "\n".join([
        "# Written by bench.migrate_lag for one run; safe to delete.",
        "[source]",
        f"dsn = {toml_string(dsn)}",
        f"server_id = {config.server_id}",
        f"name = {toml_string(config.name)}",
        "",
        *kafka,
        "",
        "[capture]",
        f"include = [{include}]",
        f"start = {toml_string(config.start)}",
        f"heartbeat_interval_s = {config.heartbeat_interval_s}",
        f"metrics_address = {toml_string(config.metrics_address)}",
        "",
        "[snapshots]",
        f"store = {toml_string(str(config.store))}",
        "",
    ])


def command_environment(config: MigrateBenchConfig,
                        environ: Mapping[str, str] | None = None) -> dict[str, str]:
    return source_environment(config.source, environ)


def write_config(config: MigrateBenchConfig, path: Path) -> Path:
    return write_private(config_text(config), path)
