"""Table schemas as records of the compacted schemas topic.

The value is canonical JSON (sorted keys, no spaces, UTF-8) of every field of ``TableSchema``,
so equal schemas give equal bytes; the key names the table version, so compaction keeps one
record per version.
"""

from __future__ import annotations

import json
from typing import Any

from cdc.avro.errors import RecordFormatError
from cdc.changes import Column, TableSchema

FORMAT = "cdc.table-schema.v1"


def schema_topic_key(database: str, table: str, version: int) -> bytes:
    """The schemas-topic key of one table version: a JSON array, unambiguous for any name."""
    return _canonical_json([database, table, version])


def table_schema_to_bytes(schema: TableSchema) -> bytes:
    return _canonical_json({
        "format": FORMAT,
        "database": schema.database,
        "table": schema.table,
        "version": schema.version,
        "primary_key": list(schema.primary_key),
        "columns": [_column_to_json(column) for column in schema.columns],
    })


def table_schema_from_bytes(data: bytes) -> TableSchema:
    try:
        document = json.loads(data.decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        schema = TableSchema(
            database=_typed(document, "database", str),
            table=_typed(document, "table", str),
            version=_typed(document, "version", int),
            columns=tuple(_column_from_json(c) for c in _typed(document, "columns", list)),
            primary_key=tuple(_strings(_typed(document, "primary_key", list))),
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordFormatError(
            f"a schemas-topic record is not a table schema: {exc}",
            hint="the schemas topic holds foreign or corrupt data; check the topic prefix",
        ) from None
    names = {column.name for column in schema.columns}
    if len(names) != len(schema.columns) or not set(schema.primary_key) <= names:
        raise RecordFormatError(
            f"the schema of {schema.qualified_name} v{schema.version} repeats a column or keys "
            "on a column it does not have")
    return schema


def _column_to_json(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": column.type,
        "unsigned": column.unsigned,
        "precision": column.precision,
        "scale": column.scale,
        "charset": column.charset,
        "members": list(column.members),
        "nullable": column.nullable,
    }


def _column_from_json(document: object) -> Column:
    if not isinstance(document, dict):
        raise ValueError("a column is not an object")
    return Column(
        name=_typed(document, "name", str),
        type=_typed(document, "type", str),
        unsigned=_typed(document, "unsigned", bool),
        precision=_optional_int(document, "precision"),
        scale=_optional_int(document, "scale"),
        charset=_typed(document, "charset", str) if document.get("charset") is not None else None,
        members=tuple(_strings(_typed(document, "members", list))),
        nullable=_typed(document, "nullable", bool),
    )


def _typed(document: dict[str, Any], name: str, kind: type[Any]) -> Any:
    value = document.get(name)
    # bool is an int in Python; a flag must not pass for a number, nor a number for a flag.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name!r} is not a {kind.__name__}: {value!r}")
    return value


def _optional_int(document: dict[str, Any], name: str) -> int | None:
    return None if document.get(name) is None else int(_typed(document, name, int))


def _strings(values: list[Any]) -> list[str]:
    if not all(isinstance(value, str) for value in values):
        raise ValueError(f"expected strings: {values!r}")
    return values


def _canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")
