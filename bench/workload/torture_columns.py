"""The type-torture table's columns: one per common MySQL/MariaDB column type.

Every column except the primary key is nullable, so one row can be all NULL. The DDL is
generated from this list, so the list is the single truth about the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

TORTURE_TABLE = "type_torture"


class ValueKind(Enum):
    """How a column's values look in Python, which decides how they are written and read."""

    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"  # 4-byte: values must be exact binary32 numbers
    DOUBLE = "double"
    BIT = "bit"  # an int holding the bits
    DATE = "date"
    DATETIME = "datetime"  # naive: wall-clock time, no zone
    TIMESTAMP = "timestamp"  # aware, UTC: an instant
    TIME = "time"  # timedelta, may be negative
    YEAR = "year"
    TEXT = "text"
    BYTES = "bytes"
    ENUM = "enum"
    SET = "set"  # frozenset of member names
    JSON = "json"  # the parsed document


@dataclass(frozen=True)
class TortureColumn:
    name: str
    sql_type: str
    kind: ValueKind
    minimum: int | None = None  # integer types only
    maximum: int | None = None
    precision: int | None = None  # DECIMAL only
    scale: int | None = None
    max_length: int | None = None  # characters, or bytes when length_in_bytes
    length_in_bytes: bool = False  # binary types, and TEXT types (bytes of the encoding)
    fixed_length: bool = False  # CHAR/BINARY: values are stored padded to max_length
    fraction_digits: int = 0  # DATETIME/TIMESTAMP/TIME fractional seconds
    bits: int | None = None  # BIT(n)
    members: tuple[str, ...] = ()  # ENUM and SET

    def definition(self) -> str:
        return f"`{self.name}` {self.sql_type} NULL DEFAULT NULL"


def _integer(name: str, sql_type: str, bits: int, *, unsigned: bool) -> TortureColumn:
    if unsigned:
        return TortureColumn(name, f"{sql_type} UNSIGNED", ValueKind.INTEGER,
                             minimum=0, maximum=2**bits - 1)
    return TortureColumn(name, sql_type, ValueKind.INTEGER,
                         minimum=-(2 ** (bits - 1)), maximum=2 ** (bits - 1) - 1)


def _text(name: str, sql_type: str, max_length: int, *, charset: str = "utf8mb4",
          fixed_length: bool = False, length_in_bytes: bool = False) -> TortureColumn:
    return TortureColumn(name, f"{sql_type} CHARACTER SET {charset}", ValueKind.TEXT,
                         max_length=max_length, fixed_length=fixed_length,
                         length_in_bytes=length_in_bytes)


def _binary(name: str, sql_type: str, max_length: int, *,
            fixed_length: bool = False) -> TortureColumn:
    return TortureColumn(name, sql_type, ValueKind.BYTES, max_length=max_length,
                         fixed_length=fixed_length, length_in_bytes=True)


ENUM_MEMBERS = ("pending", "settled", "failed", "refunded", "ünïcödé ✓")
SET_MEMBERS = ("card", "sepa", "wire", "instant", "wallet", "crypto")


def _quoted(members: tuple[str, ...]) -> str:
    return ",".join("'" + m.replace("'", "''") + "'" for m in members)


TORTURE_COLUMNS: tuple[TortureColumn, ...] = (
    _integer("tiny_signed", "TINYINT", 8, unsigned=False),
    _integer("tiny_unsigned", "TINYINT", 8, unsigned=True),
    _integer("small_signed", "SMALLINT", 16, unsigned=False),
    _integer("small_unsigned", "SMALLINT", 16, unsigned=True),
    _integer("medium_signed", "MEDIUMINT", 24, unsigned=False),
    _integer("medium_unsigned", "MEDIUMINT", 24, unsigned=True),
    _integer("int_signed", "INT", 32, unsigned=False),
    _integer("int_unsigned", "INT", 32, unsigned=True),
    _integer("big_signed", "BIGINT", 64, unsigned=False),
    _integer("big_unsigned", "BIGINT", 64, unsigned=True),
    TortureColumn("decimal_65_30", "DECIMAL(65,30)", ValueKind.DECIMAL, precision=65, scale=30),
    TortureColumn("decimal_19_4", "DECIMAL(19,4)", ValueKind.DECIMAL, precision=19, scale=4),
    TortureColumn("float_value", "FLOAT", ValueKind.FLOAT),
    TortureColumn("double_value", "DOUBLE", ValueKind.DOUBLE),
    TortureColumn("bit_1", "BIT(1)", ValueKind.BIT, bits=1),
    TortureColumn("bit_64", "BIT(64)", ValueKind.BIT, bits=64),
    TortureColumn("date_value", "DATE", ValueKind.DATE),
    TortureColumn("datetime_value", "DATETIME", ValueKind.DATETIME),
    TortureColumn("datetime_6", "DATETIME(6)", ValueKind.DATETIME, fraction_digits=6),
    TortureColumn("timestamp_value", "TIMESTAMP", ValueKind.TIMESTAMP),
    TortureColumn("timestamp_6", "TIMESTAMP(6)", ValueKind.TIMESTAMP, fraction_digits=6),
    TortureColumn("time_value", "TIME", ValueKind.TIME),
    TortureColumn("time_6", "TIME(6)", ValueKind.TIME, fraction_digits=6),
    TortureColumn("year_value", "YEAR", ValueKind.YEAR),
    _text("char_value", "CHAR(16)", 16, fixed_length=True),
    _text("varchar_utf8mb4", "VARCHAR(255)", 255),
    _text("varchar_latin1", "VARCHAR(255)", 255, charset="latin1"),
    _binary("binary_16", "BINARY(16)", 16, fixed_length=True),
    _binary("varbinary_value", "VARBINARY(255)", 255),
    _binary("tinyblob_value", "TINYBLOB", 2**8 - 1),
    _binary("blob_value", "BLOB", 2**16 - 1),
    _binary("mediumblob_value", "MEDIUMBLOB", 2**24 - 1),
    _binary("longblob_value", "LONGBLOB", 2**32 - 1),
    # TEXT limits count bytes of the encoding, not characters.
    _text("tinytext_value", "TINYTEXT", 2**8 - 1, length_in_bytes=True),
    _text("text_value", "TEXT", 2**16 - 1, length_in_bytes=True),
    _text("mediumtext_value", "MEDIUMTEXT", 2**24 - 1, length_in_bytes=True),
    _text("longtext_value", "LONGTEXT", 2**32 - 1, length_in_bytes=True),
    TortureColumn("enum_value", f"ENUM({_quoted(ENUM_MEMBERS)})", ValueKind.ENUM,
                  members=ENUM_MEMBERS),
    TortureColumn("set_value", f"SET({_quoted(SET_MEMBERS)})", ValueKind.SET,
                  members=SET_MEMBERS),
    TortureColumn("json_value", "JSON", ValueKind.JSON),
)

COLUMNS_BY_NAME: dict[str, TortureColumn] = {c.name: c for c in TORTURE_COLUMNS}


def torture_table_ddl() -> str:
    lines = ["  `id` INT UNSIGNED NOT NULL"]
    lines += [f"  {column.definition()}" for column in TORTURE_COLUMNS]
    lines.append("  PRIMARY KEY (`id`)")
    body = ",\n".join(lines)
    return (f"CREATE TABLE IF NOT EXISTS `{TORTURE_TABLE}` (\n{body}\n"
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
