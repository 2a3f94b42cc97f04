"""The fused bulk-load text loaded into the real servers.

The workload's type-torture table (and a table of the families it lacks: GEOMETRY, BIT(10),
ENUM's '' and an ENUM with a member "0", latin1 ENUM/SET/TEXT, ucs2, utf16, utf8mb3 and ascii
text, TIME(3), TIMESTAMP(3), partial zero dates) is read from the source and encoded as a
snapshot reads and encodes it, then

- loaded with ``LOAD DATA LOCAL INFILE`` into a fresh database on the stack's MariaDB target
  and compared row for row, and with CHECKSUM TABLE, with the source;
- loaded with COPY into a fresh PostgreSQL schema (the rows PostgreSQL can hold: not the zero
  dates) and read back through ``from_postgres`` into the canonical rows;

in the host's time zone and under TZ=America/New_York.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

from cdc.changes import Row, TableSchema
from cdc.dsn import parse_dsn
from cdc.errors import CdcError, TypeMappingError
from cdc.snapshot.chunk_file import decode_chunk, encode_batches, encode_chunk, iter_blocks
from cdc.snapshot.raw_values import batch_encoder
from cdc.snapshot.session import connect
from cdc.snapshot.source_tables import quote, read_table_schema, show_create_table
from cdc.snapshot.table_rows import read_raw_rows
from replayer.apply_mysql import TARGET_SQL_MODE
from replayer.bulk_text import encode_blocks
from replayer.bulk_text_mysql import check_load_info, mysql_load_encoder
from replayer.bulk_text_postgres import postgres_copy_encoder
from replayer.postgres_types import create_table_sql, from_postgres, quote_ident
from tests.compare import source_rows
from tests.db import mysql_connect, postgres_connect, unique_name
from tests.integration.test_capture_crash import finish, workload
from tests.stack import StackEnv

pytestmark = pytest.mark.integration

TORTURE = "type_torture"
EXTRAS = "extras"
EXTRAS_DDL = """
CREATE TABLE `extras` (
  `id` INT NOT NULL PRIMARY KEY,
  `shape` GEOMETRY NULL,
  `bits` BIT(10) NULL,
  `year_value` YEAR NULL,
  `status` ENUM('new','paid') NULL,
  `zero_enum` ENUM('0','1') NULL,
  `latin_enum` ENUM('Café','ÿ') CHARACTER SET latin1 NULL,
  `latin_set` SET('Café','ÿ','x') CHARACTER SET latin1 NULL,
  `latin_text` TEXT CHARACTER SET latin1 NULL,
  `ucs2_text` VARCHAR(64) CHARACTER SET ucs2 NULL,
  `utf16_text` VARCHAR(64) CHARACTER SET utf16 NULL,
  `utf8mb3_text` VARCHAR(64) CHARACTER SET utf8mb3 NULL,
  `ascii_text` VARCHAR(64) CHARACTER SET ascii NULL,
  `time_3` TIME(3) NULL,
  `ts_3` TIMESTAMP(3) NULL DEFAULT NULL,
  `dt_0` DATETIME NULL,
  `date_value` DATE NULL,
  `blob_value` BLOB NULL,
  `text_value` TEXT CHARACTER SET utf8mb4 NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""
EXTRAS_ROWS = [
    "INSERT INTO `extras` (`id`) VALUES (1)",
    # non-strict: 'bogus' and 'zz' are no members, stored as '' (index 0)
    "INSERT INTO `extras` VALUES (2, ST_GeomFromText('POINT(1 2)'), b'1111111111', 0, 'bogus',"
    " 'zz', 'Café', 'Café,ÿ', 'Ålborg ½ € \\\\ \\t end', 'ucs2 ü', 'utf16 💳', 'mb3 ü',"
    " 'ascii \\\\N', '-00:00:01.500', '2038-01-19 03:14:07.999', '0000-00-00 00:00:00',"
    " '2020-00-15', UNHEX('00090A0D5C4E1A7FFF'), '\\\\N')",
    "INSERT INTO `extras` VALUES (3, ST_GeomFromText('LINESTRING(0 0,1 1,2 1)'), b'0', 1901,"
    " 'paid', '1', 'ÿ', '', '', '', '', '', '', '838:59:59.000', '1970-01-01 00:00:01.001',"
    " '9999-12-31 23:59:59', '2024-02-29', '', '')",
]
ZERO_DATE_ROWS = {TORTURE: {5}, EXTRAS: {2}}
"""The rows with zero dates, which PostgreSQL cannot hold."""


@dataclass(frozen=True)
class SourceTable:
    schema: TableSchema
    create_statement: str
    file: list[bytes]
    """The table's rows as a snapshot file: read and encoded as a snapshot does."""

    @property
    def name(self) -> str:
        return f"{self.schema.table}.0001.avro"

    def rows(self) -> list[Row]:
        return list(decode_chunk(self.schema, self.file, self.name))


@pytest.fixture(scope="module")
def source(stack_env: StackEnv) -> Iterator[tuple[str, dict[str, SourceTable]]]:
    database = unique_name("bulktext")
    finish(workload(stack_env, database, "--setup-only"))
    try:
        with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"], database) as conn, \
                conn.cursor() as cursor:
            cursor.execute(EXTRAS_DDL)
            cursor.execute("SET SESSION sql_mode = ''")
            for statement in EXTRAS_ROWS:
                cursor.execute(statement)
        yield database, {table: read_source_table(stack_env, database, table)
                         for table in (TORTURE, EXTRAS)}
    finally:
        with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(database)}")


