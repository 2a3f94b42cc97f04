"""The PostgreSQL type mapping: DDL types, CHECKs, COPY text fields and the way back."""

from __future__ import annotations

import json
import struct
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg2.extensions
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdc.changes import Column, TableSchema
from cdc.errors import TypeMappingError
from cdc.values import TIME_LIMIT, ZERO_DATE, ZERO_DATETIME, ZeroDate, ZeroDateTime
from replayer.postgres_types import (
    check_constraint,
    copy_row,
    copy_text_field,
    create_table_sql,
    from_postgres,
    json_equivalent,
    postgres_type,
    quote_ident,
    quote_literal,
)


def _col(type_: str, **kwargs: object) -> Column:
    return Column("c", type_, **kwargs)  # type: ignore[arg-type]


def _f32(number: float) -> float:
    try:
        return float(struct.unpack("<f", struct.pack("<f", number))[0])
    except OverflowError:  # beyond binary32's range
        return float("inf")


def _copy_unescape(field: str) -> str | None:
    """COPY text format's reading of one field (PostgreSQL docs, "Text Format")."""
    if field == "\\N":
        return None
    out: list[str] = []
    chars = iter(field)
    for char in chars:
        if char != "\\":
            assert char not in "\t\n\r", "a raw delimiter or line end in a field"
            out.append(char)
            continue
        escaped = next(chars)
        out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "b": "\b", "f": "\f",
                    "v": "\v"}.get(escaped, escaped))
    return "".join(out)


def _array_elements(literal: str) -> list[str]:
    """A one-dimensional PostgreSQL array literal of quoted elements, read back."""
    assert literal.startswith("{")
    assert literal.endswith("}")
    body, elements, current, quoted, index = literal[1:-1], [], [], False, 0
    while index < len(body):
        char = body[index]
        if char == "\\" and quoted:
            index += 1
            current.append(body[index])
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            elements.append("".join(current))
            current = []
        else:
            assert quoted, f"an unquoted character {char!r} in {literal!r}"
            current.append(char)
        index += 1
    if body:
        elements.append("".join(current))
    return elements


# --- DDL types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "expected"), [
    (_col("tinyint"), "smallint"),
    (_col("tinyint", unsigned=True), "smallint"),
    (_col("smallint"), "smallint"),
    (_col("smallint", unsigned=True), "integer"),
    (_col("mediumint"), "integer"),
    (_col("mediumint", unsigned=True), "integer"),
    (_col("int"), "integer"),
    (_col("int", unsigned=True), "bigint"),
    (_col("bigint"), "bigint"),
    (_col("bigint", unsigned=True), "numeric(20,0)"),
    (_col("decimal", precision=65, scale=30), "numeric(65,30)"),
    (_col("decimal", precision=10), "numeric(10,0)"),
    (_col("float"), "real"),
    (_col("double"), "double precision"),
    (_col("bit", precision=1), "bit(1)"),
    (_col("bit", precision=64), "bit(64)"),
    (_col("date"), "date"),
    (_col("datetime"), "timestamp(0) without time zone"),
    (_col("datetime", scale=6), "timestamp(6) without time zone"),
    (_col("timestamp", scale=3), "timestamp(3) with time zone"),
    (_col("time", scale=6), "interval(6)"),
    (_col("time"), "interval(0)"),
    (_col("year"), "smallint"),
    (_col("char", precision=5), "varchar(5)"),
    (_col("char"), "text"),
    (_col("varchar", precision=255), "varchar(255)"),
    (_col("varchar"), "text"),
    *((_col(t), "text") for t in ("tinytext", "text", "mediumtext", "longtext")),
    *((_col(t), "bytea") for t in ("binary", "varbinary", "tinyblob", "blob", "mediumblob",
                                   "longblob", "geometry")),
    (_col("enum", members=("a",)), "text"),
    (_col("set", members=("a",)), "text[]"),
    (_col("json"), "jsonb"),
])
def test_every_family_has_its_postgres_type(column: Column, expected: str) -> None:
    assert postgres_type(column) == expected


