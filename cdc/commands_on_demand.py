"""A click group whose commands' modules are imported only when a command runs: a restore
or a capture starts without loading every other command's code (a tenth of a second or more
of every start)."""

from __future__ import annotations

import importlib

import click


def commands_on_demand(commands: dict[str, str]) -> type[click.Group]:
    """A group class for ``commands``: name -> module holding a command of that name."""

    class CommandsOnDemand(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return list(commands)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            module = commands.get(cmd_name)
            if module is None:
                return None
            command: click.Command = getattr(importlib.import_module(module), cmd_name)
            return command

    return CommandsOnDemand
