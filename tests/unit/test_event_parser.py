"""The binlog event layouts capture parses itself, on packets built as MariaDB sends them."""

from __future__ import annotations

import struct
import zlib

import pytest

from cdc.binlog import event_parser as ep


def packet(type_code: int, body: bytes, *, next_position: int = 1234, timestamp: int = 1700000000,
           server_id: int = 1001, checksum: bool = True) -> bytes:
    size = ep.HEADER_SIZE + len(body) + (ep.CHECKSUM_SIZE if checksum else 0)
    event = ep.HEADER.pack(timestamp, type_code, server_id, size, next_position, 0) + body
    if checksum:
        event += struct.pack("<I", zlib.crc32(event))
    return b"\x00" + event


def test_header_and_body_with_a_checksum() -> None:
    data = packet(ep.XID, b"\x07" * 8)
    header = ep.parse_header(data)
    assert (header.type_code, header.server_id, header.next_position, header.timestamp) == \
        (ep.XID, 1001, 1234, 1700000000)
    assert ep.event_body(data, header, checksum=True) == b"\x07" * 8
    plain = packet(ep.XID, b"\x07" * 8, checksum=False)
    assert ep.event_body(plain, ep.parse_header(plain), checksum=False) == b"\x07" * 8


def test_a_flipped_byte_fails_the_checksum() -> None:
    data = bytearray(packet(ep.XID, b"\x07" * 8))
    data[25] ^= 0x01
    with pytest.raises(ep.MalformedEventError, match="CRC32"):
        ep.event_body(bytes(data), ep.parse_header(bytes(data)), checksum=True)


def test_a_packet_shorter_than_its_event_is_refused() -> None:
    data = packet(ep.XID, b"\x07" * 8)
    with pytest.raises(ep.MalformedEventError, match="holds"):
        ep.event_body(data[:-3], ep.parse_header(data), checksum=True)
    with pytest.raises(ep.MalformedEventError, match="no event header"):
        ep.parse_header(b"\x00\x01")


def test_mariadb_gtid() -> None:
    body = struct.pack("<QIB", 42, 3, 1) + b"\x00" * 6
    assert ep.parse_mariadb_gtid(body) == (42, 3, 1)


def test_query_skips_status_variables_and_reads_schema_and_statement() -> None:
    status = b"\x00\x00\x00\x00\x00" + b"\x01" + b"\x00" * 8
    schema = "payments_\u00e9".encode()
    statement = b"ALTER TABLE t ADD COLUMN note VARCHAR(20)"
    body = (struct.pack("<IIBHH", 7, 0, len(schema), 0, len(status)) + status + schema + b"\x00"
            + statement)
    assert ep.parse_query(body) == ("payments_\u00e9", statement.decode())
    with pytest.raises(ep.MalformedEventError):
        ep.parse_query(body[:13 + len(status) + 2])


def test_rotate() -> None:
    assert ep.parse_rotate(struct.pack("<Q", 4) + b"mariadb-bin.000042") == \
        (4, "mariadb-bin.000042")


def _rows_header(table_id: int, columns: int) -> bytes:
    return table_id.to_bytes(6, "little") + b"\x01\x00" + bytes([columns])


def test_rows_v1_insert_update_delete() -> None:
    inserted = ep.parse_rows(ep.WRITE_ROWS_V1, _rows_header(77, 9) + b"\xff\x01" + b"ROWS")
    assert (inserted.table_id, inserted.present, inserted.present_after, inserted.rows) == \
        (77, b"\xff\x01", None, b"ROWS")
    updated = ep.parse_rows(ep.UPDATE_ROWS_V1, _rows_header(78, 3) + b"\x07\x07" + b"AB")
    assert (updated.table_id, updated.present, updated.present_after, updated.rows) == \
        (78, b"\x07", b"\x07", b"AB")
    assert ep.ROWS_KIND[ep.DELETE_ROWS_V1] == "delete"


def test_rows_v2_skip_their_extra_data() -> None:
    body = (5).to_bytes(6, "little") + b"\x00\x00" + b"\x05\x00\xaa\xbb\xcc" + b"\x02" + b"\x03R"
    rows = ep.parse_rows(ep.WRITE_ROWS_V2, body)
    assert (rows.table_id, rows.present, rows.rows) == (5, b"\x03", b"R")


def test_rows_with_many_columns_use_a_length_encoded_count() -> None:
    body = (9).to_bytes(6, "little") + b"\x00\x00" + b"\xfc" + (300).to_bytes(2, "little")
    body += b"\xff" * 38 + b"rest"
    rows = ep.parse_rows(ep.DELETE_ROWS_V1, body)
    assert len(rows.present) == 38
    assert rows.rows == b"rest"


def test_a_rows_event_cut_inside_its_header_is_refused() -> None:
    with pytest.raises(ep.MalformedEventError):
        ep.parse_rows(ep.UPDATE_ROWS_V1, _rows_header(1, 16) + b"\xff\xff\xff")


def test_table_id() -> None:
    assert ep.table_id_of((2**40 + 5).to_bytes(6, "little") + b"xx") == 2**40 + 5
