"""The compiled row decoder, on row images built byte by byte as the server writes them."""

from __future__ import annotations

import pickle
import struct
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdc.binlog import row_decoder as rd
from cdc.changes import Column
from cdc.errors import SourceCheckError, TypeMappingError
from cdc.values import ZERO_DATETIME, ZeroDate

_BYTES_FOR_DIGITS = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


def decimal_to_binary(value: Decimal, precision: int, scale: int) -> bytes:
    """MySQL's decimal2bin, written independently of the decoder."""
    negative = value < 0
    text = format(value.copy_abs(), f".{scale}f")
    integral, _, fraction = text.partition(".")
    integral_digits = precision - scale
    integral = integral.lstrip("0").rjust(integral_digits, "0")
    out = bytearray()
    lead = integral_digits % 9
    if lead:
        out += int(integral[:lead]).to_bytes(_BYTES_FOR_DIGITS[lead], "big")
    for i in range(lead, integral_digits, 9):
        out += int(integral[i:i + 9]).to_bytes(4, "big")
    whole = scale // 9 * 9
    for i in range(0, whole, 9):
        out += int(fraction[i:i + 9]).to_bytes(4, "big")
    if scale % 9:
        out += int(fraction[whole:]).to_bytes(_BYTES_FOR_DIGITS[scale % 9], "big")
    if negative:
        out = bytearray(b ^ 0xFF for b in out)
    out[0] ^= 0x80
    return bytes(out)


def layout(type_code: int, column: Column, length: int = 0) -> rd.ColumnLayout:
    return rd.ColumnLayout(type_code, length, column)


def one_value(layout_: rd.ColumnLayout, encoded: bytes) -> object:
    plan = rd.compile_plan("db.t", (layout_,))
    [(before, after)] = rd.decode_rows(plan, "insert", b"\x00" + encoded, b"\x01")
    assert before is None
    assert after is not None
    return after[layout_.column.name]


@pytest.mark.parametrize(("code", "unsigned", "encoded", "expected"), [
    (rd.TINY, False, b"\x80", -128),
    (rd.TINY, True, b"\xff", 255),
    (rd.SHORT, False, struct.pack("<h", -32768), -32768),
    (rd.SHORT, True, b"\xff\xff", 65535),
    (rd.INT24, False, b"\x00\x00\x80", -8388608),
    (rd.INT24, True, b"\xff\xff\xff", 16777215),
    (rd.LONG, False, struct.pack("<i", -2**31), -2**31),
    (rd.LONG, True, b"\xff" * 4, 2**32 - 1),
    (rd.LONGLONG, False, struct.pack("<q", -2**63), -2**63),
    (rd.LONGLONG, True, b"\xff" * 8, 18446744073709551615),
])
def test_integers_of_every_width_and_sign(code: int, unsigned: bool, encoded: bytes,
                                          expected: int) -> None:
    assert one_value(layout(code, Column("n", "int", unsigned=unsigned)), encoded) == expected


def test_float_is_the_exact_binary32_value_and_double_is_exact() -> None:
    single = struct.pack("<f", 0.1)
    assert one_value(layout(rd.FLOAT, Column("f", "float")), single) == \
        struct.unpack("<f", single)[0]
    assert one_value(layout(rd.DOUBLE, Column("d", "double")), struct.pack("<d", 0.1)) == 0.1


@pytest.mark.parametrize(("text", "precision", "scale"), [
    ("0.00", 10, 2), ("-0.01", 10, 2), ("1234567890.12", 12, 2), ("-1234567890.12", 12, 2),
    ("99999999999999999999999999999999999.999999999999999999999999999999", 65, 30),
    ("-99999999999999999999999999999999999.999999999999999999999999999999", 65, 30),
    ("-100000000000000000000000000000000000", 65, 0), ("7", 1, 0), ("0.5", 1, 1),
])
def test_decimals_keep_every_digit_and_the_scale(text: str, precision: int, scale: int) -> None:
    value = one_value(layout(rd.DECIMAL_NEW, Column("m", "decimal", precision=precision,
                                                    scale=scale)),
                      decimal_to_binary(Decimal(text), precision, scale))
    assert isinstance(value, Decimal)
    assert value == Decimal(text)
    assert value.as_tuple().exponent == -scale
    assert not (value.is_zero() and value.is_signed())


