"""What a capture run really committed: the changelog read back with read_committed.

Capture's own ``records`` counter says what it wrote; this counts what a reader of the
backup gets. Row-change records carry the row's key; heartbeats and DDL records carry none
(every table of the workload has a primary key). A record delivered twice shows up as two
records with the same key and value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cdc.kafka.reader import StoredRecord, read_committed


@dataclass(frozen=True)
class ChangelogCount:
    records: int  # every committed record
    row_changes: int  # committed records with a key
    distinct_row_changes: int  # of those, distinct (key, value) pairs

    @property
    def duplicates(self) -> int:
        return self.row_changes - self.distinct_row_changes


def summarise(records: Iterable[StoredRecord]) -> ChangelogCount:
    total = keyed = 0
    seen: set[tuple[bytes, bytes]] = set()
    for record in records:
        total += 1
        if record.key is not None:
            keyed += 1
            seen.add((record.key, record.value))
    return ChangelogCount(total, keyed, len(seen))


def count_committed(bootstrap_servers: str, changelog_topic: str) -> ChangelogCount:
    return summarise(read_committed(bootstrap_servers, changelog_topic))
