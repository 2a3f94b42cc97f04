"""How every command reports an operator error: one message, one hint, an exit status, no
traceback. Shared by the ``cdc``, ``replayer`` and ``cdc-workload`` commands."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

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
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
