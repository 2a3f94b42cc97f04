"""Column descriptions from the binlog's table map (``binlog_row_metadata=FULL``).

The table map carries each column's binlog type code and metadata (lengths, precision,
fractional digits, signedness, character set, ENUM/SET members, key). Some declared types share
one binlog form and cannot be told apart here; docs/types.md lists them.
"""

from __future__ import annotations

from typing import Any

from pymysqlreplication.constants import FIELD_TYPE

from cdc.binlog.decoders import MAX_BYTES_PER_CHARACTER, SUPPORTED_CHARSETS
from cdc.binlog.fast_rows import compile_fast_plan
from cdc.binlog.library_fixes import ANNOTATED_MARK
from cdc.binlog.row_decoder import ColumnLayout, RowPlan, UnsupportedLayout, compile_plan
from cdc.changes import Column
from cdc.errors import SourceCheckError, TypeMappingError

_SIMPLE = {
    FIELD_TYPE.TINY: "tinyint",
    FIELD_TYPE.SHORT: "smallint",
    FIELD_TYPE.INT24: "mediumint",
    FIELD_TYPE.LONG: "int",
    FIELD_TYPE.LONGLONG: "bigint",
    FIELD_TYPE.FLOAT: "float",
    FIELD_TYPE.DOUBLE: "double",
    FIELD_TYPE.YEAR: "year",
    FIELD_TYPE.DATE: "date",
    FIELD_TYPE.JSON: "json",
    FIELD_TYPE.GEOMETRY: "geometry",
}
_NUMERIC = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float",
                      "double"})
_TEMPORAL = {
    FIELD_TYPE.TIME: "time",
    FIELD_TYPE.TIME2: "time",
    FIELD_TYPE.DATETIME: "datetime",
    FIELD_TYPE.DATETIME2: "datetime",
    FIELD_TYPE.TIMESTAMP: "timestamp",
    FIELD_TYPE.TIMESTAMP2: "timestamp",
}
_COLUMNS_ATTRIBUTE = "_cdc_columns"
_PLAN_ATTRIBUTE = "_cdc_row_plan"
_FAST_PLAN_ATTRIBUTE = "_cdc_fast_plan"
_CHECKED_KEY_ATTRIBUTE = "_cdc_checked_key"
# MariaDB and MySQL send every TEXT/BLOB size as BLOB with the size of its length prefix.
_BLOB_SIZES = {1: "tiny", 2: "", 3: "medium", 4: "long"}


def columns_from_table_map(table: Any) -> tuple[Column, ...]:
    """The columns of a ``pymysqlreplication.table.Table`` read with the library fixes.

    The tuple is kept on the table map, so every rows event of a table map gets the same one
    (``canonical_row`` looks its converters up by the tuple's identity).
    """
    cached: tuple[Column, ...] | None = getattr(table, _COLUMNS_ATTRIBUTE, None)
    if cached is None:
        _require_annotations(table)
        cached = tuple(_column(table, column) for column in table.columns)
        setattr(table, _COLUMNS_ATTRIBUTE, cached)
    return cached


def row_plan_of(table: Any) -> RowPlan | None:
    """The compiled row decoder of a table map, or None when a column needs the library's
    own decoding (MySQL's binary JSON). Kept on the table map, like its columns."""
    if not hasattr(table, _PLAN_ATTRIBUTE):
        try:
            plan: RowPlan | None = compile_plan(f"{table.schema}.{table.table}",
                                                _layouts(table))
        except UnsupportedLayout:
            plan = None
        setattr(table, _PLAN_ATTRIBUTE, plan)
    found: RowPlan | None = getattr(table, _PLAN_ATTRIBUTE)
    return found


def fast_plan_of(table: Any) -> Any | None:
    """The compiled fast path's plan of a table map (``fast_rows``), or None when its rows
    go the reference way. Kept on the table map."""
    if not hasattr(table, _FAST_PLAN_ATTRIBUTE):
        setattr(table, _FAST_PLAN_ATTRIBUTE, compile_fast_plan(
            table.schema, table.table, _layouts(table), primary_key_of(table)))
    return getattr(table, _FAST_PLAN_ATTRIBUTE)


def _layouts(table: Any) -> tuple[ColumnLayout, ...]:
    columns = columns_from_table_map(table)
    return tuple(ColumnLayout(lib.type, _layout_length(lib), column)
                 for lib, column in zip(table.columns, columns, strict=True))


