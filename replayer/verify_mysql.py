"""MySQL/MariaDB copies for ``replayer verify``: a server read inside one consistent read in
UTC, each table read in primary-key order through the snapshot's reader and its fused
canonical encoder (``cdc.snapshot.raw_values``), so a row's bytes are its changelog encoding."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cdc.changes import TableSchema
from cdc.dsn import Dsn
from cdc.errors import ConfigError, SourceCheckError
from cdc.snapshot.raw_values import batch_encoder
from cdc.snapshot.session import connect
from cdc.snapshot.source_tables import (
    TableSelection,
    estimated_rows,
    list_tables,
    read_table_schema,
)
from cdc.snapshot.table_rows import canonical_values, key_bounds, read_raw_rows
from cdc.snapshot.tasks import integer_key
from cdc.snapshot.text_values import converter_for
from replayer.apply_mysql import POSITION_DATABASE
from replayer.verify_chunks import SourceTable, TableCopy, range_chunks
from replayer.verify_compare import Key, KeyRange, normal_json, shape_differences

_BATCH = 256
RawRow = tuple[object, ...]


def open_mysql(dsn: Dsn, option: str) -> Any:
    """A connection to the server ``option`` names, inside one consistent read in UTC."""
    try:
        connection = connect(dsn)
    except SourceCheckError as exc:
        reason = exc.message.partition(f"{dsn.redacted()}: ")[2] or exc.message
        raise ConfigError(f"cannot connect to {option} {dsn.redacted()}: {reason}",
                          f"check {option}: host, port, user and password, and that the "
                          "server is up") from None
    cursor = connection.cursor()
    cursor.execute("SET SESSION time_zone = '+00:00'")
    cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    return connection


def mysql_tables(connection: Any, tables: TableSelection, chunk_rows: int, *,
                 normalize_json: bool) -> Iterator[SourceTable]:
    """The included tables of a live source (never the replayer's bookkeeping), each read
    in key ranges of about ``chunk_rows`` rows."""
    for database, table in list_tables(connection.cursor(), tables):
        if database == POSITION_DATABASE:
            continue
        schema = read_table_schema(connection.cursor(), database, table)
        estimate = estimated_rows(connection.cursor(), database, table)
        copy = MysqlCopy(connection, schema, normalize_json=normalize_json)
        yield SourceTable(schema, estimate, range_chunks(schema, copy, estimate, chunk_rows))


class MysqlTarget:
    """A MySQL/MariaDB target: the same databases, tables and columns as the source."""

    def __init__(self, connection: Any, *, normalize_json: bool = False) -> None:
        self._connection = connection
        self._normalize_json = normalize_json

    def copy_of(self, schema: TableSchema) -> TableCopy | str:
        cursor = self._connection.cursor()
        cursor.execute("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                       "AND TABLE_NAME = %s", (schema.database, schema.table))
        if cursor.fetchone() is None:
            return "the table is missing in the target"
        theirs = read_table_schema(self._connection.cursor(), schema.database, schema.table)
        if not schema.same_shape(theirs):
            return shape_difference(schema, theirs)
        return MysqlCopy(self._connection, theirs, normalize_json=self._normalize_json)


def shape_difference(ours: TableSchema, theirs: TableSchema) -> str:
    parts = shape_differences({c.name: str(c) for c in ours.columns},
                              {c.name: str(c) for c in theirs.columns},
                              ours.primary_key, theirs.primary_key)
    return "the table's shape differs: " + ("; ".join(parts) or "column order")


class MysqlCopy:
    """One table of a server in its consistent read; JSON in normal form if asked (to
    compare with an engine that normalizes it)."""

    def __init__(self, connection: Any, schema: TableSchema, *, normalize_json: bool) -> None:
        self._connection = connection
        self._schema = schema
        self._encode = batch_encoder(schema)
        names = tuple(c.name for c in schema.columns)
        self._json_at = tuple(i for i, c in enumerate(schema.columns)
                              if c.type == "json") if normalize_json else ()
        self._key_names = schema.primary_key or names
        self._key_at = tuple(names.index(name) for name in self._key_names)
        self._key_converters = tuple(converter_for(schema.column(name))
                                     for name in self._key_names)

    def key_bounds(self) -> tuple[int, int] | None:
        key = integer_key(self._schema)
        return key_bounds(self._connection, self._schema, key) if key else None

    def encoded(self, key_range: KeyRange) -> Iterator[bytes]:
        batch: list[RawRow] = []
        for row in self._rows(key_range):
            batch.append(row)
            if len(batch) == _BATCH:
                yield from self._encode(batch)
                batch = []
        if batch:
            yield from self._encode(batch)

    def by_key(self, key_range: KeyRange) -> dict[Key, bytes]:
        rows = list(self._rows(key_range))
        return {self._key(row): record
                for row, record in zip(rows, self._encode(rows), strict=True)}

    def _rows(self, key_range: KeyRange) -> Iterable[RawRow]:
        rows = read_raw_rows(self._connection, self._schema, key_range)
        return map(self._normalized, rows) if self._json_at else rows

    def _normalized(self, row: RawRow) -> RawRow:
        values = list(row)
        for index in self._json_at:
            values[index] = normal_json(values[index])
        return tuple(values)

    def _key(self, row: RawRow) -> Key:
        """The key's canonical values (the same whichever engine a copy is in)."""
        key = canonical_values(self._schema, self._key_names, self._key_converters,
                               [row[index] for index in self._key_at])
        return tuple(key[name] for name in self._key_names)
