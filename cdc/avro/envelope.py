"""The changelog record envelope and its Avro single-object framing.

The published schema is ``schemas/changelog-record-v1.avsc``. The same schema is kept here so
an installed package needs no file from the source tree; a unit test holds the two to the same
fingerprint. A record is ``C3 01`` + the 8-byte little-endian CRC-64-AVRO fingerprint of the
envelope schema + the Avro body, so a reader can tell which envelope version wrote it. The body
is written field by field in the schema's order (``cdc.avro.binary``; see there for why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from cdc.avro.binary import (
    AvroDecodeError,
    Reader,
    write_boolean,
    write_bytes,
    write_long,
    write_string,
)
from cdc.changes import ChangeRecord, Operation, Row, SourcePosition

SINGLE_OBJECT_MARKER = b"\xc3\x01"
HEADER_SIZE = len(SINGLE_OBJECT_MARKER) + 8

ENVELOPE_V1: dict[str, Any] = {
    "type": "record",
    "name": "ChangeRecord",
    "namespace": "cdc.changelog",
    "fields": [
        {"name": "operation", "type": {
            "type": "enum", "name": "Operation",
            "symbols": ["INSERT", "UPDATE", "DELETE", "DDL", "HEARTBEAT"]}},
        {"name": "database", "type": "string"},
        {"name": "table", "type": "string"},
        {"name": "schema_version", "type": "long"},
        {"name": "before", "type": ["null", "bytes"], "default": None},
        {"name": "after", "type": ["null", "bytes"], "default": None},
        {"name": "statement", "type": ["null", "string"], "default": None},
        {"name": "gtid", "type": "string"},
        {"name": "gtid_position", "type": "string"},
        {"name": "server_id", "type": "long"},
        {"name": "binlog_file", "type": "string"},
        {"name": "binlog_position", "type": "long"},
        {"name": "commit_time_us", "type": "long"},
        {"name": "transaction_index", "type": "long"},
        {"name": "transaction_last", "type": "boolean"},
    ],
}


def schema_fingerprint(schema: str | dict[str, Any]) -> bytes:
    """The 8 bytes of single-object encoding: CRC-64-AVRO of the canonical form, little-endian."""
    canonical = to_parsing_canonical_form(parse_schema(schema))
    return bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


PARSED_ENVELOPE_V1 = parse_schema(ENVELOPE_V1)
ENVELOPE_V1_HEADER = SINGLE_OBJECT_MARKER + schema_fingerprint(ENVELOPE_V1)

_OPERATION_SYMBOLS: list[str] = ENVELOPE_V1["fields"][0]["type"]["symbols"]
_OPERATION_INDEX = {operation: _OPERATION_SYMBOLS.index(operation.name)
                    for operation in Operation}
_OPERATIONS = [Operation[symbol] for symbol in _OPERATION_SYMBOLS]


ImageDecoder = Callable[[str, str, int, bytes | None, bytes | None],
                        tuple[Row | None, Row | None]]
"""(database, table, schema version, before bytes, after bytes) -> the decoded images."""


def encode_envelope(record: ChangeRecord, before: bytes | None, after: bytes | None) -> bytes:
    """The single-object encoding of the v1 envelope, with the images already encoded."""
    out = bytearray(ENVELOPE_V1_HEADER)
    write_long(out, _OPERATION_INDEX[record.operation])
    write_string(out, record.database)
    write_string(out, record.table)
    write_long(out, record.schema_version)
    for image in (before, after):
        if image is None:
            out.append(0)
        else:
            out.append(2)
            write_bytes(out, image)
    if record.statement is None:
        out.append(0)
    else:
        out.append(2)
        write_string(out, record.statement)
    position = record.position
    write_string(out, position.gtid)
    write_string(out, position.gtid_position)
    write_long(out, position.server_id)
    write_string(out, position.binlog_file)
    write_long(out, position.binlog_position)
    write_long(out, record.commit_time_us)
    write_long(out, record.transaction_index)
    write_boolean(out, record.transaction_last)
    return bytes(out)


def decode_envelope_v1(data: bytes, decode_images: ImageDecoder) -> ChangeRecord:
    """The record after a v1 header; raises AvroDecodeError for bytes that do not fit."""
    reader = Reader(data, HEADER_SIZE)
    operation = _OPERATIONS[reader.read_branch(len(_OPERATIONS))]
    database, table = reader.read_string(), reader.read_string()
    schema_version = reader.read_long()
    before = reader.read_bytes() if reader.read_branch(2) else None
    after = reader.read_bytes() if reader.read_branch(2) else None
    statement = reader.read_string() if reader.read_branch(2) else None
    position = SourcePosition(
        gtid=reader.read_string(),
        gtid_position=reader.read_string(),
        server_id=reader.read_long(),
        binlog_file=reader.read_string(),
        binlog_position=reader.read_long(),
    )
    commit_time_us, transaction_index = reader.read_long(), reader.read_long()
    transaction_last = reader.read_boolean()
    if not reader.at_end():
        raise AvroDecodeError(f"{len(data) - reader.position} bytes after the record's end")
    before_row, after_row = decode_images(database, table, schema_version, before, after)
    return ChangeRecord(
        operation=operation, database=database, table=table, schema_version=schema_version,
        before=before_row, after=after_row, statement=statement, position=position,
        commit_time_us=commit_time_us, transaction_index=transaction_index,
        transaction_last=transaction_last,
    )


ENVELOPE_DECODERS = {ENVELOPE_V1_HEADER: decode_envelope_v1}
"""Envelope decoders by their single-object header; a new envelope version adds an entry."""