def _layout_length(lib: Any) -> int:
    if lib.type in (FIELD_TYPE.STRING, FIELD_TYPE.VARCHAR, FIELD_TYPE.VAR_STRING):
        return int(lib.max_length)
    if lib.type in (FIELD_TYPE.BLOB, FIELD_TYPE.GEOMETRY, FIELD_TYPE.JSON):
        return int(lib.length_size)
    if lib.type in (FIELD_TYPE.ENUM, FIELD_TYPE.SET):
        return int(lib.size)
    return 0


def primary_key_of(table: Any) -> tuple[str, ...]:
    """The primary key's column names in key order (not column order); () without a key."""
    checked: tuple[str, ...] | None = getattr(table, _CHECKED_KEY_ATTRIBUTE, None)
    if checked is None:
        _require_annotations(table)
        checked = table._cdc_primary_key
        setattr(table, _CHECKED_KEY_ATTRIBUTE, checked)
    return checked


def _require_annotations(table: Any) -> None:
    if not getattr(table, ANNOTATED_MARK, False):
        raise TypeMappingError(
            f"the table map of {table.schema}.{table.table} was read without the library fixes",
            hint="call cdc.binlog.library_fixes.install() before creating the BinLogStreamReader",
        )
    if any(not column.name for column in table.columns):
        raise SourceCheckError(
            f"the table map of {table.schema}.{table.table} carries no column names",
            hint="set binlog_row_metadata=FULL on the source (SET GLOBAL binlog_row_metadata="
                 "'FULL' and in its configuration file); rows written before it stay unnamed",
        )


def _column(table: Any, lib: Any) -> Column:
    code = lib.type
    charset: str | None = lib._cdc_charset
    text_charset = None if charset in (None, "binary") else charset
    if text_charset is not None and text_charset not in SUPPORTED_CHARSETS:
        raise TypeMappingError(
            f"column {table.schema}.{table.table}.{lib.name} uses the character set "
            f"{text_charset!r}, which capture cannot decode exactly",
            hint="convert the column to utf8mb4; supported: "
                 + ", ".join(sorted(SUPPORTED_CHARSETS)),
        )
    family, precision, scale, members = _shape(code, lib, text_charset)
    if family is None:
        raise TypeMappingError(
            f"column {table.schema}.{table.table}.{lib.name} has the binlog type {code}, "
            "which capture does not support",
            hint="see docs/types.md for the supported types",
        )
    return Column(
        name=lib.name,
        type=family,
        unsigned=bool(lib.unsigned) and family in _NUMERIC,
        precision=precision,
        scale=scale,
        charset="utf8mb4" if family == "json" else text_charset,
        members=members,
        nullable=lib._cdc_nullable,
    )


def _shape(code: int, lib: Any, charset: str | None
           ) -> tuple[str | None, int | None, int | None, tuple[str, ...]]:
    """Type family, precision, scale and members of one table-map column."""
    if code in _SIMPLE:
        return _SIMPLE[code], None, None, ()
    if code in _TEMPORAL:
        return _TEMPORAL[code], None, getattr(lib, "fsp", 0), ()
    if code == FIELD_TYPE.NEWDECIMAL:
        return "decimal", lib.precision, lib.decimals, ()
    if code == FIELD_TYPE.BIT:
        return "bit", lib.bits, None, ()
    if code in (FIELD_TYPE.STRING, FIELD_TYPE.VARCHAR, FIELD_TYPE.VAR_STRING):
        fixed = code == FIELD_TYPE.STRING
        if charset is None:
            return ("binary" if fixed else "varbinary"), lib.max_length, None, ()
        length = _declared_length(lib.max_length, charset)
        return ("char" if fixed else "varchar"), length, None, ()
    if code == FIELD_TYPE.BLOB:
        size = _BLOB_SIZES.get(lib.length_size)
        if size is None:
            return None, None, None, ()
        return size + ("blob" if charset is None else "text"), None, None, ()
    if code in (FIELD_TYPE.ENUM, FIELD_TYPE.SET):
        family = "enum" if code == FIELD_TYPE.ENUM else "set"
        if lib._cdc_members is None:
            raise TypeMappingError(
                f"the table map gives no member names for the {family.upper()} column "
                f"{lib.name!r}",
                hint="set binlog_row_metadata=FULL on the source; an ENUM or SET of the binary "
                     "character set is not supported")
        return family, None, None, lib._cdc_members
    return None, None, None, ()


def _declared_length(max_bytes: int, charset: str) -> int | None:
    """CHAR/VARCHAR(n) from the byte length the table map gives, when the charset says how."""
    width = MAX_BYTES_PER_CHARACTER.get(charset)
    if width is None or max_bytes % width:
        return None
    return max_bytes // width
