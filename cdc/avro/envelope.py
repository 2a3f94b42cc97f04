"""The changelog record envelope and its Avro single-object framing.

The published schemas are ``schemas/changelog-record-v1.avsc`` and ``-v2.avsc``. The same
schemas are kept here so an installed package needs no file from the source tree; a unit test
holds each pair to the same fingerprint. A record is ``C3 01`` + the 8-byte little-endian
CRC-64-AVRO fingerprint of the envelope schema + the Avro body, so a reader can tell which
envelope version wrote it. The body is written field by field in the schema's order
(``cdc.avro.binary``; see there for why).

v2 differs from v1 only by the ``START`` operation appended to the enum (the record a first
start commits, naming where the changelog begins), so both bodies read alike: capture writes
v2, and every reader takes both.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

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

_native_envelope: Any
_native_fields: Any
try:  # capture's compiled fast path builds (and reads) the record's bytes too, when it is built
    _native = importlib.import_module("cdc.binlog._fastrows")
    _native_envelope, _native_fields = _native.envelope, _native.envelope_fields
except (ImportError, AttributeError):
    _native_envelope = _native_fields = None
if os.environ.get("CDC_PURE_PYTHON", "") in ("1", "true"):
    _native_envelope = _native_fields = None

SINGLE_OBJECT_MARKER = b"\xc3\x01"
HEADER_SIZE = len(SINGLE_OBJECT_MARKER) + 8

_V1_OPERATIONS = ["INSERT", "UPDATE", "DELETE", "DDL", "HEARTBEAT"]
_V2_OPERATIONS = [*_V1_OPERATIONS, "START"]


def _envelope(operations: list[str]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "ChangeRecord",
        "namespace": "cdc.changelog",
        "fields": [
            {"name": "operation", "type": {
                "type": "enum", "name": "Operation", "symbols": operations}},
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


ENVELOPE_V1 = _envelope(_V1_OPERATIONS)
ENVELOPE_V2 = _envelope(_V2_OPERATIONS)


def schema_fingerprint(schema: str | dict[str, Any]) -> bytes:
    """The 8 bytes of single-object encoding: CRC-64-AVRO of the canonical form, little-endian."""
    canonical = to_parsing_canonical_form(parse_schema(schema))
    return bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


PARSED_ENVELOPE_V1 = parse_schema(ENVELOPE_V1)
PARSED_ENVELOPE_V2 = parse_schema(ENVELOPE_V2)
ENVELOPE_V1_HEADER = SINGLE_OBJECT_MARKER + schema_fingerprint(ENVELOPE_V1)
ENVELOPE_V2_HEADER = SINGLE_OBJECT_MARKER + schema_fingerprint(ENVELOPE_V2)

_OPERATION_INDEX = {operation: _V2_OPERATIONS.index(operation.name) for operation in Operation}
_OPERATIONS_BY_HEADER = {
    ENVELOPE_V1_HEADER: [Operation[symbol] for symbol in _V1_OPERATIONS],
    ENVELOPE_V2_HEADER: [Operation[symbol] for symbol in _V2_OPERATIONS],
}


ImageDecoder = Callable[[str, str, int, bytes | None, bytes | None],
                        tuple[Row | None, Row | None]]
"""(database, table, schema version, before bytes, after bytes) -> the decoded images."""


def compiled() -> bool:
    """Whether records are put together by the compiled module."""
    return _native_envelope is not None


def encode_envelope(record: ChangeRecord, before: bytes | None, after: bytes | None) -> bytes:
    """The single-object encoding of the v2 envelope, with the images already encoded."""
    if _native_envelope is None:
        return encode_envelope_in_python(record, before, after)
    return encode_parts(record.operation, record.database, record.table, record.schema_version,
                        before=before, after=after, statement=record.statement,
                        position=record.position, commit_time_us=record.commit_time_us,
                        transaction_index=record.transaction_index,
                        transaction_last=record.transaction_last)


def encode_parts(operation: Operation, database: str, table: str, schema_version: int, *,
                 before: bytes | None, after: bytes | None, statement: str | None,
                 position: SourcePosition, commit_time_us: int, transaction_index: int,
                 transaction_last: bool) -> bytes:
    """``encode_envelope`` of a record given as its fields (none built for it)."""
    head = _head(operation, database, table, schema_version)
    source = _source(position.gtid, position.gtid_position, position.server_id,
                     position.binlog_file)
    if _native_envelope is not None:
        encoded: bytes = _native_envelope(
            head, before, after, statement, source, position.binlog_position, commit_time_us,
            transaction_index, transaction_last)
        return encoded
    out = bytearray(head)
    _write_images(out, before, after, statement)
    out += source
    write_long(out, position.binlog_position)
    write_long(out, commit_time_us)
    write_long(out, transaction_index)
    write_boolean(out, transaction_last)
    return bytes(out)


def _write_images(out: bytearray, before: bytes | None, after: bytes | None,
                  statement: str | None) -> None:
    for image in (before, after):
        if image is None:
            out.append(0)
        else:
            out.append(2)
            write_bytes(out, image)
    if statement is None:
        out.append(0)
    else:
        out.append(2)
        write_string(out, statement)


def encode_envelope_in_python(record: ChangeRecord, before: bytes | None,
                              after: bytes | None) -> bytes:
    """The reference of ``encode_envelope`` (which the compiled module does the same as)."""
    position = record.position
    out = bytearray(_head(record.operation, record.database, record.table,
                          record.schema_version))
    _write_images(out, before, after, record.statement)
    out += _source(position.gtid, position.gtid_position, position.server_id,
                   position.binlog_file)
    write_long(out, position.binlog_position)
    write_long(out, record.commit_time_us)
    write_long(out, record.transaction_index)
    write_boolean(out, record.transaction_last)
    return bytes(out)


# The fields every record of a table version, or of a source transaction, shares: encoded
# once (capture writes tens of thousands of records a second).
@lru_cache(maxsize=4096)
def _head(operation: Operation, database: str, table: str, schema_version: int) -> bytes:
    out = bytearray(ENVELOPE_V2_HEADER)
    write_long(out, _OPERATION_INDEX[operation])
    write_string(out, database)
    write_string(out, table)
    write_long(out, schema_version)
    return bytes(out)


@lru_cache(maxsize=1024)
def _source(gtid: str, gtid_position: str, server_id: int, binlog_file: str) -> bytes:
    out = bytearray()
    write_string(out, gtid)
    write_string(out, gtid_position)
    write_long(out, server_id)
    write_string(out, binlog_file)
    return bytes(out)


def decode_envelope(data: bytes, decode_images: ImageDecoder) -> ChangeRecord:
    """The record after a v1 or v2 header; raises AvroDecodeError for bytes that do not fit
    (an unknown header included)."""
    operations = _OPERATIONS_BY_HEADER.get(data[:HEADER_SIZE])
    if operations is None:
        raise AvroDecodeError(f"unknown envelope header {data[:HEADER_SIZE].hex()}")
    reader = Reader(data, HEADER_SIZE)
    operation = operations[reader.read_branch(len(operations))]
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


class EnvelopeFields(NamedTuple):
    """A record's envelope as plain values, its images left as bytes: what reading the
    changelog fast needs (``decode_envelope`` builds the whole ``ChangeRecord``)."""

    operation: Operation
    database: str
    table: str
    schema_version: int
    before: bytes | None
    after: bytes | None
    gtid: str
    gtid_position: str
    commit_time_us: int
    transaction_index: int
    transaction_last: bool


def envelope_fields(data: bytes) -> EnvelopeFields:
    """The envelope of a v1 or v2 record, by the compiled module when it is built; raises
    AvroDecodeError for bytes that do not fit (as ``decode_envelope``)."""
    operations = _OPERATIONS_BY_HEADER.get(data[:HEADER_SIZE])
    if operations is None:
        raise AvroDecodeError(f"unknown envelope header {data[:HEADER_SIZE].hex()}")
    read = fields_in_python if _native_fields is None else _native_fields
    try:
        fields = read(data, HEADER_SIZE)
    except ValueError as exc:  # UnicodeDecodeError included
        raise AvroDecodeError(f"a changelog record does not decode: {exc}") from None
    if not 0 <= fields[0] < len(operations):
        raise AvroDecodeError(f"operation {fields[0]} is not one of the envelope's")
    return EnvelopeFields(operations[fields[0]], *fields[1:])


def fields_in_python(data: bytes, start: int) -> tuple[Any, ...]:
    """The reference of the compiled ``envelope_fields``: the same tuple, the operation as
    its index."""
    reader = Reader(data, start)
    operation = reader.read_long()
    database, table = reader.read_string(), reader.read_string()
    schema_version = reader.read_long()
    before = reader.read_bytes() if reader.read_branch(2) else None
    after = reader.read_bytes() if reader.read_branch(2) else None
    if reader.read_branch(2):
        reader.read_bytes()  # the statement
    gtid, gtid_position = reader.read_string(), reader.read_string()
    reader.read_long()  # server id
    reader.read_bytes()  # binlog file
    reader.read_long()  # binlog position
    commit_time_us, transaction_index = reader.read_long(), reader.read_long()
    transaction_last = reader.read_boolean()
    if not reader.at_end():
        raise AvroDecodeError(f"{len(data) - reader.position} bytes after the record's end")
    return (operation, database, table, schema_version, before, after, gtid, gtid_position,
            commit_time_us, transaction_index, transaction_last)


ENVELOPE_DECODERS = dict.fromkeys(_OPERATIONS_BY_HEADER, decode_envelope)
"""Envelope decoders by their single-object header; a new envelope version adds an entry."""
