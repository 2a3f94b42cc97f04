"""The ``cdc`` command: capture and snapshots on the source side."""

from __future__ import annotations

import click

from cdc import __version__
from cdc.cli_errors import run_reporting_errors
from cdc.commands_on_demand import commands_on_demand

_COMMANDS = {
    "check": "cdc.commands.check",
    "capture": "cdc.commands.capture",
    "tail": "cdc.commands.tail",
    "snapshot": "cdc.commands.snapshot",
    "backups": "cdc.commands.backups",
    "window": "cdc.commands.window",
    "mark": "cdc.commands.mark",
    "plan": "cdc.commands.plan",
}


@click.group(cls=commands_on_demand(_COMMANDS),
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdc")
def cdc() -> None:
    """Continuous backup of a MySQL/MariaDB database: every committed row change is captured
    from the binlog into a Kafka changelog, anchored by base snapshots.

    The local stack for trying it out starts with 'make up'; see README.md and docs/.
    """



def main() -> None:
    run_reporting_errors(cdc)