def test_unsupported_types_and_missing_precision_are_refused() -> None:
    with pytest.raises(TypeMappingError, match="unsupported type 'point'") as info:
        postgres_type(Column("geo", "point"))
    assert "'geo'" in str(info.value)
    with pytest.raises(TypeMappingError, match="DECIMAL without a precision"):
        postgres_type(_col("decimal", scale=2))
    with pytest.raises(TypeMappingError, match="fractional-second"):
        postgres_type(_col("datetime", scale=7))


# --- CHECK constraints -------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "expected"), [
    (_col("tinyint"), '"c" BETWEEN -128 AND 127'),
    (_col("tinyint", unsigned=True), '"c" BETWEEN 0 AND 255'),
    (_col("smallint", unsigned=True), '"c" BETWEEN 0 AND 65535'),
    (_col("mediumint"), '"c" BETWEEN -8388608 AND 8388607'),
    (_col("mediumint", unsigned=True), '"c" BETWEEN 0 AND 16777215'),
    (_col("int", unsigned=True), '"c" BETWEEN 0 AND 4294967295'),
    (_col("bigint", unsigned=True), '"c" BETWEEN 0 AND 18446744073709551615'),
    (_col("year"), '"c" = 0 OR "c" BETWEEN 1901 AND 2155'),
    (_col("time", scale=6),
     "\"c\" BETWEEN interval '-838:59:59.999999' AND interval '838:59:59.999999'"),
    (_col("enum", members=("small", "it's", "a\\b")),
     "\"c\" IN ('small', 'it''s', E'a\\\\b', '')"),
    (_col("enum", members=("", "x")), "\"c\" IN ('', 'x')"),
    (_col("set", members=("b", "a,z", 'q"')),
     "\"c\" <@ ARRAY['a,z', 'b', 'q\"']::text[]"),
])
def test_check_constraints_keep_the_source_domain(column: Column, expected: str) -> None:
    assert check_constraint(column) == expected


@pytest.mark.parametrize("column", [
    _col("smallint"), _col("int"), _col("bigint"), _col("decimal", precision=5, scale=2),
    _col("text"), _col("blob"), _col("date"), _col("json"), _col("bit", precision=3),
])
def test_types_that_match_exactly_need_no_check(column: Column) -> None:
    assert check_constraint(column) is None


def test_create_table_has_columns_not_null_checks_and_the_key_in_key_order() -> None:
    schema = TableSchema("shop", "Order Lines", 3, (
        Column("line", "int", unsigned=True, nullable=False),
        Column("order", "bigint", nullable=False),
        Column("state", "enum", members=("new", "paid")),
        Column("note", "varchar", precision=20),
    ), primary_key=("order", "line"))
    assert create_table_sql(schema, "restore") == (
        'CREATE TABLE "restore"."Order Lines" (\n'
        '    "line" bigint NOT NULL CHECK ("line" BETWEEN 0 AND 4294967295),\n'
        '    "order" bigint NOT NULL,\n'
        "    \"state\" text CHECK (\"state\" IN ('new', 'paid', '')),\n"
        '    "note" varchar(20),\n'
        '    PRIMARY KEY ("order", "line")\n'
        ")"
    )
    no_key = TableSchema("shop", "log", 1, (Column("x", "text"),), ())
    assert create_table_sql(no_key) == 'CREATE TABLE "log" (\n    "x" text\n)'


def test_a_key_column_that_is_not_a_column_is_refused() -> None:
    schema = TableSchema("shop", "t", 1, (Column("x", "int"),), ("y",))
    with pytest.raises(KeyError, match="no column 'y'"):
        create_table_sql(schema)


