"""The ``replayer`` command: restore, migrate and verify on the target side."""

from __future__ import annotations

import click

from cdc.cli_errors import run_reporting_errors
from replayer import __version__
from replayer.commands.cutover import cutover
from replayer.commands.drill import drill
from replayer.commands.migrate import migrate
from replayer.commands.restore import restore
from replayer.commands.status import status
from replayer.commands.verify import verify


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="replayer")
def replayer() -> None:
    """Restore a MySQL/MariaDB or PostgreSQL target to any point in time from base snapshots
    and the changelog, keep a migration target in sync, and prove the copy identical.
    """


replayer.add_command(restore)
replayer.add_command(verify)
replayer.add_command(migrate)
replayer.add_command(status)
replayer.add_command(cutover)
replayer.add_command(drill)


def main() -> None:
    run_reporting_errors(replayer)
