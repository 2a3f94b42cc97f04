"""Running a command with a bad input, and checking it was refused the way an operator needs:
its exit status, an ``error:`` naming the cause, a ``hint:`` naming the fix, no traceback and
no secret."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from cdc.dsn import parse_dsn
from tests.capture_helpers import capture_env
from tests.stack import StackEnv


@dataclass(frozen=True)
class Outcome:
    status: int
    out: str
    err: str

    @property
    def error(self) -> str:
        """The ``error:`` part of stderr (click's own ``Error:`` for a usage mistake)."""
        text = self.err.replace("\nError: ", "\nerror: ")
        _, found, rest = ("\n" + text).partition("\nerror: ")
        return rest.partition("\nhint: ")[0] if found else ""

    @property
    def hint(self) -> str:
        """The ``hint:`` part; for a usage mistake, click's usage line and its 'Try ...'."""
        _, found, rest = self.err.partition("\nhint: ")
        if found:
            return rest
        return self.err if self.err.startswith("Usage: ") else ""


def run(program: str, *args: str, env: dict[str, str] | None = None,
        timeout: float = 180) -> Outcome:
    """``python -m cdc|replayer ARGS`` in a process of its own, without the stack's CDC_
    variables unless given."""
    done = subprocess.run([sys.executable, "-m", program, *args],
                          env=capture_env() if env is None else env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    return Outcome(done.returncode, done.stdout, done.stderr)


def stack_secrets(stack_env: StackEnv) -> tuple[str, ...]:
    """Every password of the local stack: none may appear in any output."""
    names = ("CDC_SOURCE_CAPTURE_DSN", "CDC_SOURCE_ADMIN_DSN", "CDC_TARGET_MARIADB_DSN",
             "CDC_POSTGRES_DSN")
    return tuple(parse_dsn(stack_env[name]).password for name in names)


def assert_refused(outcome: Outcome, status: int, cause: Iterable[str], fix: Iterable[str],
                   secrets: Iterable[str] = ()) -> None:
    """Refused with ``status``; the error holds every word of ``cause``, the hint every word
    of ``fix``; no traceback; none of ``secrets`` anywhere in the output."""
    shown = f"exit {outcome.status}\nstdout:\n{outcome.out[-3000:]}\nstderr:\n{outcome.err[-3000:]}"
    assert outcome.status == status, shown
    assert "Traceback" not in outcome.out + outcome.err, shown
    assert outcome.error, f"no 'error:' line\n{shown}"
    for word in cause:
        assert word in outcome.error, f"{word!r} not in the error\n{shown}"
    assert outcome.hint, f"no 'hint:' line\n{shown}"
    for word in fix:
        assert word in outcome.hint, f"{word!r} not in the hint\n{shown}"
    for secret in secrets:
        if secret:
            assert secret not in outcome.out + outcome.err, f"a secret was shown\n{shown}"
