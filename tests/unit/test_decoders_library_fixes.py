"""The patches to the binlog library and the table-map conversion, without a server."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pymysqlreplication.column import Column as LibraryColumn
from pymysqlreplication.constants import FIELD_TYPE
from pymysqlreplication.row_event import RowsEvent, TableMapEvent
from pymysqlreplication.table import Table

from cdc.binlog import library_fixes
from cdc.binlog.columns import columns_from_table_map, primary_key_of
from cdc.changes import Column
from cdc.errors import SourceCheckError, TypeMappingError
from cdc.values import ZERO_DATETIME


class FakePacket:
    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def read(self, size: int) -> bytes:
        chunk = self.data[self.position:self.position + size]
        self.position += size
        return chunk


def _library_column(type_code: int, name: str, **attributes: Any) -> Any:
    defaults: dict[str, Any] = {"type": type_code, "name": name, "unsigned": False,
                                "is_primary": False, "charset_id": None,
                                "character_set_name": None, "collation_name": None,
                                "enum_values": None, "set_values": None, "visibility": False}
    return LibraryColumn(**(defaults | attributes))


def _table_map_event(columns: list[Any], nullable: list[bool], key: list[int]) -> Any:
    bitmask = bytearray((len(columns) + 7) // 8)
    for index, flag in enumerate(nullable):
        if flag:
            bitmask[index // 8] |= 1 << (index % 8)
    return SimpleNamespace(
        columns=columns, null_bitmask=bytes(bitmask),
        optional_metadata=SimpleNamespace(simple_primary_key_list=key,
                                          primary_keys_with_prefix={}),
        table_obj=Table(7, "shop", "payments", columns),
    )


def test_install_is_idempotent_and_patches_the_private_decoder() -> None:
    library_fixes.install()
    patched = RowsEvent._RowsEvent__read_values_name
    init = TableMapEvent.__init__
    library_fixes.install()
    assert library_fixes.installed()
    assert RowsEvent._RowsEvent__read_values_name is patched
    assert TableMapEvent.__init__ is init


def test_readers_use_the_exact_decoders() -> None:
    time2 = library_fixes._READERS[FIELD_TYPE.TIME2]
    column = SimpleNamespace(fsp=6)
    packet = FakePacket(bytes.fromhex("7f3d4ff33ee2ff"))
    value = time2(packet, column)
    assert value == -timedelta(hours=12, minutes=10, seconds=48, microseconds=835870)
    assert packet.position == 6
    timestamp2 = library_fixes._READERS[FIELD_TYPE.TIMESTAMP2]
    assert timestamp2(FakePacket(bytes(7)), SimpleNamespace(fsp=6)) == ZERO_DATETIME


def test_strings_are_decoded_by_their_character_set_and_binary_is_padded() -> None:
    read = library_fixes._READERS[FIELD_TYPE.VARCHAR]
    latin1 = SimpleNamespace(type=FIELD_TYPE.VARCHAR, max_length=20,
                             _cdc_decode=lambda data: data.decode("cp1252", "replace"))
    assert read(FakePacket(b"\x02\x80\xff"), latin1) == "€ÿ"
    binary = SimpleNamespace(type=FIELD_TYPE.STRING, max_length=4, _cdc_decode=None)
    assert library_fixes._READERS[FIELD_TYPE.STRING](FakePacket(b"\x01\x01"), binary) == (
        b"\x01\x00\x00\x00")
    wide = SimpleNamespace(type=FIELD_TYPE.VARCHAR, max_length=1020, _cdc_decode=None)
    assert read(FakePacket(b"\x03\x00abc"), wide) == b"abc"


def test_annotated_table_map_gives_columns_and_key_in_key_order() -> None:
    columns = [
        _library_column(FIELD_TYPE.LONGLONG, "id", unsigned=True),
        _library_column(FIELD_TYPE.VARCHAR, "code", max_length=40,
                        collation_name="utf8mb4_general_ci"),
        _library_column(FIELD_TYPE.ENUM, "state", size=1, collation_name="latin1_swedish_ci",
                        enum_values=["", b"\xfc", b"\x80"]),
        _library_column(FIELD_TYPE.SET, "tags", size=1, collation_name="utf8mb4_bin",
                        set_values=[b"a", b"b"]),
        _library_column(FIELD_TYPE.NEWDECIMAL, "amount", precision=19, decimals=4),
        _library_column(FIELD_TYPE.TIMESTAMP2, "at", fsp=6),
        _library_column(FIELD_TYPE.BLOB, "doc", length_size=4, collation_name="utf8mb4_bin"),
        _library_column(FIELD_TYPE.BLOB, "raw", length_size=2, collation_name="binary"),
        _library_column(FIELD_TYPE.BIT, "flag", bits=1, bytes=1),
    ]
    event = _table_map_event(columns, [False, False] + [True] * 7, key=[1, 0])
    library_fixes._annotate(event)
    table = event.table_obj
    assert primary_key_of(table) == ("code", "id")
    result = columns_from_table_map(table)
    assert result == (
        Column("id", "bigint", unsigned=True, nullable=False),
        Column("code", "varchar", precision=10, charset="utf8mb4", nullable=False),
        Column("state", "enum", charset="latin1", members=("ü", "€")),
        Column("tags", "set", charset="utf8mb4", members=("a", "b")),
        Column("amount", "decimal", precision=19, scale=4),
        Column("at", "timestamp", scale=6),
        Column("doc", "longtext", charset="utf8mb4"),
        Column("raw", "blob"),
        Column("flag", "bit", precision=1),
    )
    assert columns_from_table_map(table) is result
    assert columns[2].enum_values == ["", "ü", "€"]  # the library's ENUM reader uses these


def test_unsupported_character_sets_and_missing_metadata_are_refused() -> None:
    swe7 = [_library_column(FIELD_TYPE.VARCHAR, "name", max_length=10,
                            collation_name="swe7_swedish_ci")]
    event = _table_map_event(swe7, [True], key=[])
    library_fixes._annotate(event)
    with pytest.raises(TypeMappingError, match="'swe7'"):
        columns_from_table_map(event.table_obj)

    unnamed = [_library_column(FIELD_TYPE.LONG, None)]  # type: ignore[arg-type]
    event = _table_map_event(unnamed, [True], key=[])
    library_fixes._annotate(event)
    with pytest.raises(SourceCheckError, match="no column names"):
        columns_from_table_map(event.table_obj)

    with pytest.raises(TypeMappingError, match="without the library fixes"):
        columns_from_table_map(Table(8, "shop", "other", []))
