"""Tools that exercise cdc and the replayer against real servers: workloads and benchmarks."""
