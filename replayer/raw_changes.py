"""Changelog records with their row images left as the bytes capture wrote.

Set-based replay (``replayer.set_apply``) hands images to the fused bulk-text encoders as they
are, so a record is read only as far as its envelope (``envelope_fields``, compiled when the
fast path is built); ``full_record`` decodes the whole record the usual way when a change
takes the statement-by-statement path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cdc.avro.codec import SchemaLookup, decode_record
from cdc.avro.envelope import EnvelopeFields, envelope_fields
from cdc.avro.errors import RecordFormatError
from cdc.changes import ChangeRecord
from cdc.kafka.reader import StoredRecord


class RawChange:
    """One record: its offset, its envelope's fields, and the record as stored."""

    __slots__ = ("fields", "offset", "value")

    def __init__(self, offset: int, fields: EnvelopeFields, value: bytes) -> None:
        self.offset = offset
        self.fields = fields
        self.value = value


def raw_change(offset: int, value: bytes) -> RawChange:
    try:
        return RawChange(offset, envelope_fields(value), value)
    except ValueError as exc:
        raise RecordFormatError(f"a changelog record is corrupt or truncated: {exc}") from None


def raw_changes(stored: Iterable[StoredRecord]) -> Iterator[RawChange]:
    for found in stored:
        yield raw_change(found.offset, found.value)


def full_record(change: RawChange, lookup: SchemaLookup) -> ChangeRecord:
    """The record with its images decoded (``cdc.avro.codec.decode_record``)."""
    return decode_record(change.value, lookup)
