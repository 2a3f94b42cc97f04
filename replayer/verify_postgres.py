"""PostgreSQL copies for ``replayer verify``.

The layout the PostgreSQL loader writes: the MySQL database ``db`` is the schema ``db`` of the
DSN's database, with the same table and column names, column types from
``postgres_types.postgres_type`` (``cdc_replayer`` holds the replayer's bookkeeping and is
never compared). The target is read inside one REPEATABLE READ, READ ONLY transaction in UTC,
the columns in the source's order (by name), in primary-key order; every value goes back to
its canonical value (``postgres_types.from_postgres``), JSON to ``json_normal_form``, and the
row to its canonical encoding, so its bytes compare with the source's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, Final

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from cdc.avro.row_schema import row_codec
from cdc.changes import Row, TableSchema
from cdc.dsn import Dsn
from cdc.errors import ConfigError, TypeMappingError
from cdc.snapshot.tasks import integer_key
from cdc.tls_settings import is_tls_failure, libpq_options, postgres_tls_hint
from replayer.postgres_types import from_postgres, postgres_type, quote_ident
from replayer.verify_chunks import TableCopy
from replayer.verify_compare import Key, KeyRange, normal_json, shape_differences

_FETCH: Final = 2000
_TYPE_SPELLINGS: Final = (("character varying", "varchar"),)
"""``format_type``'s names that ``postgres_type`` spells shorter."""
_TABLE: Final = """
SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')"""
_COLUMNS: Final = """
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum"""
_PRIMARY_KEY: Final = """
SELECT a.attname FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s AND i.indisprimary ORDER BY k.position"""
_cursor_names = itertools.count(1)


def open_postgres(dsn: Dsn) -> Any:
    """A connection to the PostgreSQL target inside one REPEATABLE READ, READ ONLY
    transaction, in UTC, JSON read as text."""
    if not dsn.database:
        raise ConfigError(f"--target {dsn.redacted()} names no database",
                          "write it as postgresql://user:password@host:port/dbname")
    try:
        connection = psycopg2.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                                      password=dsn.password or "", dbname=dsn.database,
                                      connect_timeout=10, application_name="replayer verify",
                                      **libpq_options(dsn))
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
        if is_tls_failure(reason):
            raise ConfigError(f"TLS to --target {dsn.redacted()} failed: {reason}",
                              postgres_tls_hint(dsn, "--target")) from None
        raise ConfigError(f"cannot connect to --target {dsn.redacted()}: {reason}",
                          "check --target: host, port, user, password and database, and "
                          "that the server is up") from None
    try:
        _prepare(connection, dsn)
    except BaseException:
        connection.close()
        raise
    return connection


def _prepare(connection: Any, dsn: Dsn) -> None:
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute("SHOW server_encoding")
    found = cursor.fetchone()
    encoding = str(found[0]) if found else "?"
    if encoding.upper() not in ("UTF8", "UNICODE"):
        raise ConfigError(f"the target database {dsn.database} uses the encoding {encoding}",
                          "a PostgreSQL copy must use ENCODING 'UTF8'")
    connection.set_client_encoding("UTF8")
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.execute("SET DateStyle = 'ISO'")  # what psycopg2 parses
    cursor.execute("SET IntervalStyle = 'postgres'")
    psycopg2.extras.register_default_jsonb(connection, loads=_as_text)
    psycopg2.extras.register_default_json(connection, loads=_as_text)
    connection.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
                           readonly=True, autocommit=False)


def _as_text(text: str) -> str:
    return text


def postgres_shape_problem(schema: TableSchema, columns: Mapping[str, str],
                           primary_key: tuple[str, ...]) -> str | None:
    """How a PostgreSQL table (column name to ``format_type``, and its primary key) differs
    from the one ``create_table_sql`` makes of the source table; None when it does not.
    Column order does not matter: columns are read by name."""
    try:
        expected = {column.name: postgres_type(column) for column in schema.columns}
    except TypeMappingError as exc:
        return f"the table cannot be compared with PostgreSQL: {exc.message}"
    found = {name: _spelled(kind) for name, kind in columns.items()}
    parts = shape_differences(expected, found, schema.primary_key, primary_key)
    return "the table's shape differs: " + "; ".join(parts) if parts else None


