"""The ``cdc`` command: capture and snapshots on the source side."""

from __future__ import annotations

import click

from cdc import __version__
from cdc.cli_errors import run_reporting_errors
from cdc.commands.backups import backups
from cdc.commands.capture import capture
from cdc.commands.check import check
from cdc.commands.mark import mark
from cdc.commands.snapshot import snapshot
from cdc.commands.tail import tail
from cdc.commands.window import window


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdc")
def cdc() -> None:
    """Continuous backup of a MySQL/MariaDB database: every committed row change is captured
    from the binlog into a Kafka changelog, anchored by base snapshots.

    The local stack for trying it out starts with 'make up'; see README.md and docs/.
    """


cdc.add_command(check)
cdc.add_command(capture)
cdc.add_command(tail)
cdc.add_command(snapshot)
cdc.add_command(backups)
cdc.add_command(window)
cdc.add_command(mark)


def main() -> None:
    run_reporting_errors(cdc)
