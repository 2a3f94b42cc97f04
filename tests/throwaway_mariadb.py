"""A MariaDB server of a test's own, started and stopped by the stack's script."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.db import unique_name
from tests.stack import REPO_ROOT, read_env_file


@dataclass(frozen=True)
class ThrowawayServer:
    capture_dsn: str
    admin_dsn: str
    script: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    def restart(self) -> None:
        """Stop the server and start it again, its data kept."""
        for action in ("down", "up"):
            subprocess.run([*self.script, action, "source"], env=dict(self.env), check=True,
                           capture_output=True, timeout=300)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_mariadb(name: str, server_id: int, extra_cnf: str = "") -> Iterator[
        ThrowawayServer]:
    """An empty MariaDB set up like the stack's source (``extra_cnf`` lines added to its
    configuration); stopped and deleted afterwards."""
    directory = REPO_ROOT / ".stack" / unique_name(name)
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_")}
    env.update(CDC_STACK_DIR=str(directory), CDC_HOST="127.0.0.1", CDC_SOURCE_PORT=str(port),
               CDC_SOURCE_SERVER_ID=str(server_id))
    if extra_cnf:
        env["CDC_MARIADB_EXTRA_CNF"] = extra_cnf
    script = ["bash", str(REPO_ROOT / "stack" / "mariadb.sh")]
    try:
        up = subprocess.run([*script, "up", "source"], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
        if up.returncode != 0:
            pytest.fail(f"the throwaway MariaDB did not start:\n{up.stdout}{up.stderr}")
        secrets = read_env_file(directory / "secrets")
        address = f"127.0.0.1:{port}/"
        yield ThrowawayServer(
            capture_dsn=f"mysql://cdc_capture:{secrets['mariadb_capture_password']}@{address}",
            admin_dsn=f"mysql://cdc_admin:{secrets['mariadb_admin_password']}@{address}",
            script=tuple(script), env=tuple(env.items()))
    finally:
        subprocess.run([*script, "down", "source"], env=env, capture_output=True,
                       timeout=120, check=False)
        shutil.rmtree(directory, ignore_errors=True)
