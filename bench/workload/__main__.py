"""``python -m bench.workload``: the same as the ``cdc-workload`` command."""

from bench.workload.cli import main

main()
