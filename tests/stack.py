"""Reads the local stack's addresses from ``.stack/env`` (written by ``make up``)."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def stack_dir() -> Path:
    return Path(os.environ.get("CDC_STACK_DIR", REPO_ROOT / ".stack"))


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a file of ``NAME=value`` lines as written by the stack scripts (shell-quoted)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = stripped.removeprefix("export ")
        name, _, raw = stripped.partition("=")
        words = shlex.split(raw)
        values[name] = words[0] if words else ""
    return values


@dataclass(frozen=True)
class StackEnv:
    values: dict[str, str]

    def __getitem__(self, name: str) -> str:
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"{name} is not in .stack/env; run 'make up' again") from None


def load_stack_env() -> StackEnv:
    path = stack_dir() / "env"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: the local stack is not up. Run 'make up' (or 'make test', "
            "which starts it) first."
        )
    return StackEnv(read_env_file(path))
