"""The ``replayer`` command: restore, migrate and verify on the target side."""

from __future__ import annotations

import click

from cdc.cli_errors import run_reporting_errors
from cdc.commands_on_demand import commands_on_demand
from replayer import __version__

_COMMANDS = {
    "restore": "replayer.commands.restore",
    "verify": "replayer.commands.verify",
    "migrate": "replayer.commands.migrate",
    "status": "replayer.commands.status",
    "cutover": "replayer.commands.cutover",
    "drill": "replayer.commands.drill",
}


@click.group(cls=commands_on_demand(_COMMANDS),
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="replayer")
def replayer() -> None:
    """Restore a MySQL/MariaDB or PostgreSQL target to any point in time from base snapshots
    and the changelog, keep a migration target in sync, and prove the copy identical.
    """


def main() -> None:
    run_reporting_errors(replayer)
