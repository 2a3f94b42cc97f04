"""Changelog records with their row images left as the bytes capture wrote.

Set-based replay (``replayer.set_apply``) hands images to the fused bulk-text encoders as they
are, so a record is decoded only as far as its envelope; ``full_record`` decodes its images
the usual way when a change takes the statement-by-statement path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from cdc.avro.codec import SchemaLookup, decode_record
from cdc.avro.envelope import decode_envelope
from cdc.avro.errors import RecordFormatError
from cdc.changes import ChangeRecord, Row
from cdc.kafka.reader import StoredRecord


@dataclass(frozen=True, slots=True)
class RawChange:
    offset: int
    record: ChangeRecord
    """The envelope: operation, table, version, positions; ``before`` and ``after`` None."""
    before: bytes | None
    after: bytes | None
    value: bytes
    """The whole record as stored, to decode in full."""


def raw_change(offset: int, value: bytes) -> RawChange:
    images: list[bytes | None] = [None, None]

    def keep(_database: str, _table: str, _version: int, before: bytes | None,
             after: bytes | None) -> tuple[Row | None, Row | None]:
        images[0], images[1] = before, after
        return None, None

    try:
        record = decode_envelope(value, keep)
    except ValueError as exc:
        raise RecordFormatError(f"a changelog record is corrupt or truncated: {exc}") from None
    return RawChange(offset, record, images[0], images[1], value)


def raw_changes(stored: Iterator[StoredRecord]) -> Iterator[RawChange]:
    for found in stored:
        yield raw_change(found.offset, found.value)


def full_record(change: RawChange, lookup: SchemaLookup) -> ChangeRecord:
    """The record with its images decoded (``cdc.avro.codec.decode_record``)."""
    if change.before is None and change.after is None:
        return change.record
    decoded = decode_record(change.value, lookup)
    return replace(change.record, before=decoded.before, after=decoded.after)
