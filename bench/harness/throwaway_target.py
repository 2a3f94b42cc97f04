"""A MariaDB restore target of the benchmark's own, set up exactly like the local stack's
target (``stack/mariadb.sh up target``: no binlog, the same buffer pool and log sizes), on a
free port, with its files under ``.stack/<name>``; stopped and deleted afterwards.

The stack's own target is shared with other people's tests, and a restore needs an empty
server, so the benchmark restores into a server nobody else uses.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness.stack_env import REPO_ROOT, parse_env_file
from cdc.dsn import Dsn, Engine
from cdc.errors import CdcError

SCRIPT = REPO_ROOT / "stack" / "mariadb.sh"
HOST = "127.0.0.1"


class ThrowawayTargetError(CdcError):
    """The throwaway MariaDB did not start."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def script_environment(directory: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_")}
    # The target's server id is the source's plus one; any id unlike the stack's will do.
    env.update(CDC_STACK_DIR=str(directory), CDC_HOST=HOST, CDC_TARGET_MARIADB_PORT=str(port),
               CDC_SOURCE_SERVER_ID="3200")
    return env


@contextmanager
def throwaway_target(name: str) -> Iterator[Dsn]:
    """The admin DSN of a fresh, empty MariaDB target."""
    directory = REPO_ROOT / ".stack" / name
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    env = script_environment(directory, free_port())
    try:
        up = subprocess.run(["bash", str(SCRIPT), "up", "target"], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
        if up.returncode != 0:
            said = " / ".join((up.stdout + up.stderr).strip().splitlines()[-4:])
            raise ThrowawayTargetError(f"the throwaway MariaDB target did not start: {said}",
                                       f"see {directory}/mariadb-target/log/error.log")
        secrets = parse_env_file((directory / "secrets").read_text())
        yield Dsn(Engine.MYSQL, HOST, int(env["CDC_TARGET_MARIADB_PORT"]), "cdc_admin",
                  secrets["mariadb_admin_password"])
    finally:
        subprocess.run(["bash", str(SCRIPT), "down", "target"], env=env, capture_output=True,
                       timeout=120, check=False)
        shutil.rmtree(directory, ignore_errors=True)
