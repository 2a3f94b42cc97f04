"""``python -m replayer migrate`` in the background, as an operator runs it, with its log in a
file; stopped with SIGTERM (it stops at a transaction boundary and says how much this run
applied). Also ``replayer status --json``. Parsing the log and the status is pure.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cdc.errors import CdcError

FOLLOWING_LINE = "following the changelog from offset"
_STOPPED = re.compile(r"stopped after (\d+) transactions \((\d+) row changes\) in this run")


class MigrateProcessError(CdcError):
    """replayer migrate died, did not start following, or did not stop cleanly."""


@dataclass(frozen=True)
class Applied:
    """What one migrate run says it applied when it stops."""

    transactions: int
    row_changes: int


def parse_stopped(log_text: str) -> Applied | None:
    """The counts of the last ``stopped after ...`` line of a migrate log; None without one."""
    found = _STOPPED.findall(log_text)
    if not found:
        return None
    transactions, rows = found[-1]
    return Applied(int(transactions), int(rows))


def log_problems(log_text: str) -> tuple[str, ...]:
    """The WARNING and ERROR lines of the log (a reconnect, for one, shows up here)."""
    return tuple(line.strip() for line in log_text.splitlines()
                 if " WARNING " in line or " ERROR " in line)


def lag_transactions(status_json: str, source: str) -> int | None:
    """``lag_transactions`` of ``source`` in ``replayer status --json`` output."""
    document = json.loads(status_json)
    for entry in document.get("sources", []):
        if entry.get("source") == source and entry.get("lag_transactions") is not None:
            return int(entry["lag_transactions"])
    return None


def migrate_command(config_path: Path, target: str, mode: str, *, tables: str | None = None,
                    python: str = sys.executable) -> list[str]:
    command = [python, "-m", "replayer", "migrate", "--config", str(config_path), "--target",
               target, "--mode", mode]
    if tables is not None:
        command += ["--tables", tables]
    return command


def replayer_status(config_path: Path, target: str, environment: Mapping[str, str],
                    python: str = sys.executable, timeout_s: float = 300) -> str:
    """The JSON ``replayer status --config F --json`` prints."""
    command = [python, "-m", "replayer", "status", "--target", target, "--config",
               str(config_path), "--json"]
    done = subprocess.run(command, env=dict(environment), capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-3:])
        raise MigrateProcessError(f"replayer status exited with status {done.returncode}: "
                                  f"{tail}", "run it by hand with the same arguments")
    return done.stdout


class MigrateProcess:
    """A context manager: started on entry, stopped (SIGTERM, then SIGKILL) on the way out."""

    def __init__(self, command: list[str], environment: Mapping[str, str],
                 log_path: Path) -> None:
        self.command = command
        self.environment = dict(environment)
        self.log_path = log_path
        self.started_at = 0.0  # monotonic
        self.applied: Applied | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MigrateProcess:
        with self.log_path.open("ab") as log:
            self.started_at = time.monotonic()
            self._process = subprocess.Popen(self.command, env=self.environment, stdout=log,
                                             stderr=subprocess.STDOUT)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._process is not None:
            self.stop(check=kind is None)

    def check_alive(self) -> None:
        process = self._process
        if process is not None and process.poll() is not None:
            raise MigrateProcessError(f"replayer migrate exited by itself with status "
                                      f"{process.returncode}: {self.tail()}",
                                      f"see {self.log_path}")

    def wait_following(self, timeout_s: float, poll_s: float = 0.02) -> float:
        """Until the log says it follows the changelog; the monotonic time that was seen."""
        deadline = time.monotonic() + timeout_s
        while FOLLOWING_LINE not in self.log():
            self.check_alive()
            if time.monotonic() >= deadline:
                raise MigrateProcessError(f"replayer migrate did not start following within "
                                          f"{timeout_s:.0f} s: {self.tail()}",
                                          f"see {self.log_path}")
            time.sleep(poll_s)
        return time.monotonic()

    def stop(self, *, check: bool = True) -> Applied | None:
        """SIGTERM, and what the run says it applied (None if it did not say)."""
        process = self._process
        if process is None:
            return self.applied
        self._process = None
        if process.poll() is not None:
            if check:
                raise MigrateProcessError(f"replayer migrate exited by itself with status "
                                          f"{process.returncode}: {self.tail()}",
                                          f"see {self.log_path}")
            return None
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
            if check:
                raise MigrateProcessError("replayer migrate did not stop within 120 s of "
                                          "SIGTERM (killed)", f"see {self.log_path}") from None
        self.applied = parse_stopped(self.log())
        return self.applied

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def problems(self) -> tuple[str, ...]:
        return log_problems(self.log())

    def tail(self) -> str:
        lines = [line for line in self.log().strip().splitlines() if line.strip()]
        return " / ".join(lines[-3:]) or "(nothing logged)"

