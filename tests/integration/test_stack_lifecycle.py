"""'make up' is idempotent, 'make down' leaves nothing behind, and a taken port is named.

These run a second, throwaway stack on free ports beside the one the suite uses.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import REPO_ROOT, stack_dir

pytestmark = pytest.mark.integration

PORT_VARIABLES = ("CDC_SOURCE_PORT", "CDC_TARGET_MARIADB_PORT", "CDC_POSTGRES_PORT",
                  "CDC_KAFKA_PORT", "CDC_KAFKA_CONTROLLER_PORT")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def throwaway_stack() -> Iterator[dict[str, str]]:
    # Under the repo's .stack rather than pytest's tmp_path: PostgreSQL runs as its own OS
    # user, which cannot enter root's private temporary folders.
    parent = stack_dir()
    parent.mkdir(exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="throwaway-", dir=parent))
    directory.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_")}
    env.update({name: str(free_port()) for name in PORT_VARIABLES})
    env["CDC_STACK_DIR"] = str(directory)
    env["CDC_SOURCE_SERVER_ID"] = "2001"
    env["CDC_KAFKA_LIBS"] = str(parent / "kafka" / "libs")
    env["CDC_KAFKA_HEAP"] = "256m"
    try:
        yield env
    finally:
        run_script("down.sh", env)
        shutil.rmtree(directory, ignore_errors=True)


def run_script(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO_ROOT / "stack" / name)], env=env, capture_output=True, text=True,
        timeout=400, check=False,
    )


def processes_mentioning(text: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", text], capture_output=True, text=True, check=False)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def test_up_twice_then_down_leaves_no_process(throwaway_stack: dict[str, str]) -> None:
    env = throwaway_stack
    first = run_script("up.sh", env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("[stack] starting") == 4

    second = run_script("up.sh", env)
    assert second.returncode == 0, second.stderr
    assert "starting" not in second.stdout
    assert second.stdout.count("already running") == 4

    env_file = Path(env["CDC_STACK_DIR"]) / "env"
    written = env_file.read_text()
    for name in PORT_VARIABLES:
        assert f"export {name}='{env[name]}'" in written
    assert run_script("status.sh", env).returncode == 0

    down = run_script("down.sh", env)
    assert down.returncode == 0, down.stderr
    status = run_script("status.sh", env)
    assert status.returncode == 3
    assert status.stdout.count("stopped") == 4
    assert processes_mentioning(env["CDC_STACK_DIR"]) == []
    listening = [name for name in PORT_VARIABLES if _accepts(int(env[name]))]
    assert listening == []


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("variable", ["CDC_SOURCE_PORT", "CDC_POSTGRES_PORT", "CDC_KAFKA_PORT"])
def test_a_taken_port_fails_fast_naming_the_port_and_the_fix(
    throwaway_stack: dict[str, str], variable: str
) -> None:
    env = throwaway_stack
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env[variable])))
        squatter.listen()
        result = run_script("up.sh", env)
    assert result.returncode != 0
    assert f"port {env[variable]}" in result.stderr
    assert f"make up {variable}=" in result.stderr
    assert "starting" not in result.stdout, "nothing may start before every port is checked"
    assert processes_mentioning(env["CDC_STACK_DIR"]) == []