def test_identifiers_are_quoted_and_never_truncated() -> None:
    assert quote_ident("Order") == '"Order"'
    assert quote_ident('we"ird') == '"we""ird"'
    assert quote_ident("列") == '"列"'
    assert quote_ident("x" * 63) == f'"{"x" * 63}"'
    with pytest.raises(TypeMappingError, match="truncate it silently"):
        quote_ident("x" * 64)
    with pytest.raises(TypeMappingError, match="truncate"):
        quote_ident("é" * 32)  # 64 bytes of UTF-8
    with pytest.raises(TypeMappingError):
        quote_ident("a\x00b")


def test_literals_are_safe_whatever_standard_conforming_strings_is() -> None:
    assert quote_literal("it's") == "'it''s'"
    assert quote_literal("a\\'b") == "E'a\\\\''b'"


# --- COPY text fields --------------------------------------------------------------------------


def test_copy_escapes_backslash_tab_newline_and_carriage_return() -> None:
    column = _col("text")
    assert copy_text_field(column, "a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert copy_text_field(column, "\\.") == "\\\\."
    assert copy_text_field(column, "\\N") == "\\\\N"
    assert copy_text_field(column, "") == ""
    assert copy_text_field(column, None) == "\\N"
    assert copy_text_field(column, "😀 plain") == "😀 plain"


_TEXT_WITHOUT_NUL = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"))


@given(_TEXT_WITHOUT_NUL)
def test_copy_text_round_trips_any_text_without_nul(text: str) -> None:
    field = copy_text_field(_col("longtext"), text)
    assert not {"\t", "\n", "\r"} & set(field)
    assert _copy_unescape(field) == text


def test_nul_in_text_is_refused_naming_the_column() -> None:
    with pytest.raises(TypeMappingError, match=r"'memo'.*NUL") as info:
        copy_text_field(Column("memo", "varchar", precision=10), "a\x00b")
    assert "bytea" in info.value.hint
    with pytest.raises(TypeMappingError, match="NUL"):
        copy_text_field(_col("enum", members=("a",)), "\x00")


def test_json_is_carried_as_is_but_a_nul_escape_is_refused() -> None:
    column = _col("json")
    document = '{"b": [1.0, "tab\\there"], "a": null}'
    assert _copy_unescape(copy_text_field(column, document)) == document
    # An escaped backslash followed by u0000 is the text \u0000, which jsonb holds.
    assert copy_text_field(column, '"\\\\u0000"') == '"\\\\\\\\u0000"'
    with pytest.raises(TypeMappingError, match="u0000") as info:
        copy_text_field(column, '{"a": "x\\u0000"}')
    assert "json or text" in info.value.hint
    with pytest.raises(TypeMappingError, match="u0000"):
        copy_text_field(column, '"\\\\\\u0000"')


def test_bytea_is_hex_with_its_backslash_escaped_for_copy() -> None:
    column = _col("varbinary")
    assert copy_text_field(column, b"\x00\\\n\xff") == "\\\\x005c0aff"
    assert _copy_unescape(copy_text_field(column, b"")) == "\\x"
    assert copy_text_field(_col("geometry"), b"\x01\x02") == "\\\\x0102"


@given(st.binary())
def test_bytea_round_trips_any_bytes(data: bytes) -> None:
    unescaped = _copy_unescape(copy_text_field(_col("blob"), data))
    assert unescaped is not None
    assert unescaped.startswith("\\x")
    assert bytes.fromhex(unescaped[2:]) == data


def test_set_members_are_sorted_and_quoted_in_the_array_literal() -> None:
    column = _col("set", members=("b", "a"))
    assert copy_text_field(column, frozenset({"b", "a"})) == '{"a","b"}'
    assert copy_text_field(column, frozenset()) == "{}"
    tricky = frozenset({'q"t', "b{r}", "c,d", "s\\l", "NULL", " sp", ""})
    field = copy_text_field(column, tricky)
    # The backslashes of the array literal are doubled again for COPY.
    assert '"s\\\\\\\\l"' in field
    assert '"q\\\\"t"' in field
    literal = _copy_unescape(field)
    assert literal is not None
    assert _array_elements(literal) == sorted(tricky)


@given(st.frozensets(_TEXT_WITHOUT_NUL))
def test_set_literals_read_back_as_the_same_members(members: frozenset[str]) -> None:
    literal = _copy_unescape(copy_text_field(_col("set"), members))
    assert literal is not None
    assert _array_elements(literal) == sorted(members)


@pytest.mark.parametrize(("value", "expected"), [
    (-timedelta(hours=12, minutes=10, seconds=48, microseconds=835870), "-12:10:48.835870"),
    (TIME_LIMIT, "838:59:59.999999"),
    (-TIME_LIMIT, "-838:59:59.999999"),
    (timedelta(microseconds=-1), "-00:00:00.000001"),
    (timedelta(0), "00:00:00"),
])
def test_time_becomes_an_interval_literal_that_psycopg2_reads_back(
        value: timedelta, expected: str) -> None:
    column = _col("time", scale=6)
    assert copy_text_field(column, value) == expected
    # PostgreSQL prints interval(6) '-12:10:48.835870' as '-12:10:48.83587'.
    printed = expected.rstrip("0") if "." in expected else expected
    assert from_postgres(column, psycopg2.extensions.PYINTERVAL(printed, None)) == value


def test_decimal_extremes_never_use_an_exponent() -> None:
    column = _col("decimal", precision=65, scale=30)
    assert copy_text_field(column, Decimal("0E-30")) == "0." + "0" * 30
    largest = Decimal("9" * 35 + "." + "9" * 30)
    assert copy_text_field(column, largest) == "9" * 35 + "." + "9" * 30
    smallest = largest.copy_negate()  # unary minus would round to the default 28 digits
    assert copy_text_field(column, smallest) == "-" + "9" * 35 + "." + "9" * 30
    assert copy_text_field(column, Decimal("1E-30")) == "0." + "0" * 29 + "1"
    assert copy_text_field(_col("decimal", precision=20), Decimal("1E+19")) == "1" + "0" * 19


@given(st.decimals(allow_nan=False, allow_infinity=False, places=30,
                   min_value=Decimal("-1e35"), max_value=Decimal("1e35")))
def test_decimal_fields_have_no_exponent_and_keep_the_value(value: Decimal) -> None:
    field = copy_text_field(_col("decimal", precision=65, scale=30), value)
    assert "E" not in field.upper()
    assert Decimal(field) == value


def test_integers_at_their_limits() -> None:
    assert copy_text_field(_col("bigint", unsigned=True), 2**64 - 1) == "18446744073709551615"
    assert copy_text_field(_col("bigint"), -(2**63)) == "-9223372036854775808"
    assert copy_text_field(_col("int", unsigned=True), 2**32 - 1) == "4294967295"
    assert copy_text_field(_col("year"), 0) == "0"
    with pytest.raises(TypeMappingError, match="expected a int"):
        copy_text_field(_col("int"), True)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_double_fields_round_trip_exactly(value: float) -> None:
    field = copy_text_field(_col("double"), value)
    assert struct.pack("<d", float(field)) == struct.pack("<d", value)


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_float_fields_round_trip_the_binary32_value(value: float) -> None:
    field = copy_text_field(_col("float"), value)
    assert _f32(float(field)) == value  # what PostgreSQL's real input does with the digits


def test_a_float_that_is_not_binary32_is_refused_rather_than_rounded() -> None:
    with pytest.raises(TypeMappingError, match="binary32"):
        copy_text_field(_col("float"), 0.1)
    assert copy_text_field(_col("float"), _f32(0.1)) == "0.10000000149011612"


def test_bit_is_a_bit_string_of_the_column_width() -> None:
    assert copy_text_field(_col("bit", precision=5), 5) == "00101"
    assert copy_text_field(_col("bit", precision=64), 2**64 - 1) == "1" * 64
    with pytest.raises(TypeMappingError, match="does not fit BIT"):
        copy_text_field(_col("bit", precision=3), 8)


def test_temporal_values() -> None:
    assert copy_text_field(_col("date"), date(1000, 1, 1)) == "1000-01-01"
    assert copy_text_field(_col("datetime", scale=6),
                           datetime(2020, 1, 15, 10, 0, 0, 5)) == "2020-01-15 10:00:00.000005"
    stamp = datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=UTC)
    assert (copy_text_field(_col("timestamp", scale=6), stamp)
            == "2038-01-19 03:14:07.999999+00:00")
    with pytest.raises(TypeMappingError, match="naive datetime in a TIMESTAMP"):
        copy_text_field(_col("timestamp"), datetime(2020, 1, 1))
    with pytest.raises(TypeMappingError, match="aware datetime in a DATETIME"):
        copy_text_field(_col("datetime"), stamp)
    with pytest.raises(TypeMappingError, match="finer than the column's 3 digits"):
        copy_text_field(_col("datetime", scale=3), datetime(2020, 1, 1, 0, 0, 0, 1500))
    with pytest.raises(TypeMappingError, match="expected a date"):
        copy_text_field(_col("date"), datetime(2020, 1, 1))


