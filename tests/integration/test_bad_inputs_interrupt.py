"""Ctrl-C during a restore's load and during its replay: a clean message and exit status 130,
then --resume gives the same target as an uninterrupted restore."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.bad_inputs import Outcome, assert_refused, stack_secrets
from tests.bad_inputs_backup import Backup, restore
from tests.capture_helpers import capture_env
from tests.integration.test_restore_points import _phase
from tests.restore_targets import postgres_state
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


def _interrupt_in(backup: Backup, dsn: str, phase: str, *extra: str) -> Outcome:
    """A restore to latest, sent SIGINT as soon as it is in ``phase``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "replayer", "restore", "--config", str(backup.config), "--to",
         "latest", "--target", dsn, *extra], env=capture_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if _phase("postgresql", dsn, backup.database) == phase:
            process.send_signal(signal.SIGINT)
            break
        time.sleep(0.01)
    out, err = process.communicate(timeout=120)
    return Outcome(process.returncode, out, err)


@pytest.mark.parametrize("phases", [("load",), ("load", "replay")], ids=["load", "replay"])
def test_ctrl_c_then_resume_gives_the_same_target(
        backup: Backup, postgres_databases: Callable[[], str], stack_env: StackEnv,
        phases: tuple[str, ...]) -> None:
    reference = postgres_databases()
    done = restore(backup, "latest", reference)
    assert done.status == 0, done.err
    dsn = postgres_databases()
    for number, phase in enumerate(phases):
        outcome = _interrupt_in(backup, dsn, phase, *(["--resume"] if number else []))
        assert_refused(outcome, 130, ("interrupted (Ctrl-C)",), ("--resume",),
                       stack_secrets(stack_env))
    resumed = restore(backup, "latest", dsn, "--resume")
    assert resumed.status == 0, resumed.err
    tables = ("t",)
    assert postgres_state(dsn, backup.database, tables) == \
        postgres_state(reference, backup.database, tables)
