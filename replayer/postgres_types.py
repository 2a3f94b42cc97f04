"""The type mapping from the canonical column model to PostgreSQL, for restoring into PostgreSQL.

Pure functions, no I/O (docs/postgres-types.md has the table and the reasons):

- ``postgres_type``: a column's type in PostgreSQL DDL; ``check_constraint``: the CHECK that
  keeps the PostgreSQL column to the values the source column can hold (ENUM and SET members,
  the range of integers whose PostgreSQL type is wider, YEAR, TIME);
  ``create_table_sql``: the CREATE TABLE of one table version.
- ``copy_text_field`` / ``copy_row``: canonical values in COPY's text format. A value
  PostgreSQL cannot hold (NUL in text, a zero date) raises ``TypeMappingError`` naming the
  column; it is never dropped, rounded or turned into NULL.
- ``from_postgres``: what psycopg2 returns for each of those types, back to the canonical value,
  so that a restored row compares equal to the source's; ``json_equivalent`` for JSON, which
  jsonb stores normalised.

The target database must use the UTF8 encoding, and the session that reads values back the
defaults ``DateStyle=ISO`` and ``IntervalStyle=postgres`` (psycopg2 parses only those).
"""

from __future__ import annotations

import json
import re
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal
from typing import Final, TypeVar

from cdc.changes import Column, Row, TableSchema
from cdc.errors import TypeMappingError
from cdc.values import TIME_LIMIT, ZeroDate, ZeroDateTime, time_text

_INTEGER_RANGES: Final[dict[tuple[str, bool], tuple[str, int, int]]] = {
    # (family, unsigned): (PostgreSQL type, the source type's min and max)
    ("tinyint", False): ("smallint", -(2**7), 2**7 - 1),
    ("tinyint", True): ("smallint", 0, 2**8 - 1),
    ("smallint", False): ("smallint", -(2**15), 2**15 - 1),
    ("smallint", True): ("integer", 0, 2**16 - 1),
    ("mediumint", False): ("integer", -(2**23), 2**23 - 1),
    ("mediumint", True): ("integer", 0, 2**24 - 1),
    ("int", False): ("integer", -(2**31), 2**31 - 1),
    ("int", True): ("bigint", 0, 2**32 - 1),
    ("bigint", False): ("bigint", -(2**63), 2**63 - 1),
    ("bigint", True): ("numeric(20,0)", 0, 2**64 - 1),
}
_EXACT_INTEGERS: Final = frozenset({("smallint", False), ("int", False), ("bigint", False)})
"""Integer types whose PostgreSQL type has exactly their range: they need no CHECK."""

_TEXT: Final = frozenset({"tinytext", "text", "mediumtext", "longtext"})
_BINARY: Final = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob",
                            "longblob", "geometry"})
_FRACTIONAL: Final = frozenset({"datetime", "timestamp", "time"})
_MAX_IDENTIFIER_BYTES: Final = 63  # NAMEDATALEN - 1: PostgreSQL truncates longer names silently
_EXACT: Final = Context(prec=100)
_SET_PG_TYPE: Final = "text[]"
_STRINGS: Final = frozenset({"char", "varchar", "enum", "json"}) | _TEXT
_T = TypeVar("_T")

# --- DDL ---------------------------------------------------------------------------------------


def postgres_type(column: Column) -> str:
    """The column's type in PostgreSQL DDL, chosen to hold every value of the source column."""
    family = column.type
    if (family, column.unsigned) in _INTEGER_RANGES:
        return _INTEGER_RANGES[family, column.unsigned][0]
    if family == "decimal":
        if column.precision is None:
            raise _mapping_error(column, "DECIMAL without a precision",
                                 "the table map should carry it; re-read the table's schema")
        return f"numeric({column.precision},{column.scale or 0})"
    if family in _FRACTIONAL:
        fsp = _fsp(column)
        return {"datetime": f"timestamp({fsp}) without time zone",
                "timestamp": f"timestamp({fsp}) with time zone",
                "time": f"interval({fsp})"}[family]
    simple = {"float": "real", "double": "double precision", "date": "date", "year": "smallint",
              "enum": "text", "set": _SET_PG_TYPE, "json": "jsonb"}
    if family in simple:
        return simple[family]
    if family == "bit":
        return f"bit({_bit_width(column)})"
    if family in ("char", "varchar"):
        return "text" if column.precision is None else f"varchar({column.precision})"
    if family in _TEXT:
        return "text"
    if family in _BINARY:
        return "bytea"
    raise _mapping_error(column, f"the unsupported type {family!r}",
                         "see docs/postgres-types.md for the supported types")


