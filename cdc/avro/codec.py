"""Changelog records to bytes and back.

A record is the envelope (``cdc.avro.envelope``) in Avro single-object encoding; its
``before``/``after`` images are rows encoded with the row schema of the table version the
record names (``cdc.avro.row_schema``). Keys, and the schemas topic's records, are encoded here
too. Schemas are compiled once per table version and cached: encoding runs per row change.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from cdc.avro.binary import AvroDecodeError
from cdc.avro.envelope import (
    ENVELOPE_DECODERS,
    HEADER_SIZE,
    SINGLE_OBJECT_MARKER,
    ImageDecoder,
    encode_envelope,
)
from cdc.avro.errors import RecordFormatError
from cdc.avro.row_schema import RowCodec, row_codec
from cdc.avro.schema_topic import schema_topic_key, table_schema_from_bytes, table_schema_to_bytes
from cdc.changes import ChangeRecord, Operation, Row, TableSchema
from cdc.errors import TypeMappingError

__all__ = [
    "SchemaLookup",
    "decode_record",
    "encode_key",
    "encode_record",
    "schema_topic_key",
    "table_schema_from_bytes",
    "table_schema_to_bytes",
]

SchemaLookup = Callable[[str, str, int], TableSchema]
"""(database, table, version) -> the TableSchema of that version."""

_ENCODE_ERRORS = (KeyError, ValueError, TypeError, AttributeError, OverflowError, struct.error)


def encode_record(record: ChangeRecord, schema: TableSchema | None) -> bytes:
    """The record's bytes; ``schema`` is the table version its row images use (None if none)."""
    if record.before is None and record.after is None:
        return encode_envelope(record, None, None)
    codec = _codec_for(record, schema)
    return encode_envelope(record, _encode_image(codec, record.before, "before"),
                           _encode_image(codec, record.after, "after"))


def encode_key(record: ChangeRecord, schema: TableSchema | None) -> bytes | None:
    """The primary key of the record's row image, deterministically encoded.

    The bytes are the Avro encoding of the table's key schema: database, table, then the key
    columns in key order. None for records without a row image (markers, DDL) and for tables
    without a primary key.
    """
    image = record.image
    if image is None or record.operation.is_marker or record.operation is Operation.DDL:
        return None
    codec = _codec_for(record, schema)
    try:
        return codec.encode_key(image)
    except _ENCODE_ERRORS as exc:
        raise TypeMappingError(
            f"the key of a row of {record.database}.{record.table} cannot be encoded: {exc}",
            hint="the row does not match its table schema",
        ) from None


def decode_record(data: bytes, lookup: SchemaLookup) -> ChangeRecord:
    """The record in ``data``; ``lookup`` gives the table version its row images use."""
    decode = _envelope_decoder(data)

    def decode_images(database: str, table: str, version: int, before: bytes | None,
                      after: bytes | None) -> tuple[Row | None, Row | None]:
        if before is None and after is None:
            return None, None
        schema = lookup(database, table, version)
        if (schema.database, schema.table, schema.version) != (database, table, version):
            raise RecordFormatError(
                f"the schema lookup for {database}.{table} v{version} returned "
                f"{schema.qualified_name} v{schema.version}")
        codec = row_codec(schema)
        return _decode_image(codec, before, "before"), _decode_image(codec, after, "after")

    try:
        return decode(data, decode_images)
    except (AvroDecodeError, ValueError) as exc:
        raise RecordFormatError(f"a changelog record is corrupt or truncated: {exc}") from None


def decode_envelope_only(data: bytes) -> ChangeRecord:
    """The record in ``data`` with its row images left out (None): its operation, table and
    positions, without needing the schemas topic."""
    decode = _envelope_decoder(data)
    try:
        return decode(data, lambda *_: (None, None))
    except (AvroDecodeError, ValueError) as exc:
        raise RecordFormatError(f"a changelog record is corrupt or truncated: {exc}") from None


def _codec_for(record: ChangeRecord, schema: TableSchema | None) -> RowCodec:
    if schema is None:
        raise TypeMappingError(
            f"a {record.operation.value} of {record.database}.{record.table} has a row image "
            "but no table schema to encode it with")
    if (schema.database, schema.table, schema.version) != (
            record.database, record.table, record.schema_version):
        raise TypeMappingError(
            f"a record of {record.database}.{record.table} v{record.schema_version} was given "
            f"the schema of {schema.qualified_name} v{schema.version}")
    return row_codec(schema)


def _encode_image(codec: RowCodec, row: Row | None, which: str) -> bytes | None:
    if row is None:
        return None
    try:
        return codec.encode(row)
    except _ENCODE_ERRORS as exc:
        schema = codec.table_schema
        raise TypeMappingError(
            f"the {which} image of a row of {schema.qualified_name} v{schema.version} cannot "
            f"be encoded: {type(exc).__name__}: {exc}",
            hint="the row does not match its table schema; capture stops rather than change it",
        ) from None


def _envelope_decoder(data: bytes) -> Callable[[bytes, ImageDecoder], ChangeRecord]:
    if data[:2] != SINGLE_OBJECT_MARKER:
        raise RecordFormatError(
            f"not a changelog record: it starts with {data[:2].hex() or 'nothing'}, not the "
            "Avro single-object marker c301",
            hint="the topic holds foreign data; check the topic name and prefix",
        )
    decode = ENVELOPE_DECODERS.get(data[:HEADER_SIZE])
    if decode is None:
        raise RecordFormatError(
            f"unknown changelog envelope fingerprint {data[2:HEADER_SIZE].hex()}",
            hint="the record was written by a newer (or foreign) version; upgrade the reader",
        )
    return decode


def _decode_image(codec: RowCodec, data: bytes | None, which: str) -> Row | None:
    if data is None:
        return None
    try:
        return codec.decode(data)
    except (AvroDecodeError, ValueError, IndexError) as exc:
        schema = codec.table_schema
        raise RecordFormatError(
            f"the {which} image of {schema.qualified_name} v{schema.version} is corrupt or was "
            f"written with another schema: {exc}") from None
