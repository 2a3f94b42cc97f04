"""``python -m replayer restore ... --json`` as a subprocess: one run, timed by the caller.

The time covers what an operator waits for: interpreter start, reading the snapshot catalog
and the changelog to plan, loading the snapshot and replaying the changelog, and exit.
A target the replayer cannot restore into yet ("not built yet", exit status 2) is told
apart from a failure, so a benchmark can report that measurement as unavailable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cdc.errors import CdcError

NOT_BUILT = "not built yet"


class RestoreRunError(CdcError):
    """A restore run failed."""


class RestoreUnavailableError(RestoreRunError):
    """The replayer cannot restore into this kind of target yet."""


@dataclass(frozen=True)
class RestoreCall:
    config_path: Path
    point: str
    target: str  # the target DSN as text (the replayer takes it on its command line)
    snapshot_id: str | None = None
    resume: bool = False


@dataclass(frozen=True)
class RestoreOutcome:
    snapshot_id: str
    snapshot_rows: int
    transactions: int
    rows_to_replay: int
    target_gtid: str


def restore_command(call: RestoreCall, python: str = sys.executable) -> list[str]:
    command = [python, "-m", "replayer", "restore", "--config", str(call.config_path),
               "--to", call.point, "--target", call.target, "--json"]
    if call.snapshot_id is not None:
        command += ["--snapshot", call.snapshot_id]
    if call.resume:
        command.append("--resume")
    return command


def parse_outcome(stdout: str) -> RestoreOutcome:
    """The JSON object the restore prints last."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and "snapshot_id" in found:
            return RestoreOutcome(str(found["snapshot_id"]), int(found["snapshot_rows"]),
                                  int(found["transactions"]), int(found["rows_to_replay"]),
                                  str(found["target_gtid"]))
    raise RestoreRunError(f"the restore printed no JSON summary: {stdout.strip()[-300:]!r}",
                          "run it by hand with the same arguments")


def failure(returncode: int, stderr: str) -> RestoreRunError:
    """The error for a failed run: unavailable when the replayer says the target kind is
    not built yet, a plain failure otherwise."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    said = " / ".join(lines[-3:]) or "(no message)"
    if NOT_BUILT in stderr:
        first = next((line for line in lines if NOT_BUILT in line), said)
        return RestoreUnavailableError(first, "measured once the replayer supports the target")
    return RestoreRunError(f"replayer restore exited with status {returncode}: {said}",
                           "run the same restore by hand to see its whole output")


def run_restore(call: RestoreCall, environment: Mapping[str, str], *,
                timeout_s: float = 7200, python: str = sys.executable) -> RestoreOutcome:
    try:
        done = subprocess.run(restore_command(call, python), env=dict(environment),
                              capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise RestoreRunError(f"replayer restore did not finish within {timeout_s:.0f} s",
                              "check the target and the changelog") from None
    if done.returncode != 0:
        raise failure(done.returncode, done.stderr)
    return parse_outcome(done.stdout)