def column_definition(column: Column) -> str:
    """A column's definition in CREATE TABLE or ADD COLUMN: name, type, NOT NULL, CHECK."""
    line = f"{quote_ident(column.name)} {postgres_type(column)}"
    if not column.nullable:
        line += " NOT NULL"
    check = check_constraint(column)
    return line if check is None else f"{line} CHECK ({check})"


def check_constraint(column: Column) -> str | None:
    """The CHECK expression that limits the column to the source column's values, or None."""
    name = quote_ident(column.name)
    key = (column.type, column.unsigned)
    if key in _INTEGER_RANGES and key not in _EXACT_INTEGERS:
        _, low, high = _INTEGER_RANGES[key]
        return f"{name} BETWEEN {low} AND {high}"
    if column.type == "year":
        return f"{name} = 0 OR {name} BETWEEN 1901 AND 2155"
    if column.type == "time":
        limit = time_text(TIME_LIMIT)
        return f"{name} BETWEEN interval '-{limit}' AND interval '{limit}'"
    if column.type == "enum":
        # '' is what MySQL stores for a value that is not a member (index 0), so it is kept.
        allowed = dict.fromkeys((*column.members, ""))
        return f"{name} IN ({', '.join(quote_literal(m) for m in allowed)})"
    if column.type == "set":
        members = ", ".join(quote_literal(m) for m in sorted(column.members))
        return f"{name} <@ ARRAY[{members}]::{_SET_PG_TYPE}"
    return None


def create_table_sql(schema: TableSchema, target_schema: str | None = None, *,
                     primary_key: bool = True) -> str:
    """CREATE TABLE for one table version: columns, NOT NULL, CHECKs, the primary key in key
    order (left out with ``primary_key=False``, for a bulk load that adds it after the rows).
    Without ``target_schema`` the table name is unqualified (the search_path decides)."""
    table = quote_ident(schema.table)
    if target_schema is not None:
        table = f"{quote_ident(target_schema)}.{table}"
    lines = [f"    {column_definition(column)}" for column in schema.columns]
    if schema.primary_key and primary_key:
        for name in schema.primary_key:
            schema.column(name)  # a key column that is not a column is a broken schema
        lines.append(f"    PRIMARY KEY ({', '.join(quote_ident(n) for n in schema.primary_key)})")
    return f"CREATE TABLE {table} (\n" + ",\n".join(lines) + "\n)"


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, always quoted (keeps case, spaces, keywords)."""
    if "\x00" in name or not name:
        raise TypeMappingError(f"{name!r} cannot be a PostgreSQL identifier",
                               hint="rename it at the source")
    if len(name.encode("utf-8")) > _MAX_IDENTIFIER_BYTES:
        raise TypeMappingError(
            f"the identifier {name!r} is longer than PostgreSQL's {_MAX_IDENTIFIER_BYTES} bytes; "
            "PostgreSQL would truncate it silently",
            hint="rename it at the source to at most 63 bytes of UTF-8",
        )
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A PostgreSQL string literal, correct whatever standard_conforming_strings is."""
    if "\x00" in text:
        raise TypeMappingError(f"{text!r} holds a NUL character, which PostgreSQL text refuses",
                               hint="rename the member at the source")
    quoted = text.replace("'", "''")
    if "\\" in quoted:
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return f"'{quoted}'"


# --- canonical values to COPY text format ------------------------------------------------------

NULL_FIELD: Final = "\\N"
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL: Final = re.compile(r"[\\\t\n\r]")
_JSON_NUL_ESCAPE: Final = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
"""A ``\\u0000`` escape in JSON text (not an escaped backslash followed by ``u0000``)."""


def copy_escape(text: str) -> str:
    """Text escaped for one field of COPY's text format (backslash, tab, newline, CR)."""
    return text.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(text) else text