@pytest.mark.parametrize(("column", "value"), [
    (Column("born", "date"), ZERO_DATE),
    (Column("born", "date"), ZeroDate(2020, 0, 15)),
    (Column("born", "datetime"), ZeroDateTime(2020, 1, 0, 10)),
    (Column("born", "timestamp"), ZERO_DATETIME),
])
def test_zero_dates_are_refused_with_a_clear_message(column: Column, value: object) -> None:
    with pytest.raises(TypeMappingError, match=r"'born'.*zero date.*cannot hold") as info:
        copy_text_field(column, value)
    assert str(value) in info.value.message
    assert "NULL or a real date at the source" in info.value.hint


def test_null_in_a_not_null_column_is_refused() -> None:
    with pytest.raises(TypeMappingError, match="NOT NULL"):
        copy_text_field(Column("x", "int", nullable=False), None)


# --- rows --------------------------------------------------------------------------------------

_SCHEMA = TableSchema("shop", "t", 1, (
    Column("id", "bigint", unsigned=True, nullable=False),
    Column("note", "text"),
    Column("tags", "set", members=("a", "b")),
    Column("raw", "blob"),
), ("id",))


def test_copy_row_is_one_tab_separated_line_in_column_order() -> None:
    row = {"id": 2**64 - 1, "note": "x\ty", "tags": frozenset({"b", "a"}), "raw": None}
    assert copy_row(_SCHEMA, row) == '18446744073709551615\tx\\ty\t{"a","b"}\t\\N\n'


