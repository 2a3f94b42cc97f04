"""The subcommands of ``cdc``, one module each."""
