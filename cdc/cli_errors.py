"""How every command reports an operator error: one message, one hint, an exit status, no
traceback. Shared by the ``cdc``, ``replayer`` and ``cdc-workload`` commands."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from cdc.disk_full import disk_full_error, is_disk_full
from cdc.errors import CdcError


def run_reporting_errors(command: Callable[..., object]) -> None:
    """Run a click command; a CdcError becomes ``error: ...`` / ``hint: ...`` on stderr."""
    try:
        # Without standalone mode click hands back ctx.exit()'s status instead of exiting.
        status = command(standalone_mode=False)
        if isinstance(status, int) and status:
            sys.exit(status)
    except CdcError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        sys.exit(exc.exit_status)
    except click.exceptions.Abort:
        # Ctrl-C (click turns KeyboardInterrupt into Abort): every command keeps what it
        # finished consistent, so running it again is always the way on.
        click.echo("error: interrupted (Ctrl-C) before the command finished", err=True)
        click.echo("hint: run it again to finish; an interrupted restore or migration "
                   "continues where it stopped with --resume", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Wherever a write ran out of room (an index build, a bookkeeping table), the fix
        # is the same; any other unexpected error keeps its traceback for the bug report.
        if not is_disk_full(exc):
            raise
        error = disk_full_error(exc, "writing")
        click.echo(f"error: {error.message}", err=True)
        click.echo(f"hint: {error.hint}", err=True)
        sys.exit(error.exit_status)