def read_source_table(stack_env: StackEnv, database: str, table: str) -> SourceTable:
    connection = connect(parse_dsn(stack_env["CDC_SOURCE_ADMIN_DSN"]))  # autocommit
    try:
        cursor = connection.cursor()
        cursor.execute("SET SESSION time_zone = '+00:00'")
        schema = read_table_schema(cursor, database, table)
        create = show_create_table(cursor, database, table)
        raw = list(read_raw_rows(connection, schema))
    finally:
        connection.close()
    file = list(encode_batches(schema, raw, batch_encoder(schema), block_rows=4))
    return SourceTable(schema, create, file)


@pytest.fixture(params=[None, "America/New_York"], ids=["host-tz", "new-york"])
def time_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
              ) -> Iterator[str | None]:
    zone: str | None = request.param
    if zone is not None:
        monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield zone
    monkeypatch.undo()
    time.tzset()


# --- MariaDB ------------------------------------------------------------------------------------


def target_connection(stack_env: StackEnv) -> Any:
    dsn = parse_dsn(stack_env["CDC_TARGET_MARIADB_DSN"])
    connection = MySQLdb.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                                 password=dsn.password or "", charset="utf8mb4",
                                 local_infile=True, autocommit=False)
    cursor = connection.cursor()  # as apply_mysql.prepare_session sets it up
    cursor.execute("SET SESSION time_zone = '+00:00'")
    cursor.execute(f"SET SESSION sql_mode = '{TARGET_SQL_MODE}'")
    cursor.execute("SET SESSION foreign_key_checks = 0")
    return connection


def load_data(connection: Any, table: SourceTable, database: str, path: Path) -> None:
    """Create the table in ``database`` and LOAD DATA the file's rows into it."""
    cursor = connection.cursor()
    cursor.execute(f"USE {quote(database)}")
    cursor.execute(table.create_statement)
    load = mysql_load_encoder(replace(table.schema, database=database))
    warnings = 0
    with path.open("wb") as file:
        for count, records in iter_blocks(table.schema, table.file, table.name):
            text, expected = load.encode_counted(count, records)
            file.write(text)
            warnings += expected
    cursor.execute(load.statement(str(path)))
    check_load_info(connection.info(), len(table.rows()), table.schema.table, warnings)
    connection.commit()


def checksum(dsn: str, database: str, table: str) -> int:
    with mysql_connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(f"CHECKSUM TABLE {quote(database)}.{quote(table)}")
        found = cursor.fetchone()
        assert found is not None
        return int(found[1])


def as_mysql_describes_it(table: SourceTable) -> SourceTable:
    """The table with its JSON column as MySQL's (JSON, not MariaDB's LONGTEXT): loaded
    through a variable and CONVERT, since a JSON column refuses binary strings."""
    columns = tuple(replace(c, type="json") if c.name == "json_value" else c
                    for c in table.schema.columns)
    schema = replace(table.schema, columns=columns)
    return SourceTable(schema, table.create_statement,
                       list(encode_chunk(schema, table.rows(), block_rows=4)))


@pytest.mark.parametrize("json_family", ["longtext", "json"])
def test_load_data_gives_the_source_rows_exactly(
        stack_env: StackEnv, source: tuple[str, dict[str, SourceTable]], tmp_path: Path,
        time_zone: str | None, json_family: str) -> None:
    database, tables = source
    if json_family == "json":
        tables = {**tables, TORTURE: as_mysql_describes_it(tables[TORTURE])}
        assert "CONVERT(@v" in mysql_load_encoder(tables[TORTURE].schema).statement("f")
    target = unique_name("bulkload")
    connection = target_connection(stack_env)
    try:
        connection.cursor().execute(f"CREATE DATABASE {quote(target)}")
        for table in tables.values():
            load_data(connection, table, target, tmp_path / f"{table.schema.table}.tsv")
    finally:
        connection.close()  # before the DROP, which would wait for its transaction
    try:
        source_dsn, target_dsn = stack_env["CDC_SOURCE_ADMIN_DSN"], stack_env[
            "CDC_TARGET_MARIADB_DSN"]
        for name in tables:
            with mysql_connect(source_dsn) as conn:
                expected = source_rows(conn, database, name)
            with mysql_connect(target_dsn) as conn:
                found = source_rows(conn, target, name)
            assert len(found) == len(expected) > 2
            for key, row in expected.items():
                assert found[key] == row, (name, key)
            assert checksum(target_dsn, target, name) == checksum(source_dsn, database, name)
    finally:
        with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as conn, \
                conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")