def copy_row(schema: TableSchema, row: Row) -> str:
    """One line of COPY text format: the row's fields in column order, newline-terminated."""
    if len(row) != len(schema.columns):
        raise TypeMappingError(
            f"{schema.qualified_name} v{schema.version}: the row has {len(row)} values for "
            f"{len(schema.columns)} columns",
            hint="the row and the table version disagree; replay with the row's own version",
        )
    fields = []
    for column in schema.columns:
        try:
            value = row[column.name]
        except KeyError:
            raise TypeMappingError(f"{schema.qualified_name}: column {column.name!r} is missing "
                                   "from the row", hint="the row and the table version disagree"
                                   ) from None
        fields.append(copy_text_field(column, value))
    return "\t".join(fields) + "\n"


def copy_text_field(column: Column, value: object) -> str:
    """One canonical value as a field of COPY's text format (already escaped); NULL is ``\\N``."""
    if value is None:
        if not column.nullable:
            raise _mapping_error(column, "NULL in a NOT NULL column", "the row is broken")
        return NULL_FIELD
    return copy_escape(text_value(column, value))


def text_value(column: Column, value: object) -> str:
    """A non-NULL canonical value as PostgreSQL text input of the column's type (unescaped)."""
    family = column.type
    if isinstance(value, ZeroDate | ZeroDateTime):
        raise _mapping_error(
            column, f"the zero date {value.text}, which PostgreSQL {postgres_type(column)} "
            "cannot hold",
            "set it to NULL or a real date at the source (or leave the table out of the "
            "restore); the restore does not change values",
        )
    if (family, column.unsigned) in _INTEGER_RANGES or family == "year":
        return str(_expect(column, value, int))
    if family == "decimal":
        number = _expect(column, value, Decimal)
        if not number.is_finite():
            raise _mapping_error(column, f"the non-finite DECIMAL {number}", "")
        return format(number, "f")
    if family in ("float", "double"):
        real = _expect(column, value, float)
        if family == "float" and _binary32(real) != real:
            raise _mapping_error(column, f"{real!r} is not a binary32 value; real would round "
                                 "it", "the row is not canonical")
        return repr(real)
    if family == "bit":
        width = _bit_width(column)
        bits = _expect(column, value, int)
        if not 0 <= bits < 1 << width:
            raise _mapping_error(column, f"{bits} does not fit BIT({width})", "")
        return format(bits, f"0{width}b")
    if family == "date":
        return _expect(column, value, date).isoformat()
    if family in ("datetime", "timestamp"):
        moment = _expect(column, value, datetime)
        if (moment.tzinfo is None) != (family == "datetime"):
            raise _mapping_error(column, f"a {'naive' if moment.tzinfo is None else 'aware'} "
                                 f"datetime in a {family.upper()} column", "")
        _check_fraction(column, moment.microsecond)
        return moment.isoformat(sep=" ")
    if family == "time":
        interval = _expect(column, value, timedelta)
        _check_fraction(column, interval.microseconds)
        return time_text(interval)
    if family == "set":
        members = _expect(column, value, frozenset)
        return "{" + ",".join(_array_element(column, m) for m in sorted(members)) + "}"
    if family in _BINARY:
        return "\\x" + _expect(column, value, bytes).hex()
    if family not in _STRINGS:
        postgres_type(column)  # raises for an unsupported type
    text = _expect(column, value, str)
    if "\x00" in text:
        raise _mapping_error(column, "text with a NUL character, which PostgreSQL text cannot "
                             "hold", "map the column to bytea, or remove the NUL at the source")
    if family == "json" and _JSON_NUL_ESCAPE.search(text):
        raise _mapping_error(column, "JSON with a \\u0000 escape, which jsonb cannot hold",
                             "map the column to json or text instead of jsonb")
    return text


def _array_element(column: Column, member: object) -> str:
    if not isinstance(member, str):
        raise _mapping_error(column, f"a SET member that is not text: {member!r}", "")
    if "\x00" in member:
        raise _mapping_error(column, "a SET member with a NUL character", "")
    return '"' + member.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- what psycopg2 returns, back to canonical values -------------------------------------------