def test_copy_row_refuses_a_row_of_another_shape() -> None:
    with pytest.raises(TypeMappingError, match="3 values for 4 columns"):
        copy_row(_SCHEMA, {"id": 1, "note": None, "tags": frozenset()})
    with pytest.raises(TypeMappingError, match="'raw' is missing"):
        copy_row(_SCHEMA, {"id": 1, "note": None, "tags": frozenset(), "other": None})


# --- from psycopg2's values back to canonical ones ---------------------------------------------

_NEW_YORK = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(("column", "returned", "canonical"), [
    (_col("bigint", unsigned=True), Decimal("18446744073709551615"), 2**64 - 1),
    (_col("int", unsigned=True), 4294967295, 4294967295),
    (_col("tinyint"), -128, -128),
    (_col("year"), 2155, 2155),
    (_col("decimal", precision=65, scale=30), Decimal("0E-30"), Decimal("0E-30")),
    (_col("decimal", precision=5, scale=2), Decimal("1.5"), Decimal("1.50")),
    (_col("float"), 0.1, _f32(0.1)),  # real prints 0.1 for the binary32 0.10000000149011612
    (_col("double"), 0.1, 0.1),
    (_col("bit", precision=5), "00101", 5),
    (_col("bit", precision=64), "1" * 64, 2**64 - 1),
    (_col("date"), date(1000, 1, 1), date(1000, 1, 1)),
    (_col("datetime", scale=6), datetime(2020, 1, 15, 10, 0, 0, 5),
     datetime(2020, 1, 15, 10, 0, 0, 5)),
    (_col("timestamp"), datetime(2020, 1, 15, 5, 0, tzinfo=_NEW_YORK),
     datetime(2020, 1, 15, 10, 0, tzinfo=UTC)),
    (_col("time", scale=6), timedelta(days=-1, seconds=42551, microseconds=164130),
     -timedelta(hours=12, minutes=10, seconds=48, microseconds=835870)),
    (_col("varchar", precision=5), "😀", "😀"),
    (_col("enum", members=("a",)), "", ""),
    (_col("blob"), memoryview(b"\x00\xff"), b"\x00\xff"),
    (_col("binary", precision=2), b"\x00\x00", b"\x00\x00"),
    (_col("set", members=("a", "b,c")), ["a", "b,c"], frozenset({"a", "b,c"})),
    (_col("set", members=("a",)), [], frozenset()),
    (_col("json"), '{"a": 1}', '{"a": 1}'),
])
def test_from_postgres_gives_the_canonical_value(
        column: Column, returned: object, canonical: object) -> None:
    value = from_postgres(column, returned)
    assert value == canonical
    assert type(value) is type(canonical)
    if isinstance(canonical, Decimal):
        assert str(value) == str(canonical)  # the same scale, not only the same number
    if isinstance(canonical, datetime):
        assert value.tzinfo == canonical.tzinfo  # type: ignore[attr-defined]
    assert from_postgres(column, None) is None


