"""The changelog and schemas topics read back as project values: the schema registry they
publish, and the last committed record. Shared by capture, ``cdc tail`` and the tests."""

from __future__ import annotations

from cdc.avro.codec import decode_record, table_schema_from_bytes
from cdc.avro.envelope import decode_envelope
from cdc.changes import ChangeRecord
from cdc.kafka.reader import read_committed, read_last_committed
from cdc.schema_registry import SchemaRegistry


def load_registry(bootstrap_servers: str, schemas_topic: str) -> SchemaRegistry:
    """Every table schema version committed to the schemas topic."""
    return SchemaRegistry(table_schema_from_bytes(stored.value)
                          for stored in read_committed(bootstrap_servers, schemas_topic))


def last_committed_record(bootstrap_servers: str, changelog_topic: str,
                          registry: SchemaRegistry) -> ChangeRecord | None:
    stored = read_last_committed(bootstrap_servers, changelog_topic)
    return decode_record(stored.value, registry.lookup) if stored else None


def first_committed_record(bootstrap_servers: str, changelog_topic: str
                           ) -> tuple[int, ChangeRecord] | None:
    """The changelog's first committed record with its row images left undecoded: since the
    changelog is never deleted from, the start record (or, in a changelog written before
    start records existed, its first change). None for an empty changelog."""
    for stored in read_committed(bootstrap_servers, changelog_topic):
        return stored.offset, decode_envelope(stored.value, lambda *_: (None, None))
    return None