@given(st.integers(1, 65).flatmap(lambda p: st.tuples(st.just(p), st.integers(0, min(p, 30)))),
       st.data())
def test_any_decimal_round_trips(shape: tuple[int, int], data: st.DataObject) -> None:
    precision, scale = shape
    unscaled = data.draw(st.integers(-(10**precision - 1), 10**precision - 1))
    value = Decimal(unscaled).scaleb(-scale, Context(prec=100))
    decoded = one_value(layout(rd.DECIMAL_NEW, Column("m", "decimal", precision=precision,
                                                      scale=scale)),
                        decimal_to_binary(value, precision, scale))
    assert decoded == value
    assert isinstance(decoded, Decimal)
    assert decoded.as_tuple().exponent == -scale


def test_temporal_values_bit_year_and_zero_dates() -> None:
    assert one_value(layout(rd.YEAR, Column("y", "year")), b"\x00") == 0
    assert one_value(layout(rd.YEAR, Column("y", "year")), b"\x7b") == 2023
    assert one_value(layout(rd.DATE, Column("d", "date")), b"\x00\x00\x00") == ZeroDate(0, 0, 0)
    day = (2024 << 9 | 2 << 5 | 29).to_bytes(3, "little")
    assert one_value(layout(rd.DATE, Column("d", "date")), day) == date(2024, 2, 29)
    assert one_value(layout(rd.TIMESTAMP2, Column("t", "timestamp", scale=0)),
                     b"\x00\x00\x00\x00") == ZERO_DATETIME
    assert one_value(layout(rd.TIMESTAMP2, Column("t", "timestamp", scale=0)),
                     (86400).to_bytes(4, "big")) == datetime(1970, 1, 2, tzinfo=UTC)
    # -12:10:48.835870 as TIME2(6): the negative of the packed value, offset-binary.
    packed = -((12 << 12 | 10 << 6 | 48) << 24 | 835870)
    time2 = (packed + 0x800000000000).to_bytes(6, "big")
    assert one_value(layout(rd.TIME2, Column("t", "time", scale=6)), time2) == \
        -timedelta(hours=12, minutes=10, seconds=48, microseconds=835870)
    assert one_value(layout(rd.BIT, Column("b", "bit", precision=10)), b"\x03\xff") == 1023


def test_bit_values_wider_than_the_column_are_refused() -> None:
    with pytest.raises(TypeMappingError, match=r"db\.t\.b \(bit\).*BIT\(3\)"):
        one_value(layout(rd.BIT, Column("b", "bit", precision=3)), b"\x08")


def test_strings_binary_padding_long_prefixes_and_latin1() -> None:
    varchar = Column("v", "varchar", charset="utf8mb4")
    emoji = "pay \U0001f4b8".encode()
    assert one_value(layout(rd.VARCHAR, varchar, 40), bytes([len(emoji)]) + emoji) == \
        "pay \U0001f4b8"
    long_text = "x" * 300
    assert one_value(layout(rd.VARCHAR, varchar, 1020),
                     struct.pack("<H", 300) + long_text.encode()) == long_text
    binary = Column("b", "binary", precision=4)
    assert one_value(layout(rd.STRING, binary, 4), b"\x02a\x00") == b"a\x00\x00\x00"
    latin1 = Column("l", "varchar", charset="latin1")
    assert one_value(layout(rd.VARCHAR, latin1, 10), b"\x02\xe9\x81") == "\u00e9\u0081"
    for prefix in (1, 2, 3, 4):
        blob = Column("x", "blob")
        value = b"\x00nul\x00" * 3
        assert one_value(layout(rd.BLOB, blob, prefix),
                         len(value).to_bytes(prefix, "little") + value) == value


