"""The configuration the restore benchmark writes: capture of its databases, from a given
GTID position, into topics of its own, with a snapshot store in a folder of its own (TOML
text; see docs/configuration.md).

As in ``capture_config``, the password stays out of the file: the commands read it from
``CDC_SOURCE__PASSWORD``, set for their process only. Pure, except ``write_config``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.harness.capture_config import PASSWORD_VARIABLE
from cdc.dsn import Dsn


@dataclass(frozen=True)
class RestoreBenchConfig:
    source: Dsn  # the capture user
    server_id: int
    name: str
    bootstrap_servers: str
    topic_prefix: str
    include: tuple[str, ...]
    start: str  # "gtid:<position>" or "current"
    store: Path
    anchor_wait_s: int = 60
    workers: int = 2

    @property
    def topics(self) -> tuple[str, str]:
        """The changelog and schemas topics capture creates."""
        return f"{self.topic_prefix}.changelog", f"{self.topic_prefix}.schemas"

    @property
    def changelog_topic(self) -> str:
        return self.topics[0]


def config_text(config: RestoreBenchConfig) -> str:
    dsn = f"mysql://{config.source.user}@{config.source.host}:{config.source.port}/"
    include = ", ".join(toml_string(pattern) for pattern in config.include)
    return "\n".join([
        "# Written by bench.restore_throughput for one run; safe to delete.",
        "[source]",
        f"dsn = {toml_string(dsn)}",
        f"server_id = {config.server_id}",
        f"name = {toml_string(config.name)}",
        "",
        "[kafka]",
        f"bootstrap_servers = {toml_string(config.bootstrap_servers)}",
        f"topic_prefix = {toml_string(config.topic_prefix)}",
        "commit_interval_ms = 100",
        "",
        "[capture]",
        f"include = [{include}]",
        f"start = {toml_string(config.start)}",
        "heartbeat_interval_s = 1",
        'metrics_address = ""',
        "",
        "[snapshots]",
        f"store = {toml_string(str(config.store))}",
        f'anchor_wait = "{config.anchor_wait_s}s"',
        f"workers = {config.workers}",
        "",
    ])


def command_environment(config: RestoreBenchConfig,
                        environ: Mapping[str, str] | None = None) -> dict[str, str]:
    return source_environment(config.source, environ)


def source_environment(source: Dsn, environ: Mapping[str, str] | None = None
                       ) -> dict[str, str]:
    """The environment of a ``cdc``/``replayer`` process: the caller's, without the local
    stack's ``CDC_*`` variables (the configuration file says everything), plus the source
    password."""
    base = os.environ if environ is None else environ
    return {**{k: v for k, v in base.items() if not k.startswith("CDC_")},
            PASSWORD_VARIABLE: source.password}


def write_config(config: RestoreBenchConfig, path: Path) -> Path:
    return write_private(config_text(config), path)


def write_private(text: str, path: Path) -> Path:
    """A configuration file only its owner reads (it names the source's user)."""
    path.write_text(text)
    path.chmod(0o600)
    return path


def toml_string(value: str) -> str:
    # A JSON string without ASCII escaping is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)
