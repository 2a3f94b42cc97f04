"""Splitting one run over several connections so that no two of them touch the same rows.

Each worker owns the accounts and type-torture rows whose id modulo the worker count is its
index, the payments between two of its accounts, and every row it creates; it plans only over
what it owns, so workers never wait for each other's row locks. Payment serials go in steps
of the worker count, offset by the index, so references stay unique without coordination.
This module is pure: the plan of the workers and the ownership test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.workload.runner import RunOptions


@dataclass(frozen=True)
class Partition:
    """Worker ``index`` of ``count``; ``Partition()`` is the whole database (one worker)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"a run needs at least one worker, not {self.count}")
        if not 0 <= self.index < self.count:
            raise ValueError(f"worker index {self.index} is not in 0..{self.count - 1}")

    def owns(self, row_id: int) -> bool:
        return row_id % self.count == self.index

    def first_serial(self, next_free_serial: int) -> int:
        """This worker's first payment serial, given the first one no payment has yet."""
        return next_free_serial + self.index

    @property
    def serial_step(self) -> int:
        return self.count


def worker_seed(seed: int, index: int) -> int:
    """A seed of its own for each worker, reproducible from the run's seed and the index.

    Hashed rather than added (seed + index) so that seeds 1 and 2 do not share workers.
    """
    digest = hashlib.sha256(f"bench.workload:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def worker_transactions(transactions: int | None, partition: Partition) -> int | None:
    """A worker's share of a transaction limit; the shares add up to the limit exactly."""
    if transactions is None:
        return None
    share, extra = divmod(transactions, partition.count)
    return share + (1 if partition.index < extra else 0)


def worker_options(options: RunOptions, count: int) -> tuple[RunOptions, ...]:
    """The options of each of ``count`` workers: a share of the rate and of the transaction
    limit, a seed and a partition of its own, and no marks (the parent writes them)."""
    if count == 1:
        return (options,)
    parts = []
    for index in range(count):
        partition = Partition(index, count)
        parts.append(replace(
            options, seed=worker_seed(options.seed, index), rate=options.rate / count,
            transactions=worker_transactions(options.transactions, partition),
            marks_file=None, mark_every=None, partition=partition,
        ))
    return tuple(parts)