def test_enum_and_set_members() -> None:
    enum = Column("e", "enum", members=("new", "settled"))
    assert one_value(layout(rd.ENUM, enum, 1), b"\x02") == "settled"
    assert one_value(layout(rd.ENUM, enum, 1), b"\x00") == ""
    flags = Column("s", "set", members=("a", "b", "c"))
    assert one_value(layout(rd.SET, flags, 1), b"\x05") == frozenset({"a", "c"})
    assert one_value(layout(rd.SET, flags, 1), b"\x00") == frozenset()
    with pytest.raises(TypeMappingError, match="ENUM index 3"):
        one_value(layout(rd.ENUM, enum, 1), b"\x03")


def _payment_plan() -> rd.RowPlan:
    return rd.compile_plan("db.payments", (
        layout(rd.LONGLONG, Column("id", "bigint", nullable=False)),
        layout(rd.VARCHAR, Column("note", "varchar", charset="utf8mb4"), 40),
        layout(rd.LONG, Column("cents", "int", nullable=False)),
    ))


def _payment(row_id: int, note: str | None, cents: int) -> bytes:
    nulls = 0b010 if note is None else 0
    body = bytes([nulls]) + struct.pack("<q", row_id)
    if note is not None:
        body += bytes([len(note)]) + note.encode()
    return body + struct.pack("<i", cents)


def test_nulls_updates_and_several_rows_per_event() -> None:
    plan = _payment_plan()
    body = _payment(1, "a", 10) + _payment(1, None, 20) + _payment(2, "", 0) + _payment(2, "b", 5)
    images = rd.decode_rows(plan, "update", body, b"\x07", b"\x07")
    assert images == [
        ({"id": 1, "note": "a", "cents": 10}, {"id": 1, "note": None, "cents": 20}),
        ({"id": 2, "note": "", "cents": 0}, {"id": 2, "note": "b", "cents": 5}),
    ]
    deleted = rd.decode_rows(plan, "delete", _payment(3, None, 1), b"\x07")
    assert deleted == [({"id": 3, "note": None, "cents": 1}, None)]


def test_null_in_a_not_null_column_is_refused() -> None:
    body = b"\x01" + b"\x01" + b"x" + struct.pack("<i", 1)
    with pytest.raises(TypeMappingError, match=r"db\.payments\.id .*NOT NULL"):
        rd.decode_rows(_payment_plan(), "insert", body, b"\x07")


def test_a_truncated_event_is_refused() -> None:
    body = _payment(1, "abc", 10)
    with pytest.raises(TypeMappingError):
        rd.decode_rows(_payment_plan(), "insert", body[:-2], b"\x07")
    with pytest.raises(TypeMappingError, match="past the end"):
        rd.decode_rows(_payment_plan(), "insert", body[:10], b"\x07")


def test_a_partial_row_image_names_the_setting() -> None:
    with pytest.raises(SourceCheckError, match="leaves out columns") as raised:
        rd.decode_rows(_payment_plan(), "insert", _payment(1, "a", 1), b"\x05")
    assert "binlog_row_image=FULL" in raised.value.hint


def test_binary_json_is_left_to_the_library() -> None:
    with pytest.raises(rd.UnsupportedLayout):
        rd.compile_plan("db.t", (layout(rd.JSON, Column("j", "json", charset="utf8mb4"), 4),))


def _decode_in_worker(layouts: tuple[rd.ColumnLayout, ...], body: bytes) -> list[rd.Image]:
    return rd.decode_rows(rd.compile_plan("db.payments", layouts), "insert", body, b"\x07")


def test_layouts_travel_to_a_worker_process_and_decode_the_same_there() -> None:
    layouts = (
        layout(rd.LONGLONG, Column("id", "bigint", nullable=False)),
        layout(rd.VARCHAR, Column("note", "varchar", charset="latin1"), 40),
        layout(rd.LONG, Column("cents", "int", nullable=False)),
    )
    body = b"\x00" + struct.pack("<q", 7) + b"\x04caf\xe9" + struct.pack("<i", 42)
    assert pickle.loads(pickle.dumps(layouts)) == layouts
    with ProcessPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(_decode_in_worker, layouts, body).result(timeout=60)
    assert remote == _decode_in_worker(layouts, body)
    assert remote == [(None, {"id": 7, "note": "caf\u00e9", "cents": 42})]