def from_postgres(column: Column, value: object) -> object:
    """The canonical value of what psycopg2 returns for ``column``'s PostgreSQL type.

    JSON comes back as text: psycopg2 parses jsonb into Python objects (floats rounded) unless
    the session registers ``psycopg2.extras.register_default_jsonb(loads=lambda s: s)``; both
    are accepted, but compare JSON with ``json_equivalent``, never as text.
    """
    if value is None:
        return None
    family = column.type
    if (family, column.unsigned) in _INTEGER_RANGES or family == "year":
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)  # BIGINT UNSIGNED comes back from numeric(20,0)
        return _returned(column, value, int)
    if family == "decimal":
        number = _returned(column, value, Decimal)
        scale = column.scale or 0
        if number.as_tuple().exponent != -scale:
            number = number.quantize(Decimal(1).scaleb(-scale), context=_EXACT)
        return number.copy_abs() if number.is_zero() else number
    if family in ("float", "double"):
        real = _returned(column, value, float)
        # real prints its shortest digits, which name the binary32 value: take that value
        return _binary32(real) if family == "float" else real
    if family == "bit":
        return int(_returned(column, value, str), 2)
    if family == "date":
        return _returned(column, value, date)
    if family == "datetime":
        moment = _returned(column, value, datetime)
        if moment.tzinfo is not None:
            raise _returned_error(column, value)
        return moment
    if family == "timestamp":
        moment = _returned(column, value, datetime)
        if moment.tzinfo is None:
            raise _returned_error(column, value)
        return moment.astimezone(UTC)
    if family == "time":
        return _returned(column, value, timedelta)
    if family == "set":
        members = _returned(column, value, list)
        if not all(isinstance(m, str) for m in members):
            raise _returned_error(column, value)
        return frozenset(members)
    if family in _BINARY:
        if isinstance(value, memoryview | bytearray):
            return bytes(value)
        return _returned(column, value, bytes)
    if family == "json" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return _returned(column, value, str)


def json_equivalent(left: str, right: str) -> bool:
    """Whether two JSON texts are the same document, as jsonb sees it: key order, whitespace
    and number spelling (``1.0E2`` vs ``100.0``) aside; duplicate keys keep the last value."""
    return _json_tagged(json.loads(left, parse_float=Decimal, parse_int=Decimal)) == _json_tagged(
        json.loads(right, parse_float=Decimal, parse_int=Decimal))


def _json_tagged(value: object) -> object:
    """A form where Python's ``True == 1`` and ``[...] == (...)`` cannot make two documents
    equal."""
    if isinstance(value, dict):
        return ("object", {key: _json_tagged(member) for key, member in value.items()})
    if isinstance(value, list):
        return ("array", [_json_tagged(member) for member in value])
    return (type(value).__name__, value)


# --- helpers -----------------------------------------------------------------------------------


def _binary32(number: float) -> float:
    """The binary32 value nearest ``number``, widened; NaN for a number beyond its range."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", number))[0])
    except OverflowError:
        return float("nan")


def _fsp(column: Column) -> int:
    fsp = column.scale or 0
    if not 0 <= fsp <= 6:
        raise _mapping_error(column, f"{fsp} fractional-second digits", "MySQL allows 0 to 6")
    return fsp


def _bit_width(column: Column) -> int:
    return column.precision or 64  # as cdc.values reads BIT


def _check_fraction(column: Column, microseconds: int) -> None:
    """PostgreSQL would round a fraction finer than the column's precision: refuse it."""
    if microseconds % 10 ** (6 - _fsp(column)):
        raise _mapping_error(column, f"a fraction ({microseconds} us) finer than the column's "
                             f"{_fsp(column)} digits", "the row and the table version disagree")


def _expect(column: Column, value: object, kind: type[_T]) -> _T:
    # bool is an int and datetime a date to isinstance: neither is that family's value.
    if not isinstance(value, kind) or isinstance(value, bool) or (
            kind is date and isinstance(value, datetime)):
        raise _mapping_error(column, f"expected a {kind.__name__} value, got "
                             f"{type(value).__name__} {value!r}", "the row is not canonical")
    return value


def _returned(column: Column, value: object, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or isinstance(value, bool) or (
            kind is date and isinstance(value, datetime)):
        raise _returned_error(column, value)
    return value


def _returned_error(column: Column, value: object) -> TypeMappingError:
    return _mapping_error(
        column, f"PostgreSQL returned {type(value).__name__} {value!r}",
        f"the PostgreSQL column should be {postgres_type(column)}, read with psycopg2's default "
        "type casters (DateStyle=ISO, IntervalStyle=postgres)",
    )


def _mapping_error(column: Column, what: str, hint: str) -> TypeMappingError:
    return TypeMappingError(f"column {column.name!r} ({column.type}): {what}", hint=hint)
