"""The changelog records a restore plan read, kept for the replay that follows it.

Planning reads the whole changelog (``restore_inputs.changelog_summary``); the replay then
needs the records from the snapshot's anchor on, which are the newest ones. The records are
kept as stored, newest last, within a budget of bytes (the oldest dropped first), so a replay
whose start is still held reads nothing from Kafka twice; one that starts before what is
held reads Kafka as it always did.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

from cdc.kafka.reader import StoredRecord

BUDGET_BYTES = 512 << 20
_OVERHEAD = 100  # about what Python spends on a kept record besides its bytes

ReadFrom = Callable[[int], Iterator[StoredRecord]]
"""Reads the changelog from an offset (``Changelog.stored_from``)."""


class ReadAhead:
    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self._kept: deque[StoredRecord] = deque()
        self._bytes = 0
        self._budget = budget_bytes

    def keep(self, stored: StoredRecord) -> None:
        """Keep a record read in offset order."""
        self._kept.append(stored)
        self._bytes += len(stored.value) + _OVERHEAD
        while self._bytes > self._budget and self._kept:
            dropped = self._kept.popleft()
            self._bytes -= len(dropped.value) + _OVERHEAD

    def stored_from(self, offset: int, read: ReadFrom) -> Iterator[StoredRecord]:
        """The records from ``offset`` on: those held, then Kafka's after them."""
        kept = self._kept
        if not kept or kept[0].offset > offset or kept[-1].offset < offset:
            yield from read(offset)
            return
        last = offset - 1
        for stored in kept:
            if stored.offset >= offset:
                last = stored.offset
                yield stored
        yield from read(last + 1)
