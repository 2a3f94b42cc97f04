"""The capture configuration a benchmark run writes (TOML text; see docs/configuration.md).

The password is left out of the text on purpose: capture reads it from the
``CDC_SOURCE__PASSWORD`` variable the benchmark sets for its subprocess, so no secret lands
in a file. Pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdc.dsn import Dsn

PASSWORD_VARIABLE = "CDC_SOURCE__PASSWORD"


@dataclass(frozen=True)
class CaptureRunConfig:
    source: Dsn
    server_id: int
    name: str
    bootstrap_servers: str
    topic_prefix: str
    include: tuple[str, ...]
    start: str  # "gtid:<position>" or "current"
    workers: int | None = None
    """capture.workers; None: capture's default (the cores)."""

    @property
    def topics(self) -> tuple[str, str]:
        """The topics capture creates for this run."""
        return f"{self.topic_prefix}.changelog", f"{self.topic_prefix}.schemas"


def capture_config_text(config: CaptureRunConfig) -> str:
    dsn = f"mysql://{config.source.user}@{config.source.host}:{config.source.port}/"
    include = ", ".join(_string(pattern) for pattern in config.include)
    return "\n".join([
        "# Written by bench.capture_throughput for one run; safe to delete.",
        "[source]",
        f"dsn = {_string(dsn)}",
        f"server_id = {config.server_id}",
        f"name = {_string(config.name)}",
        "",
        "[kafka]",
        f"bootstrap_servers = {_string(config.bootstrap_servers)}",
        f"topic_prefix = {_string(config.topic_prefix)}",
        "",
        "[capture]",
        f"include = [{include}]",
        f"start = {_string(config.start)}",
        'metrics_address = ""',
        *([f"workers = {config.workers}"] if config.workers is not None else []),
        "",
    ])


def capture_environment(config: CaptureRunConfig) -> dict[str, str]:
    """The variables capture needs besides the file: the source password."""
    return {PASSWORD_VARIABLE: config.source.password}


def _string(value: str) -> str:
    # A JSON string without ASCII escaping is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)