def test_psycopg2s_own_casts_come_back_canonical() -> None:
    cast = psycopg2.extensions
    assert from_postgres(_col("decimal", precision=65, scale=30),
                         cast.DECIMAL("0.000000000000000000000000000000", None)) == Decimal(0)
    assert from_postgres(_col("bigint", unsigned=True),
                         cast.DECIMAL("18446744073709551615", None)) == 2**64 - 1
    assert from_postgres(_col("time", scale=6),
                         cast.PYINTERVAL("-838:59:59.999999", None)) == -TIME_LIMIT


def test_from_postgres_refuses_values_of_the_wrong_type() -> None:
    with pytest.raises(TypeMappingError, match="returned datetime") as info:
        from_postgres(_col("datetime"), datetime(2020, 1, 1, tzinfo=UTC))
    assert "timestamp(0) without time zone" in info.value.hint
    with pytest.raises(TypeMappingError, match="returned datetime"):
        from_postgres(_col("timestamp"), datetime(2020, 1, 1))
    with pytest.raises(TypeMappingError, match="returned datetime"):
        from_postgres(_col("date"), datetime(2020, 1, 1))
    with pytest.raises(TypeMappingError, match="returned str"):
        from_postgres(_col("int"), "1")
    with pytest.raises(TypeMappingError, match="returned list"):
        from_postgres(_col("set"), [1])


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_real_read_back_from_its_shortest_digits_is_the_binary32_value(value: float) -> None:
    shortest = next(text for digits in range(1, 10)
                    if _f32(float(text := f"{value:.{digits}g}")) == value)
    assert from_postgres(_col("float"), float(shortest)) == value


def test_jsonb_values_compare_semantically() -> None:
    source = '{"b": 1.0E2, "a": [true, "x"], "a2": {"k": 1}}'
    assert from_postgres(_col("json"), {"a": [True, "x"]}) == json.dumps({"a": [True, "x"]})
    assert json_equivalent(source, '{"a": [true, "x"], "a2": {"k": 1}, "b": 100.0}')
    assert json_equivalent('{"a": 1, "a": 2}', '{"a": 2}')
    assert not json_equivalent('{"a": true}', '{"a": 1}')
    assert not json_equivalent('[1, 2]', '[2, 1]')
    assert not json_equivalent('{"a": "1"}', '{"a": 1}')
