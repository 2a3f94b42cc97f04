"""``cdc capture --until-caught-up --json`` as a subprocess: one timed run end to end.

The time covers everything an operator would wait for: interpreter start, the start-up
checks, topic creation, reading the binlog, writing and committing every Kafka transaction,
and a clean exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.harness.capture_config import (
    CaptureRunConfig,
    capture_config_text,
    capture_environment,
)
from cdc.errors import CdcError


class CaptureRunError(CdcError):
    """The capture command is missing or a run failed."""


@dataclass(frozen=True)
class CaptureOutcome:
    records: int
    transactions: int
    gtid_position: str
    log_problems: tuple[str, ...] = ()


def capture_command(config_path: Path, python: str = sys.executable) -> list[str]:
    return [python, "-m", "cdc", "capture", "--config", str(config_path), "--until-caught-up",
            "--json"]


def check_capture_available(python: str = sys.executable, timeout_s: float = 120) -> None:
    """Raise CaptureRunError unless ``python -m cdc capture --help`` works."""
    try:
        completed = subprocess.run([python, "-m", "cdc", "capture", "--help"], check=False,
                                   capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise CaptureRunError("'python -m cdc capture --help' did not answer in "
                              f"{timeout_s:.0f} s", "check that cdc imports cleanly") from None
    if completed.returncode != 0:
        said = (completed.stderr or completed.stdout).strip().splitlines()
        raise CaptureRunError(
            "the capture command is not available: 'python -m cdc capture --help' exited "
            f"with status {completed.returncode}: {said[-1] if said else '(no output)'}",
            "the capture part of the benchmark needs 'cdc capture'; run with "
            "--skip-capture to measure the rest")


def parse_capture_output(stdout: str) -> CaptureOutcome:
    """The summary capture prints with --json: the last line that is a JSON object."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and isinstance(found.get("records"), int):
            return CaptureOutcome(int(found["records"]), int(found.get("transactions") or 0),
                                  str(found.get("gtid_position") or ""))
    raise CaptureRunError(f"capture printed no JSON summary: {stdout.strip()[-300:]!r}",
                          "run the capture command by hand with the same config to see why")


def log_problems(stderr: str) -> tuple[str, ...]:
    """The WARNING and ERROR lines of capture's log (restarts, for one, show up here)."""
    return tuple(line.strip() for line in stderr.splitlines()
                 if " WARNING " in line or " ERROR " in line)


def write_config(config: CaptureRunConfig, folder: Path) -> Path:
    path = folder / f"{config.topic_prefix}.toml"
    path.write_text(capture_config_text(config))
    path.chmod(0o600)
    return path


def run_capture(config: CaptureRunConfig, folder: Path, timeout_s: float,
                python: str = sys.executable) -> CaptureOutcome:
    """Write the config, run capture until caught up, and return its summary."""
    path = write_config(config, folder)
    try:
        completed = subprocess.run(
            capture_command(path, python), check=False, capture_output=True, text=True,
            timeout=timeout_s, env={**os.environ, **capture_environment(config)})
    except subprocess.TimeoutExpired:
        raise CaptureRunError(f"capture did not catch up within {timeout_s:.0f} s",
                              "raise --capture-timeout, or check capture's log") from None
    if completed.returncode != 0:
        tail = " / ".join(completed.stderr.strip().splitlines()[-4:])
        raise CaptureRunError(f"capture exited with status {completed.returncode}: {tail}",
                              f"run {' '.join(capture_command(path, python))} by hand "
                              f"(with {', '.join(capture_environment(config))} set)")
    outcome = parse_capture_output(completed.stdout)
    return CaptureOutcome(outcome.records, outcome.transactions, outcome.gtid_position,
                          log_problems(completed.stderr))