def _spelled(kind: str) -> str:
    for long, short in _TYPE_SPELLINGS:
        if kind.startswith(long):
            return short + kind[len(long):]
    return kind


class PostgresTarget:
    """A PostgreSQL target: each source table in the schema of its database's name."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def copy_of(self, schema: TableSchema) -> TableCopy | str:
        cursor = self._connection.cursor()
        cursor.execute(_TABLE, (schema.database, schema.table))
        found = cursor.fetchone()
        if found is None:
            return (f"the table is missing in the target (no table {schema.table} in the "
                    f"PostgreSQL schema {schema.database})")
        cursor.execute(_COLUMNS, (found[0],))
        columns = {str(name): str(kind) for name, kind in cursor.fetchall()}
        cursor.execute(_PRIMARY_KEY, (found[0],))
        key = tuple(str(name) for (name,) in cursor.fetchall())
        problem = postgres_shape_problem(schema, columns, key)
        return problem if problem is not None else PostgresCopy(self._connection, schema)


class PostgresCopy:
    """One table of the target, read as the source table ``schema``'s rows."""

    def __init__(self, connection: Any, schema: TableSchema) -> None:
        self._connection = connection
        self._schema = schema
        self._table = f"{quote_ident(schema.database)}.{quote_ident(schema.table)}"
        self._columns = ", ".join(quote_ident(c.name) for c in schema.columns)
        self._order = ", ".join(quote_ident(name) for name in schema.primary_key)
        self._integer_key = integer_key(schema)
        self._key_names = schema.primary_key or tuple(c.name for c in schema.columns)
        self._json = tuple(c.name for c in schema.columns if c.type == "json")
        self._encode = row_codec(schema).encode

    def key_bounds(self) -> tuple[int, int] | None:
        if self._integer_key is None:
            return None
        key = quote_ident(self._integer_key)
        cursor = self._connection.cursor()
        cursor.execute(f"SELECT MIN({key}), MAX({key}) FROM {self._table}")
        low, high = cursor.fetchone()
        return None if low is None else (int(low), int(high))

    def encoded(self, key_range: KeyRange) -> Iterator[bytes]:
        for row in self._rows(key_range):
            yield self._encoded(row)

    def by_key(self, key_range: KeyRange) -> dict[Key, bytes]:
        return {tuple(row[name] for name in self._key_names): self._encoded(row)
                for row in self._rows(key_range)}

    def _rows(self, key_range: KeyRange) -> Iterator[Row]:
        statement = f"SELECT {self._columns} FROM {self._table}"
        parameters: tuple[int, ...] = ()
        if key_range is not None and self._integer_key is not None:
            statement += f" WHERE {quote_ident(self._integer_key)} BETWEEN %s AND %s"
            parameters = key_range
        if self._order:
            statement += f" ORDER BY {self._order}"
        cursor = self._connection.cursor(name=f"verify_{next(_cursor_names)}")
        cursor.itersize = _FETCH
        try:
            cursor.execute(statement, parameters)
            for values in cursor:
                yield self._canonical(values)
        finally:
            cursor.close()

    def _canonical(self, values: tuple[object, ...]) -> Row:
        row = {column.name: from_postgres(column, value)
               for column, value in zip(self._schema.columns, values, strict=True)}
        for name in self._json:
            row[name] = normal_json(row[name])
        return row

    def _encoded(self, row: Row) -> bytes:
        try:
            return self._encode(row)
        except ValueError as exc:
            key = tuple(row[name] for name in self._key_names)
            raise TypeMappingError(
                f"{self._schema.qualified_name}: the target's row {key} holds a value the "
                f"source's column cannot: {exc}",
                hint="the PostgreSQL column accepts values the source's does not; fix the "
                     "row in the target") from None
