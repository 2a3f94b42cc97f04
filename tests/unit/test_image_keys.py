"""A row image's key read as bytes without decoding the row: exactly the key's encoding, for
key columns of every family behind columns of every family; NULL keys and missing keys
refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdc.avro.binary import AvroDecodeError, write_string
from cdc.avro.row_schema import row_codec
from cdc.changes import Column, TableSchema
from replayer.image_keys import NoKeyError, key_reader
from tests.unit.test_bulk_text import FAMILIES

NAMES = sorted(FAMILIES)


def _schema(before: str, key: str, after: str) -> TableSchema:
    columns = tuple(Column(name, FAMILIES[family][0].type, precision=FAMILIES[family][0].precision,
                           scale=FAMILIES[family][0].scale, unsigned=FAMILIES[family][0].unsigned,
                           charset=FAMILIES[family][0].charset,
                           members=FAMILIES[family][0].members)
                    for name, family in (("a", before), ("k", key), ("z", after)))
    return TableSchema("shop", f"t_{abs(hash((before, key, after)))}", 1, columns, ("k",))


@st.composite
def keyed_rows(draw: st.DrawFn) -> tuple[TableSchema, dict[str, Any]]:
    families = [draw(st.sampled_from(NAMES)) for _ in range(3)]
    schema = _schema(*families)
    row = {name: draw(st.none() | FAMILIES[family][1]) if name != "k"
           else draw(FAMILIES[family][1]) for name, family in zip("akz", families, strict=True)}
    return schema, row


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(keyed_rows())
def test_the_key_is_the_encoding_of_the_key_columns(case: tuple[TableSchema, dict[str, Any]]
                                                    ) -> None:
    schema, row = case
    codec = row_codec(schema)
    try:
        image = codec.encode(row)
    except ValueError:
        return  # a value the column cannot hold: capture never writes it
    (key,) = key_reader(schema)(image)
    names = bytearray()  # encode_key's prefix
    write_string(names, schema.database)
    write_string(names, schema.table)
    assert key[:1] == b"\x02"  # the union's value branch, then the value as encode_key writes it
    assert key[1:] == (codec.encode_key(row) or b"")[len(names):]


def test_a_compound_key_comes_in_the_key_order_not_the_column_order() -> None:
    schema = TableSchema("shop", "pairs", 1, (Column("a", "int"), Column("b", "varchar",
                                                                          precision=10,
                                                                          charset="utf8mb4")),
                         ("b", "a"))
    image = row_codec(schema).encode({"a": 5, "b": "x"})
    assert key_reader(schema)(image) == (b"\x02\x02x", b"\x02\x0a")


def test_no_key_a_null_key_and_a_truncated_image_are_refused() -> None:
    keyless = TableSchema("shop", "log", 1, (Column("a", "int"),), ())
    with pytest.raises(NoKeyError):
        key_reader(keyless)
    keyed = TableSchema("shop", "t", 1, (Column("a", "int"), Column("k", "int")), ("k",))
    with pytest.raises(NoKeyError):
        key_reader(keyed)(b"\x00\x00")  # a NULL, then a NULL key
    with pytest.raises(AvroDecodeError):
        key_reader(keyed)(b"\x02")  # a value announced, and nothing after it
