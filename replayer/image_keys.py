"""A row image's primary key as the bytes that encode it, without decoding the row (pure).

Set-based replay (``replayer.change_groups``) names rows by their keys. An image is the Avro
encoding of its table version's columns in order, each deterministic for its value, so the
bytes of the key columns name the row as well as their values do, and reading them means
stepping over the columns before the last key column only, with the codec's own readers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from cdc.avro.binary import Reader
from cdc.avro.column_types import avro_column_type
from cdc.changes import TableSchema
from replayer.change_groups import RowKey

KeyOf = Callable[[bytes], RowKey]


class NoKeyError(ValueError):
    """The table version has no primary key, or a key column is NULL in the image."""


@lru_cache(maxsize=256)
def key_reader(schema: TableSchema) -> KeyOf:
    """The function from an image of ``schema`` to its key's bytes; raises ``NoKeyError``
    for a table without a primary key; the function raises ``NoKeyError`` for a NULL key and
    ``AvroDecodeError`` or ``IndexError`` for an image that does not decode."""
    if not schema.primary_key:
        raise NoKeyError(f"{schema.qualified_name} has no primary key")
    wanted = {schema.columns.index(schema.column(name)) for name in schema.primary_key}
    order = [schema.columns.index(schema.column(name)) for name in schema.primary_key]
    last = max(wanted)
    reads = [avro_column_type(column).read for column in schema.columns[:last + 1]]

    def key_of(image: bytes) -> RowKey:
        reader = Reader(image)
        found: dict[int, bytes] = {}
        for index, read in enumerate(reads):
            start = reader.position
            if reader.read_branch(2):
                read(reader)
            elif index in wanted:
                raise NoKeyError(f"key column {schema.columns[index].name!r} is NULL")
            if index in wanted:
                found[index] = image[start:reader.position]
        return tuple(found[index] for index in order)

    return key_of
