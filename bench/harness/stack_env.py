"""The local stack's addresses: the environment first, then ``.stack/env`` (``make up``)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from cdc.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def parse_env_file(text: str) -> dict[str, str]:
    """``NAME=value`` lines as the stack scripts write them (``export``, shell quoting)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, raw = stripped.removeprefix("export ").partition("=")
        if not sep:
            continue
        words = shlex.split(raw)
        values[name.strip()] = words[0] if words else ""
    return values


class StackSettings:
    """Looks a variable up in the environment, then in the stack's env file."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        stack_dir = Path(environ.get("CDC_STACK_DIR") or REPO_ROOT / ".stack")
        path = stack_dir / "env"
        from_file = parse_env_file(path.read_text()) if path.is_file() else {}
        self.values = {**from_file, **environ}
        self.stack_dir = Path(self.values.get("CDC_STACK_DIR") or stack_dir)
        self.env_file = path

    def __getitem__(self, name: str) -> str:
        value = self.values.get(name)
        if not value:
            raise ConfigError(f"{name} is neither set nor in {self.env_file}",
                              "start the local stack with 'make up', or set the variable "
                              "(set -a; . .stack/env; set +a)")
        return value
