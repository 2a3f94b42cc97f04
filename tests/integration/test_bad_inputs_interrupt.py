"""Ctrl-C during a restore's load and during its replay: a clean message and exit status 130,
then --resume gives the same target as an uninterrupted restore."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

import psycopg2
import pytest

from tests.bad_inputs import Outcome, assert_refused, stack_secrets
from tests.bad_inputs_backup import Backup, restore
from tests.capture_helpers import capture_env
from tests.db import postgres_connect
from tests.restore_targets import postgres_state
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


_BLOCKED_TABLE = {"load": "loaded_files", "replay": "applied_position"}


class _PhaseWatch:
    """Interrupts a restore in a phase, as its target shows it: 'load' once a snapshot file is
    recorded, 'replay' once a position is stored. A restore of this size loads in 0.1 s and
    replays in 0.3 s, too fast to signal reliably: the table the phase writes next is locked
    first, so the restore waits in that phase while the signal arrives."""

    def __init__(self, dsn: str, source: str) -> None:
        self._connection = postgres_connect(f"{dsn}?sslmode=disable")
        self._connection.autocommit = True
        self._source = source

    def phase(self) -> str:
        try:
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT (SELECT count(*) FROM cdc_replayer.loaded_files), "
                               "(SELECT count(*) FROM cdc_replayer.applied_position "
                               "WHERE source = %s)", (self._source,))
                row = cursor.fetchone()
        except psycopg2.Error:  # the bookkeeping is not there yet
            return ""
        files, stored = row if row is not None else (0, 0)
        return "replay" if stored else ("load" if files else "")

    def interrupt_in(self, phase: str, process: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if self.phase() == phase:
                with self._connection.cursor() as cursor:
                    cursor.execute("BEGIN")
                    # SHARE blocks the restore's next write there, not its reads.
                    cursor.execute(f"LOCK TABLE cdc_replayer.{_BLOCKED_TABLE[phase]} "
                                   "IN SHARE MODE")
                    process.send_signal(signal.SIGINT)
                    time.sleep(0.5)
                    cursor.execute("ROLLBACK")
                return

    def close(self) -> None:
        self._connection.close()


def _sigint_as_in_a_terminal() -> None:
    """A shell that starts jobs in the background (a CI runner's, say) passes SIGINT on
    ignored, and Python then never raises KeyboardInterrupt: the restore gets Ctrl-C as an
    operator's terminal sends it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_in(backup: Backup, dsn: str, phase: str, *extra: str) -> Outcome:
    """A restore to latest, sent SIGINT while it is in ``phase``."""
    watch = _PhaseWatch(dsn, backup.database)
    process = subprocess.Popen(
        [sys.executable, "-m", "replayer", "restore", "--config", str(backup.config), "--to",
         "latest", "--target", dsn, *extra], env=capture_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=_sigint_as_in_a_terminal)  # noqa: PLW1509 - it only resets a signal
    try:
        watch.interrupt_in(phase, process)
    finally:
        watch.close()
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
