"""Avro schemas of row images, one per table version, parsed once and cached.

Each column becomes a field ``["null", T]`` in column order, T from ``column_types``. Avro
field names allow only ``[A-Za-z_][A-Za-z0-9_]*``, so other column names are rewritten to a
unique legal name and the original is kept in the field's ``mysql.name`` attribute; the codec
maps fields by position, so the rewriting never affects the values.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from fastavro import parse_schema

from cdc.avro.binary import AvroDecodeError, Reader, write_string
from cdc.avro.column_types import avro_column_type
from cdc.changes import Column, Row, TableSchema

_AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9_]")
ROW_NAMESPACE = "cdc.rows"
KEY_NAMESPACE = "cdc.keys"


def avro_field_names(columns: tuple[Column, ...]) -> tuple[str, ...]:
    """Legal, unique Avro field names for the columns, in order; legal names are kept as is."""
    taken = {c.name for c in columns if _AVRO_NAME.fullmatch(c.name)}
    names = []
    for index, column in enumerate(columns):
        if _AVRO_NAME.fullmatch(column.name):
            names.append(column.name)
            continue
        base = _NOT_NAME_CHARACTER.sub("_", column.name)
        candidate = base if base and not base[0].isdigit() else f"_{base}"
        while candidate in taken:
            candidate = f"{candidate}_{index}"
        taken.add(candidate)
        names.append(candidate)
    return tuple(names)


def _mysql_type(column: Column) -> str:
    text = column.type
    if column.type == "decimal":
        text += f"({column.precision},{column.scale})"
    elif column.type in ("bit", "char", "varchar", "binary", "varbinary") and column.precision:
        text += f"({column.precision})"
    elif column.type in ("time", "datetime", "timestamp") and column.scale:
        text += f"({column.scale})"
    return text + (" unsigned" if column.unsigned else "")


def avro_row_schema(schema: TableSchema) -> dict[str, Any]:
    """The Avro record schema (unparsed JSON form) of one table version's row images."""
    fields = []
    for column, name in zip(schema.columns, avro_field_names(schema.columns), strict=True):
        field: dict[str, Any] = {
            "name": name,
            "type": ["null", avro_column_type(column).avro_type],
            "default": None,
            "mysql.type": _mysql_type(column),
        }
        if name != column.name:
            field["mysql.name"] = column.name
        fields.append(field)
    return {
        "type": "record",
        "name": "Row",
        "namespace": ROW_NAMESPACE,
        "mysql.table": schema.qualified_name,
        "cdc.schema_version": schema.version,
        "fields": fields,
    }


def avro_key_schema(schema: TableSchema) -> dict[str, Any]:
    """The Avro record schema of a row's key: database, table, then the key columns."""
    key_columns = tuple(schema.column(name) for name in schema.primary_key)
    fields: list[dict[str, Any]] = [{"name": "database", "type": "string"},
                                    {"name": "table", "type": "string"}]
    for column, name in zip(key_columns, avro_field_names(key_columns), strict=True):
        fields.append({"name": f"key_{name}", "type": avro_column_type(column).avro_type})
    return {"type": "record", "name": "Key", "namespace": KEY_NAMESPACE, "fields": fields}


class RowCodec:
    """Encodes and decodes the row images of one table version, and their keys.

    The bytes are the Avro binary encoding of ``avro_schema`` (and of ``key_avro_schema``),
    written by ``cdc.avro.binary`` rather than fastavro for speed.
    """

    def __init__(self, schema: TableSchema) -> None:
        self.table_schema = schema
        self.avro_schema = parse_schema(avro_row_schema(schema))
        kinds = {column.name: avro_column_type(column) for column in schema.columns}
        self._writers = tuple((name, kind.write) for name, kind in kinds.items())
        self._readers = tuple((name, kind.read) for name, kind in kinds.items())
        self._key_writers = tuple((name, kinds[name].write) for name in schema.primary_key)
        self.key_avro_schema = (parse_schema(avro_key_schema(schema))
                                if schema.primary_key else None)
        prefix = bytearray()
        write_string(prefix, schema.database)
        write_string(prefix, schema.table)
        self._key_prefix = bytes(prefix)

    def encode(self, row: Row) -> bytes:
        out = bytearray()
        self.encode_into(out, row)
        return bytes(out)

    def encode_into(self, out: bytearray, row: Row) -> None:
        """Append the row's encoding to ``out``, as consecutive rows sit in a container block.

        On an error ``out`` may hold part of the row."""
        if len(row) != len(self._writers):
            raise ValueError(f"the row has {len(row)} values, the schema {len(self._writers)} "
                             "columns")
        append = out.append
        name = ""
        try:
            for name, write in self._writers:
                value = row[name]
                if value is None:
                    append(_NULL_BRANCH)
                else:
                    append(_VALUE_BRANCH)
                    write(out, value)
        except (ValueError, TypeError, AttributeError, OverflowError, struct.error) as exc:
            raise ValueError(f"column {name!r}: {exc}") from None

    def decode(self, data: bytes) -> Row:
        reader = Reader(data)
        row = self.decode_from(reader)
        if not reader.at_end():
            raise AvroDecodeError(
                f"{len(data) - reader.position} bytes after the last column")
        return row

    def decode_from(self, reader: Reader) -> Row:
        """The row at the reader's position, leaving the reader just past it.

        Consecutive calls read consecutive rows, as they sit in a container file's block."""
        row: Row = {}
        for name, read in self._readers:
            row[name] = read(reader) if reader.read_branch(2) else None
        return row

    def encode_key(self, row: Row) -> bytes | None:
        """The key columns' values, deterministically encoded; None without a primary key."""
        if not self._key_writers:
            return None
        out = bytearray(self._key_prefix)
        for name, write in self._key_writers:
            value = row[name]
            if value is None:
                raise ValueError(f"key column {name!r} is NULL")
            write(out, value)
        return bytes(out)


# The two branches of every column's ["null", T] union, as their one-byte zig-zag varints.
_NULL_BRANCH, _VALUE_BRANCH = 0, 2


# The codec of a version is looked up per row change: by name first, then confirmed by
# identity (cheap) or equality, so a different shape under a reused version is never misread.
_CODECS: dict[tuple[str, str, int], RowCodec] = {}
_CODEC_CACHE_LIMIT = 4096


def row_codec(schema: TableSchema) -> RowCodec:
    """The cached codec of a table version."""
    key = (schema.database, schema.table, schema.version)
    codec = _CODECS.get(key)
    if codec is not None and (codec.table_schema is schema or codec.table_schema == schema):
        return codec
    codec = RowCodec(schema)
    if len(_CODECS) >= _CODEC_CACHE_LIMIT:
        _CODECS.clear()
    _CODECS[key] = codec
    return codec
