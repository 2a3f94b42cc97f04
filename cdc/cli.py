"""The ``cdc`` command: capture and snapshots on the source side."""

from __future__ import annotations

import importlib

import click

from cdc import __version__
from cdc.cli_errors import run_reporting_errors

# A command's module is imported only when the command runs: `cdc capture` starts without
# loading the snapshot, backup and tail code (a tenth of a second of every start).
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


class _CommandsOnDemand(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(importlib.import_module(module), cmd_name)
        return command


@click.group(cls=_CommandsOnDemand, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdc")
def cdc() -> None:
    """Continuous backup of a MySQL/MariaDB database: every committed row change is captured
    from the binlog into a Kafka changelog, anchored by base snapshots.

    The local stack for trying it out starts with 'make up'; see README.md and docs/.
    """



def main() -> None:
    run_reporting_errors(cdc)
