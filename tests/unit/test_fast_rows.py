"""The compiled fast path against the reference path (row_decoder, then RowCodec): the same
bytes for every value it takes, and a refusal (None) wherever the reference decodes to
something unusual or fails, on values built as the server writes them and on arbitrary
bytes."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdc.avro.row_schema import row_codec
from cdc.binlog import fast_rows
from cdc.binlog import row_decoder as rd
from cdc.binlog.events import EncodedImages
from cdc.changes import Column, TableSchema
from cdc.errors import CdcError
from tests.unit.test_row_decoder import decimal_to_binary


@dataclass(frozen=True)
class Case:
    layout: rd.ColumnLayout
    values: st.SearchStrategy[bytes]
    """Binlog bytes of one non-NULL value."""
    regular: bool = True
    """Values drawn from ``values`` are all ones the fast path should take."""


def _int_case(code: int, size: int, unsigned: bool) -> Case:
    bits = size * 8
    low, high = (0, 2**bits - 1) if unsigned else (-(2**(bits - 1)), 2**(bits - 1) - 1)
    family = {1: "tinyint", 2: "smallint", 3: "mediumint", 4: "int", 8: "bigint"}[size]
    return Case(rd.ColumnLayout(code, 0, Column("n", family, unsigned=unsigned)),
                st.integers(low, high).map(lambda v: v.to_bytes(size, "little",
                                                                  signed=not unsigned)))


def _decimal_case(precision: int, scale: int) -> Case:
    limit = 10**precision - 1
    return Case(rd.ColumnLayout(rd.DECIMAL_NEW, 0, Column("d", "decimal", precision=precision,
                                                          scale=scale)),
                st.integers(-limit, limit).map(
                    lambda u: decimal_to_binary(Decimal(u).scaleb(-scale), precision, scale)))


def _fraction(micro: int, fsp: int) -> bytes:
    size = (fsp + 1) // 2
    if size == 0:
        return b""
    return (micro // (10_000, 100, 1)[size - 1]).to_bytes(size, "big")


def _truncated(moment: datetime, fsp: int) -> datetime:
    step = 10 ** (6 - fsp)
    return moment.replace(microsecond=moment.microsecond // step * step)


def _datetime2(moment: datetime, fsp: int) -> bytes:
    ymd = ((moment.year * 13 + moment.month) << 5) | moment.day
    hms = (moment.hour << 12) | (moment.minute << 6) | moment.second
    integer = ((ymd << 17) | hms) + 0x8000000000
    return integer.to_bytes(5, "big") + _fraction(moment.microsecond, fsp)


def _timestamp2(seconds: int, micro: int, fsp: int) -> bytes:
    return seconds.to_bytes(4, "big") + _fraction(micro, fsp)


def _date(day: date) -> bytes:
    return ((day.year << 9) | (day.month << 5) | day.day).to_bytes(3, "little")


def exactly(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size)


def _prefixed(data: bytes, prefix: int) -> bytes:
    return len(data).to_bytes(prefix, "little") + data


def _prefixed_by(prefix: int, data: bytes) -> bytes:
    return _prefixed(data, prefix)


def _big_endian(size: int, value: int) -> bytes:
    return value.to_bytes(size, "big")


def _datetime2_value(fsp: int, moment: datetime) -> bytes:
    return _datetime2(_truncated(moment, fsp), fsp)


def _timestamp2_value(fsp: int, seconds_micro: tuple[int, int]) -> bytes:
    seconds, micro = seconds_micro
    step = 10 ** (6 - fsp)
    return _timestamp2(seconds, micro // step * step, fsp)


FSPS = (0, 1, 2, 3, 4, 5, 6)
MEMBERS = ("card", "sepa", "ünï", "")
CASES: dict[str, Case] = {
    **{f"int{size}{'u' if unsigned else ''}": _int_case(code, size, unsigned)
       for code, size in ((rd.TINY, 1), (rd.SHORT, 2), (rd.INT24, 3), (rd.LONG, 4),
                          (rd.LONGLONG, 8)) for unsigned in (False, True)},
    "float": Case(rd.ColumnLayout(rd.FLOAT, 0, Column("f", "float")),
                  st.floats(width=32, allow_nan=False, allow_infinity=False).map(
                      lambda v: struct.pack("<f", v))),
    "float-any": Case(rd.ColumnLayout(rd.FLOAT, 0, Column("f", "float")), exactly(4), False),
    "double": Case(rd.ColumnLayout(rd.DOUBLE, 0, Column("d", "double")),
                   st.floats(allow_nan=False, allow_infinity=False).map(
                       lambda v: struct.pack("<d", v))),
    "double-any": Case(rd.ColumnLayout(rd.DOUBLE, 0, Column("d", "double")), exactly(8),
                       False),
    **{f"decimal{p},{s}": _decimal_case(p, s)
       for p, s in ((1, 0), (5, 2), (9, 9), (10, 0), (19, 4), (20, 10), (38, 0), (38, 30),
                    (39, 0), (65, 30), (65, 0), (65, 65))},
    "decimal-any": Case(rd.ColumnLayout(rd.DECIMAL_NEW, 0, Column("d", "decimal", precision=19,
                                                                  scale=4)),
                        exactly(9), False),
    "year": Case(rd.ColumnLayout(rd.YEAR, 0, Column("y", "year")), exactly(1)),
    **{f"bit{n}": Case(rd.ColumnLayout(rd.BIT, 0, Column("b", "bit", precision=n)),
                       st.integers(0, 2**n - 1).map(partial(_big_endian, (n + 7) // 8)))
       for n in (1, 7, 8, 9, 63, 64)},
    "bit-any": Case(rd.ColumnLayout(rd.BIT, 0, Column("b", "bit", precision=5)), exactly(1),
                    False),
    "date": Case(rd.ColumnLayout(rd.DATE, 0, Column("d", "date")), st.dates().map(_date)),
    "date-any": Case(rd.ColumnLayout(rd.DATE, 0, Column("d", "date")), exactly(3), False),
    **{f"datetime{fsp}": Case(
        rd.ColumnLayout(rd.DATETIME2, 0, Column("t", "datetime", scale=fsp)),
        st.datetimes().map(partial(_datetime2_value, fsp))) for fsp in FSPS},
    **{f"datetime{fsp}-any": Case(
        rd.ColumnLayout(rd.DATETIME2, 0, Column("t", "datetime", scale=fsp)),
        exactly(5 + (fsp + 1) // 2), False) for fsp in (0, 3, 6)},
    **{f"timestamp{fsp}": Case(
        rd.ColumnLayout(rd.TIMESTAMP2, 0, Column("t", "timestamp", scale=fsp)),
        st.tuples(st.integers(1, 2**32 - 1), st.integers(0, 999_999)).map(
            partial(_timestamp2_value, fsp))) for fsp in FSPS},
    **{f"timestamp{fsp}-any": Case(
        rd.ColumnLayout(rd.TIMESTAMP2, 0, Column("t", "timestamp", scale=fsp)),
        exactly(4 + (fsp + 1) // 2), False) for fsp in (0, 2, 6)},
    **{f"time{fsp}-any": Case(
        rd.ColumnLayout(rd.TIME2, 0, Column("t", "time", scale=fsp)),
        exactly(3 + (fsp + 1) // 2), False) for fsp in FSPS},
    "varchar-utf8": Case(rd.ColumnLayout(rd.VARCHAR, 400, Column("s", "varchar",
                                                                 charset="utf8mb4")),
                         st.text(max_size=100).map(lambda t: _prefixed(t.encode(), 2))),
    "varchar-utf8-any": Case(rd.ColumnLayout(rd.VARCHAR, 40, Column("s", "varchar",
                                                                    charset="utf8mb4")),
                             st.binary(max_size=12).map(lambda b: _prefixed(b, 1)), False),
    "char-utf8mb3": Case(rd.ColumnLayout(rd.STRING, 30, Column("s", "char", charset="utf8mb3")),
                         st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]),
                                 max_size=10).map(lambda t: _prefixed(t.encode(), 1))),
    "varchar-latin1": Case(rd.ColumnLayout(rd.VARCHAR, 20, Column("s", "varchar",
                                                                  charset="latin1")),
                           st.binary(max_size=20).map(lambda b: _prefixed(b, 1))),
    "varchar-ascii-any": Case(rd.ColumnLayout(rd.VARCHAR, 20, Column("s", "varchar",
                                                                     charset="ascii")),
                              st.binary(max_size=20).map(lambda b: _prefixed(b, 1)), False),
    "varbinary": Case(rd.ColumnLayout(rd.VARCHAR, 300, Column("s", "varbinary")),
                      st.binary(max_size=300).map(lambda b: _prefixed(b, 2))),
    "binary": Case(rd.ColumnLayout(rd.STRING, 6, Column("s", "binary")),
                   st.binary(max_size=6).map(lambda b: _prefixed(b, 1))),
    "binary-too-long": Case(rd.ColumnLayout(rd.STRING, 3, Column("s", "binary")),
                            st.binary(max_size=6).map(lambda b: _prefixed(b, 1)), False),
    **{f"blob{n}": Case(rd.ColumnLayout(rd.BLOB, n, Column("s", "blob")),
                        st.binary(max_size=255 if n == 1 else 300).map(
                            partial(_prefixed_by, n)))
       for n in (1, 2, 3, 4)},
    "text-utf8": Case(rd.ColumnLayout(rd.BLOB, 4, Column("s", "longtext", charset="utf8mb4")),
                      st.text(max_size=200).map(lambda t: _prefixed(t.encode(), 4))),
    "enum": Case(rd.ColumnLayout(rd.ENUM, 1, Column("e", "enum", members=MEMBERS)),
                 st.integers(0, len(MEMBERS)).map(lambda i: bytes([i]))),
    "enum-any": Case(rd.ColumnLayout(rd.ENUM, 2, Column("e", "enum", members=MEMBERS)),
                     exactly(2), False),
    "set": Case(rd.ColumnLayout(rd.SET, 1, Column("e", "set", members=MEMBERS)),
                st.integers(0, 2**len(MEMBERS) - 1).map(lambda i: bytes([i]))),
    "set-any": Case(rd.ColumnLayout(rd.SET, 1, Column("e", "set", members=MEMBERS)),
                    exactly(1), False),
}


def reference(layouts: tuple[rd.ColumnLayout, ...], key: tuple[str, ...], kind: str,
              body: bytes) -> list[EncodedImages] | None:
    """What capture's reference path makes of the event; None where it refuses it."""
    plan = rd.compile_plan("db.t", layouts)
    full = ((1 << len(layouts)) - 1).to_bytes((len(layouts) + 7) // 8, "little")
    try:
        images = rd.decode_rows(plan, kind, body, full, full if kind == "update" else None)
    except CdcError:
        return None
    codec = row_codec(TableSchema("db", "t", 1, tuple(lay.column for lay in layouts), key))
    encoded: list[EncodedImages] = []
    for before, after in images:
        image = after if after is not None else before
        assert image is not None
        try:
            encoded.append((None if before is None else codec.encode(before),
                            None if after is None else codec.encode(after),
                            codec.encode_key(image)))
        except ValueError:
            return None
    return encoded


def event(draw: Callable[[st.SearchStrategy[Any]], Any], layouts: tuple[rd.ColumnLayout, ...],
          values: tuple[st.SearchStrategy[bytes], ...], kind: str) -> bytes:
    body = bytearray()
    for _ in range(draw(st.integers(1, 3)) * (2 if kind == "update" else 1)):
        nulls = 0
        parts = []
        for index, strategy in enumerate(values):
            if index > 0 and draw(st.integers(0, 4)) == 0:
                nulls |= 1 << index
            else:
                parts.append(draw(strategy))
        body += nulls.to_bytes((len(layouts) + 7) // 8, "little") + b"".join(parts)
    return bytes(body)


KEY = rd.ColumnLayout(rd.LONGLONG, 0, Column("id", "bigint", unsigned=True, nullable=False))


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(["insert", "update", "delete"]))
def test_the_fast_path_gives_the_reference_bytes_or_declines(name: str, data: st.DataObject,
                                                             kind: str) -> None:
    case = CASES[name]
    nullable = data.draw(st.booleans())
    column = case.layout.column
    layouts = (KEY, rd.ColumnLayout(case.layout.type_code, case.layout.length,
                                    replace(column, nullable=nullable)))
    key_values = st.integers(0, 2**64 - 1).map(lambda v: v.to_bytes(8, "little"))
    body = event(data.draw, layouts, (key_values, case.values), kind)
    plan = fast_rows.compile_fast_plan("db", "t", layouts, ("id",))
    assert plan is not None, "the fast path should take this column"
    fast = fast_rows.encode_rows(plan, kind, body)
    expected = reference(layouts, ("id",), kind, body)
    if fast is not None:
        assert expected is not None, "the fast path took an event the reference refuses"
        assert fast == expected
    elif case.regular and nullable:
        assert expected is None, "the fast path declined regular values"


@given(st.binary(max_size=64), st.sampled_from(["insert", "update", "delete"]))
@settings(max_examples=400, deadline=None)
def test_arbitrary_bytes_never_crash_and_never_disagree(body: bytes, kind: str) -> None:
    chosen = ("decimal19,4", "datetime6", "varchar-utf8", "set", "time3-any")
    layouts = (KEY, *(rd.ColumnLayout(CASES[name].layout.type_code, CASES[name].layout.length,
                                      replace(CASES[name].layout.column, name=f"c{index}"))
                      for index, name in enumerate(chosen)))
    plan = fast_rows.compile_fast_plan("db", "t", layouts, ("id",))
    fast = fast_rows.encode_rows(plan, kind, body)
    if fast is not None:
        assert fast == reference(layouts, ("id",), kind, body)


def test_tables_with_a_column_it_does_not_know_go_the_reference_way() -> None:
    for layout in (rd.ColumnLayout(rd.LONGLONG, 0, Column("n", "int")),  # not its family
                   rd.ColumnLayout(rd.JSON, 4, Column("j", "json", charset="utf8mb4")),
                   rd.ColumnLayout(rd.TIME, 0, Column("t", "time")),
                   rd.ColumnLayout(rd.VARCHAR, 40, Column("s", "varchar", charset="utf16"))):
        assert fast_rows.compile_fast_plan("db", "t", (KEY, layout), ("id",)) is None


def test_a_null_key_column_and_a_null_in_not_null_are_declined() -> None:
    layouts = (rd.ColumnLayout(rd.LONG, 0, Column("id", "int", nullable=True)),
               rd.ColumnLayout(rd.LONG, 0, Column("n", "int", nullable=False)))
    plan = fast_rows.compile_fast_plan("db", "t", layouts, ("id",))
    assert fast_rows.encode_rows(plan, "insert", b"\x01" + (5).to_bytes(4, "little")) is None
    assert fast_rows.encode_rows(plan, "insert", b"\x02" + (5).to_bytes(4, "little")) is None
    assert fast_rows.encode_rows(plan, "insert", b"\x00" + bytes(8)) is not None


def test_the_pure_python_switch_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDC_PURE_PYTHON", "1")
    assert not fast_rows.enabled()
    assert fast_rows.compile_fast_plan("db", "t", (KEY,), ("id",)) is None


def test_real_dates_and_times_come_out_as_their_mysql_text() -> None:
    layouts = (KEY, rd.ColumnLayout(rd.DATETIME2, 0, Column("t", "datetime", scale=6)))
    plan = fast_rows.compile_fast_plan("db", "t", layouts, ("id",))
    moment = datetime(2026, 2, 28, 23, 59, 58, 120)
    body = b"\x00" + (7).to_bytes(8, "little") + _datetime2(moment, 6)
    [(before, after, key)] = fast_rows.encode_rows(plan, "insert", body) or []
    assert before is None
    assert after is not None
    assert b"2026-02-28 23:59:58.000120" in after
    assert key == b"\x04db\x02t\x02\x07"  # the strings db and t, then 7 as decimal bytes


def test_the_compiled_path_is_built_here() -> None:
    # The project's build compiles it (make venv); the pure path is tested beside it.
    assert fast_rows.enabled(), "cdc/binlog/_fastrows.c was not built: run make venv"
