"""The changelog as snapshots need it: records from an offset, the record before an offset,
the tail, and where replay on top of a snapshot starts."""

from __future__ import annotations

from collections.abc import Iterator

from cdc.avro.codec import decode_record
from cdc.changelog_store import load_registry
from cdc.changes import ChangeRecord, TableSchema
from cdc.config.models import CaptureConfig
from cdc.kafka.reader import (
    StoredRecord,
    follow_committed,
    read_committed,
    read_last_committed,
)
from cdc.position import GtidPosition
from cdc.schema_registry import SchemaRegistry
from cdc.snapshot.anchor_offset import locate
from cdc.snapshot.manifest import Manifest


class Changelog:
    def __init__(self, config: CaptureConfig) -> None:
        self._bootstrap = config.kafka.bootstrap_servers
        self._topics = (config.changelog_topic, config.schemas_topic)
        self._registry: SchemaRegistry | None = None

    def lookup(self, database: str, table: str, version: int) -> TableSchema:
        if self._registry is None:
            self._registry = load_registry(self._bootstrap, self._topics[1])
        try:
            return self._registry.lookup(database, table, version)
        except KeyError:  # published after the registry was read
            self._registry = load_registry(self._bootstrap, self._topics[1])
            return self._registry.lookup(database, table, version)

    def records_from(self, offset: int) -> Iterator[tuple[int, ChangeRecord]]:
        for stored in read_committed(self._bootstrap, self._topics[0], offset):
            yield stored.offset, decode_record(stored.value, self.lookup)

    def stored_from(self, offset: int) -> Iterator[StoredRecord]:
        """The records from ``offset`` as stored, undecoded."""
        return read_committed(self._bootstrap, self._topics[0], offset)

    def follow_from(self, offset: int, idle_s: float = 0.5
                    ) -> Iterator[tuple[int, ChangeRecord] | None]:
        """Records from ``offset`` on as they are committed, without end; None when idle."""
        for stored in follow_committed(self._bootstrap, self._topics[0], offset, idle_s):
            yield None if stored is None else (stored.offset,
                                               decode_record(stored.value, self.lookup))

    def record_before(self, offset: int) -> ChangeRecord | None:
        """The last committed record below ``offset``; None if there is none."""
        step = 64
        while True:
            start = max(0, offset - step)
            found: ChangeRecord | None = None
            for stored in read_committed(self._bootstrap, self._topics[0], start):
                if stored.offset >= offset:
                    break
                found = decode_record(stored.value, self.lookup)
            if found is not None or start == 0:
                return found
            step *= 16

    def tail(self) -> tuple[int, ChangeRecord] | None:
        stored = read_last_committed(self._bootstrap, self._topics[0])
        if stored is None:
            return None
        return stored.offset, decode_record(stored.value, self.lookup)

    def replay_start(self, manifest: Manifest, wait_s: float = 0.0) -> int | None:
        """The offset replay on top of the snapshot starts from; None while capture has not
        reached its anchor."""
        if manifest.anchor.changelog_offset is not None:
            return manifest.anchor.changelog_offset
        return locate(self._bootstrap, self._topics,
                      GtidPosition.parse(manifest.anchor.gtid_position), wait_s=wait_s)