def test_invalid_dates_load_unchanged_and_a_skipped_row_is_refused_loudly(
        stack_env: StackEnv, source: tuple[str, dict[str, SourceTable]], tmp_path: Path) -> None:
    """A source with ALLOW_INVALID_DATES holds 2023-02-29, which the loading session keeps
    as it is (another mode would store 0000-00-00 with a mere warning); a row whose key is
    taken already is skipped by LOAD DATA, with a warning: refused."""
    database, _ = source
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"], database) as conn, \
            conn.cursor() as cursor:
        cursor.execute("CREATE TABLE `odd_dates` (`id` INT PRIMARY KEY, `d` DATE NULL)")
        cursor.execute("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")
        cursor.execute("INSERT INTO `odd_dates` VALUES (1, '2023-02-29'), (2, '2024-02-29')")
    table = read_source_table(stack_env, database, "odd_dates")
    target = unique_name("bulkload")
    connection = target_connection(stack_env)
    try:
        connection.cursor().execute(f"CREATE DATABASE {quote(target)}")
        load_data(connection, table, target, tmp_path / "odd.tsv")
        cursor = connection.cursor()
        cursor.execute(f"SELECT id, CAST(d AS CHAR) FROM {quote(target)}.`odd_dates` "
                       "ORDER BY id")
        assert cursor.fetchall() == ((1, "2023-02-29"), (2, "2024-02-29"))
        cursor.execute(f"DELETE FROM {quote(target)}.`odd_dates` WHERE id = 1")
        connection.commit()
        connection.commit()
        load = mysql_load_encoder(replace(table.schema, database=target))
        cursor.execute(load.statement(str(tmp_path / "odd.tsv")))
        with pytest.raises(CdcError, match="the server read 2, skipped 1"):
            check_load_info(connection.info(), 2, "odd_dates")
        connection.rollback()
    finally:
        connection.close()
        with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as conn, \
                conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")


# --- PostgreSQL ---------------------------------------------------------------------------------


def test_copy_gives_the_canonical_rows_back(
        stack_env: StackEnv, source: tuple[str, dict[str, SourceTable]],
        time_zone: str | None) -> None:
    _, tables = source
    target = unique_name("bulkcopy")
    pg = postgres_connect(stack_env["CDC_POSTGRES_DSN"])
    try:
        cursor = pg.cursor()
        cursor.execute("SET client_encoding TO 'UTF8'")
        if time_zone is not None:
            cursor.execute(f"SET TIME ZONE '{time_zone}'")
        cursor.execute(f"CREATE SCHEMA {quote_ident(target)}")
        for name, table in tables.items():
            schema = table.schema
            encoder = postgres_copy_encoder(schema)
            with pytest.raises(TypeMappingError, match="the zero date"):
                list(encode_blocks(iter_blocks(schema, table.file, table.name), encoder))
            held = [row for row in table.rows() if row["id"] not in ZERO_DATE_ROWS[name]]
            chunks = list(encode_chunk(schema, held, block_rows=3))
            text = b"".join(encode_blocks(iter_blocks(schema, chunks, table.name), encoder))
            cursor.execute(create_table_sql(schema, target))
            columns = ", ".join(quote_ident(c.name) for c in schema.columns)
            qualified = f"{quote_ident(target)}.{quote_ident(name)}"
            cursor.copy_expert(f"COPY {qualified} ({columns}) FROM STDIN", io.BytesIO(text))
            cursor.execute(f"SELECT {columns} FROM {qualified} ORDER BY {quote_ident('id')}")
            found = [{c.name: from_postgres(c, value)
                      for c, value in zip(schema.columns, values, strict=True)}
                     for values in cursor.fetchall()]
            assert found == sorted(held, key=lambda row: int(row["id"]))
            assert len(found) >= 2
        pg.commit()
    finally:
        pg.rollback()
        pg.cursor().execute(f"DROP SCHEMA IF EXISTS {quote_ident(target)} CASCADE")
        pg.commit()
        pg.close()
