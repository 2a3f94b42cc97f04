"""Every common column type, from the real source's binlog through the changelog codec and back.

Edge values are written on the MariaDB source, the binlog is read with the library fixes
installed, rows become canonical values (columns_from_table_map + canonical_row), go through
encode_record/decode_record, and must equal, exactly, what the server returns for the same rows
(session time zone +00:00). Each test runs with the host in UTC and in America/New_York.
"""

from __future__ import annotations

import math
import os
import random
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pymysqlreplication import BinLogStreamReader, binlogstream
from pymysqlreplication.event import HeartbeatLogEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from bench.workload.torture_columns import TORTURE_TABLE, torture_table_ddl
from bench.workload.torture_rows import TORTURE_ROWS
from bench.workload.torture_table import row_params
from cdc.avro.codec import decode_record, encode_record
from cdc.binlog import library_fixes
from cdc.binlog.columns import columns_from_table_map, primary_key_of
from cdc.changes import ChangeRecord, Column, Operation, Row, SourcePosition, TableSchema
from cdc.dsn import parse_dsn
from cdc.values import ZERO_DATETIME, canonical_row, date_or_zero, datetime_or_zero
from tests.db import MySQLConnection, mysql_connect, query_one, unique_name
from tests.stack import StackEnv

pytestmark = pytest.mark.integration

LONG_MEMBER = "m" * 200  # longer than 127 bytes: the library misread such lengths
LONG_NAME = "列" * 50  # a column name of 150 bytes, for the same reason

ALL_TYPES_DDL = f"""
CREATE TABLE all_types (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  tiny_s TINYINT, tiny_u TINYINT UNSIGNED, small_s SMALLINT, small_u SMALLINT UNSIGNED,
  medium_s MEDIUMINT, medium_u MEDIUMINT UNSIGNED, int_s INT, int_u INT UNSIGNED,
  big_s BIGINT, big_u BIGINT UNSIGNED,
  dec_65_30 DECIMAL(65,30), dec_19_4 DECIMAL(19,4), dec_10_0 DECIMAL(10,0),
  f FLOAT, d DOUBLE, bit_1 BIT(1), bit_9 BIT(9), bit_64 BIT(64),
  date_v DATE, dt DATETIME, dt_3 DATETIME(3), dt_6 DATETIME(6),
  ts TIMESTAMP NULL, ts_6 TIMESTAMP(6) NULL,
  t TIME, t_1 TIME(1), t_3 TIME(3), t_6 TIME(6), y YEAR,
  c CHAR(16) CHARACTER SET utf8mb4, vc VARCHAR(255) CHARACTER SET utf8mb4,
  vc_latin1 VARCHAR(255) CHARACTER SET latin1, vc_ascii VARCHAR(20) CHARACTER SET ascii,
  vc_ucs2 VARCHAR(20) CHARACTER SET ucs2, vc_utf16 VARCHAR(20) CHARACTER SET utf16,
  vc_utf32 VARCHAR(20) CHARACTER SET utf32,
  bin_16 BINARY(16), vbin VARBINARY(300),
  tinyblob_v TINYBLOB, blob_v BLOB, mediumblob_v MEDIUMBLOB, longblob_v LONGBLOB,
  tinytext_v TINYTEXT, text_v TEXT, mediumtext_v MEDIUMTEXT, longtext_v LONGTEXT,
  e ENUM('pending', 'settled', 'ünïcödé ✓'),
  e_latin1 ENUM('ü', '€', '{LONG_MEMBER}') CHARACTER SET latin1,
  s SET('card', 'sepa', 'wire'), j JSON,
  `order id` INT, `{LONG_NAME}` INT, g GEOMETRY
)"""

KEYED_DDL = """CREATE TABLE keyed (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT,
                                   PRIMARY KEY (b, a))"""

# Each row is column -> SQL expression (written as SQL so no client conversion is involved);
# columns left out are NULL.
ROWS: dict[int, dict[str, str]] = {
    1: {  # the smallest value of every type
        "tiny_s": "-128", "tiny_u": "0", "small_s": "-32768", "small_u": "0",
        "medium_s": "-8388608", "medium_u": "0", "int_s": "-2147483648", "int_u": "0",
        "big_s": "-9223372036854775808", "big_u": "0",
        "dec_65_30": "-99999999999999999999999999999999999.999999999999999999999999999999",
        "dec_19_4": "-999999999999999.9999", "dec_10_0": "-9999999999",
        "f": "-3.4028234663852886e38", "d": "-1.7976931348623157e308",
        "bit_1": "b'0'", "bit_9": "b'0'", "bit_64": "0",
        "date_v": "'1000-01-01'", "dt": "'1000-01-01 00:00:00'",
        "dt_3": "'1000-01-01 00:00:00.000'", "dt_6": "'1000-01-01 00:00:00.000000'",
        "ts": "'1970-01-01 00:00:01'", "ts_6": "'1970-01-01 00:00:01.000000'",
        "t": "'-838:59:59'", "t_1": "'-838:59:59.9'", "t_3": "'-00:00:00.001'",
        "t_6": "'-838:59:59.999999'", "y": "1901",
        "c": "''", "vc": "''", "vc_latin1": "''", "bin_16": "''", "vbin": "''",
        "tinyblob_v": "''", "tinytext_v": "''", "e": "'pending'", "e_latin1": "'ü'",
        "s": "''", "j": "'[]'", "`order id`": "-1", f"`{LONG_NAME}`": "-2147483648",
    },
    2: {  # the largest value of every type
        "tiny_s": "127", "tiny_u": "255", "small_s": "32767", "small_u": "65535",
        "medium_s": "8388607", "medium_u": "16777215", "int_s": "2147483647",
        "int_u": "4294967295", "big_s": "9223372036854775807",
        "big_u": "18446744073709551615",
        "dec_65_30": "99999999999999999999999999999999999.999999999999999999999999999999",
        "dec_19_4": "999999999999999.9999", "dec_10_0": "9999999999",
        "f": "3.4028234663852886e38", "d": "1.7976931348623157e308",
        "bit_1": "b'1'", "bit_9": "b'111111111'", "bit_64": "18446744073709551615",
        "date_v": "'9999-12-31'", "dt": "'9999-12-31 23:59:59'",
        "dt_3": "'9999-12-31 23:59:59.999'", "dt_6": "'9999-12-31 23:59:59.999999'",
        "ts": "'2038-01-19 03:14:07'", "ts_6": "'2038-01-19 03:14:07.999999'",
        "t": "'838:59:59'", "t_1": "'838:59:59.9'", "t_3": "'838:59:59.999'",
        "t_6": "'838:59:59.999999'", "y": "2155",
        "c": "'💳💳💳💳💳💳💳💳💳💳💳💳💳💳💳💳'", "vc": "REPEAT('😀', 255)",
        "vc_latin1": "REPEAT('ÿ', 255)", "bin_16": "x'ffffffffffffffffffffffffffffffff'",
        "vbin": "REPEAT(x'ff', 300)", "tinyblob_v": "REPEAT(x'00', 255)",
        "blob_v": "REPEAT(x'ff', 65535)", "mediumblob_v": "REPEAT(x'01', 70000)",
        "longblob_v": "REPEAT(x'00ff', 60000)", "tinytext_v": "REPEAT('é', 127)",
        "text_v": "REPEAT('x', 65535)", "mediumtext_v": "REPEAT('€💶ü', 8000)",
        "longtext_v": "REPEAT('0123456789abcdef', 5000)", "e": "'ünïcödé ✓'",
        "e_latin1": f"'{LONG_MEMBER}'", "s": "'card,sepa,wire'",
        "j": """'{"bigint_unsigned_max": 18446744073709551615, "double": 1.5e300}'""",
    },
    3: {  # zero dates, negative fractions, the empty SET, invalid ENUM values
        "dec_65_30": "-0.000000000000000000000000000001", "dec_19_4": "0.0001",
        "dec_10_0": "0", "f": "-0.375", "d": "5e-324", "bit_9": "b'100000001'",
        "bit_64": "9223372036854775808", "big_u": "9223372036854775808",
        "date_v": "'0000-00-00'", "dt": "'0000-00-00 00:00:00'",
        "dt_3": "'2020-00-15 10:11:12.123'", "dt_6": "'2020-01-00 10:00:00.123456'",
        "ts": "0", "ts_6": "0", "t": "'-00:00:01'", "t_1": "'-01:00:00.1'",
        "t_3": "'-00:00:00.5'", "t_6": "'-12:10:48.835870'", "y": "'0000'",
        "e": "'not a member'", "e_latin1": "'€'", "s": "''",
        "j": "'\"a JSON document that is just a string\"'",
    },
    4: {  # text in every character set, NUL bytes, quoting
        "c": "'Zoë ☕ 💳 Ñ'", "vc": "'Pay 💶 → 👨‍👩‍👧‍👦, 𝄞, 𠜎'",
        "vc_latin1": "CONCAT('Café €', CAST(x'81' AS CHAR CHARACTER SET latin1), 'ÿ')",
        "vc_ascii": "'plain ascii'", "vc_ucs2": "'Zoë Ω'", "vc_utf16": "'💳 utf16'",
        "vc_utf32": "'💳 utf32'", "bin_16": "x'0001'", "vbin": "x'000000'",
        "tinyblob_v": "x'00'", "blob_v": "x'00ff00'", "mediumblob_v": "x'ff00'",
        "longblob_v": "x'0000'", "tinytext_v": "'nul \\0 inside'",
        "text_v": "'backslash \\\\ quote \\' newline \\n tab \\t ctrl-Z \\Z'",
        "mediumtext_v": "'Ελληνικά · 日本語 · العربية'", "longtext_v": "' trailing  '",
        "e": "'settled'", "s": "'wire,card'",
        "j": """'{"nested": {"list": [1, -2.5, true, null]}}'""",
        "dt_6": "'2026-03-08 02:30:00.000001'", "ts_6": "'2026-11-01 06:30:00.123456'",
        "dt": "'2026-11-01 01:30:00'", "ts": "'2026-03-08 07:30:00'",
        "g": "ST_GeomFromText('POINT(1.5 -2)', 4326)",
    },
    5: {},  # NULL everywhere but the key
}
UPDATES = {
    3: {"s": "'card,wire'", "t_6": "'-00:00:00.000001'", "date_v": "'2020-02-30'",
        "ts_6": "'2000-01-01 00:00:00.5'"},
    4: {"vc_latin1": "''", "bin_16": "NULL", "j": "'{}'", "s": "''"},
}
DELETES = (1, 5)


@pytest.fixture(params=["UTC", "America/New_York"])
def host_time_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    zone: str = request.param
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    yield zone
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@dataclass(frozen=True)
class CapturedChange:
    operation: Operation
    table: str
    schema: TableSchema
    before: Row | None
    after: Row | None

    @property
    def row_id(self) -> object:
        image = self.after if self.after is not None else self.before
        assert image is not None
        return image["id"] if "id" in image else (image["b"], image["a"])


def test_all_types_round_trip_exactly(stack_env: StackEnv, host_time_zone: str) -> None:
    database = unique_name("types")
    with _source(stack_env) as connection, connection.cursor() as cursor:
        (start,) = query_one(cursor, "SELECT @@global.gtid_binlog_pos")
        cursor.execute(f"CREATE DATABASE {database}")
        try:
            cursor.execute(f"USE {database}")
            cursor.execute(ALL_TYPES_DDL)
            cursor.execute(KEYED_DDL)
            for row_id, values in ROWS.items():
                names = ", ".join(["id", *values])
                cursor.execute(f"INSERT INTO all_types ({names}) "
                               f"VALUES ({', '.join([str(row_id), *values.values()])})")
            cursor.execute("INSERT INTO keyed VALUES (1, 'x', 1), (2, 'x', 2)")
            inserted = _select(connection, database, "all_types")
            for row_id, values in UPDATES.items():
                assignments = ", ".join(f"{name} = {sql}" for name, sql in values.items())
                cursor.execute(f"UPDATE all_types SET {assignments} WHERE id = {row_id}")
            cursor.execute("UPDATE keyed SET v = 3 WHERE a = 2")
            updated = _select(connection, database, "all_types")
            cursor.execute(f"DELETE FROM all_types WHERE id IN {DELETES}")
            expected = len(ROWS) + len(UPDATES) + len(DELETES) + 3  # and keyed's three
            changes = _capture(stack_env, start, database, expected)
        finally:
            cursor.execute(f"DROP DATABASE {database}")

    changes = [_round_trip(change) for change in changes]
    all_types = [c for c in changes if c.table == "all_types"]
    assert [(c.operation, c.row_id) for c in all_types] == [
        *((Operation.INSERT, row_id) for row_id in ROWS),
        *((Operation.UPDATE, row_id) for row_id in UPDATES),
        *((Operation.DELETE, row_id) for row_id in DELETES),
    ]
    for change in all_types:
        if change.operation is Operation.INSERT:
            _assert_rows(inserted[change.row_id], change.after, change.schema)
        elif change.operation is Operation.UPDATE:
            _assert_rows(inserted[change.row_id], change.before, change.schema)
            _assert_rows(updated[change.row_id], change.after, change.schema)
        else:
            _assert_rows(updated[change.row_id], change.before, change.schema)

    schema = all_types[0].schema
    assert schema.primary_key == ("id",)
    assert schema.column("id").nullable is False
    assert schema.column("vc_latin1").charset == "latin1"
    assert schema.column("e_latin1").members == ("ü", "€", LONG_MEMBER)
    assert schema.column("bin_16") == Column("bin_16", "binary", precision=16)
    assert schema.column("j").type == "longtext"  # MariaDB's JSON is LONGTEXT
    assert schema.column(LONG_NAME).type == "int"
    assert schema.column("g").type == "geometry"
    keyed = [c for c in changes if c.table == "keyed"]
    assert keyed[0].schema.primary_key == ("b", "a")  # key order, not column order


def test_type_torture_rows_round_trip_exactly(stack_env: StackEnv, host_time_zone: str) -> None:
    database = unique_name("torture")
    with _source(stack_env) as connection, connection.cursor() as cursor:
        (start,) = query_one(cursor, "SELECT @@global.gtid_binlog_pos")
        cursor.execute(f"CREATE DATABASE {database}")
        try:
            cursor.execute(f"USE {database}")
            cursor.execute(torture_table_ddl())
            names = ", ".join(f"`{name}`" for name in TORTURE_ROWS[0].values)
            placeholders = ", ".join(["%s"] * (len(TORTURE_ROWS[0].values) + 1))
            for row in TORTURE_ROWS:
                cursor.execute(f"INSERT INTO `{TORTURE_TABLE}` (`id`, {names}) "
                               f"VALUES ({placeholders})", [row.row_id, *row_params(row.row_id)])
            selected = _select(connection, database, TORTURE_TABLE)
            captured = _capture(stack_env, start, database, len(TORTURE_ROWS))
            changes = [_round_trip(change) for change in captured]
        finally:
            cursor.execute(f"DROP DATABASE {database}")

    assert [c.row_id for c in changes] == [row.row_id for row in TORTURE_ROWS]
    for change in changes:
        _assert_rows(selected[change.row_id], change.after, change.schema)


# --- the source side ----------------------------------------------------------------------------


def _source(stack_env: StackEnv) -> MySQLConnection:
    connection = mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"])
    with connection.cursor() as cursor:
        # Zero dates and non-members need a permissive session; TIMESTAMPs are read as UTC.
        cursor.execute("SET SESSION sql_mode = '', time_zone = '+00:00'")
    return connection


def _select(connection: MySQLConnection, database: str, table: str) -> dict[object, Row]:
    """The table's rows as the server returns them, in canonical form, by primary key."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
                       f"WHERE TABLE_SCHEMA = '{database}' AND TABLE_NAME = '{table}' "
                       "ORDER BY ORDINAL_POSITION")
        columns = [(str(name), str(kind)) for name, kind in cursor.fetchall()]
        # FLOAT is read through DOUBLE: the text protocol prints it with about six digits.
        select = ", ".join(f"CAST(`{n}` AS DOUBLE)" if k == "float" else f"`{n}`"
                           for n, k in columns)
        cursor.execute(f"SELECT {select} FROM `{database}`.`{table}`")
        rows = cursor.fetchall()
    result = {}
    for raw in rows:
        row = {name: _server_value(kind, value) for (name, kind), value in zip(columns, raw,
                                                                             strict=True)}
        result[row["id"]] = row
    return result


def _server_value(kind: str, value: Any) -> object:
    """What the server returned, in canonical form (PyMySQL gives zero dates as text)."""
    if value is None:
        return None
    if kind == "bit":
        return int.from_bytes(value, "big")
    if kind == "set":
        return frozenset(m for m in value.split(",") if m) if isinstance(value, str) else (
            frozenset(value))
    if isinstance(value, str) and kind in ("date", "datetime", "timestamp"):
        parts = value.replace(" ", "-").replace(":", "-").replace(".", "-").split("-")
        if kind == "date":
            return date_or_zero(*map(int, parts))
        fraction = int(parts[6].ljust(6, "0")) if len(parts) > 6 else 0
        zero = datetime_or_zero(*map(int, parts[:3]), hour=int(parts[3]), minute=int(parts[4]),
                                second=int(parts[5]), microsecond=fraction)
        assert kind != "timestamp" or zero == ZERO_DATETIME
        return zero
    if kind == "timestamp":
        return value.replace(tzinfo=UTC)
    return value


def _capture(stack_env: StackEnv, start: str, database: str,
             expected: int) -> list[CapturedChange]:
    """The first ``expected`` row changes of ``database`` since GTID position ``start``.

    Blocking mode with heartbeats, stopping at the expected count: a non-blocking dump has
    been seen to lose its connection mid-file here, and the library's own reconnect (switched
    off by the fixture) would replay the stream from the start.
    """
    library_fixes.install()
    dsn = parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])
    stream = BinLogStreamReader(
        connection_settings={"host": dsn.host, "port": dsn.port, "user": dsn.user,
                             "passwd": dsn.password},
        server_id=60_000 + random.randrange(5_000), is_mariadb=True, auto_position=start,
        blocking=True, slave_heartbeat=1, only_schemas=[database],
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, HeartbeatLogEvent],
    )
    changes: list[CapturedChange] = []
    deadline = time.monotonic() + 120
    try:
        for event in stream:
            if len(changes) >= expected or time.monotonic() > deadline:
                break
            if isinstance(event, HeartbeatLogEvent):
                continue
            table = event.table_map[event.table_id]
            columns = columns_from_table_map(table)
            schema = TableSchema(database, event.table, 1, columns, primary_key_of(table))
            for row in event.rows:
                if isinstance(event, WriteRowsEvent):
                    before, after = None, canonical_row(columns, row["values"],
                                                        row["none_sources"])
                    operation = Operation.INSERT
                elif isinstance(event, DeleteRowsEvent):
                    before = canonical_row(columns, row["values"], row["none_sources"])
                    after, operation = None, Operation.DELETE
                else:
                    before = canonical_row(columns, row["before_values"],
                                           row["before_none_sources"])
                    after = canonical_row(columns, row["after_values"],
                                          row["after_none_sources"])
                    operation = Operation.UPDATE
                changes.append(CapturedChange(operation, event.table, schema, before, after))
    finally:
        stream.close()
    assert len(changes) == expected, f"read {len(changes)} of {expected} row changes"
    return changes


@pytest.fixture(autouse=True)
def _no_silent_binlog_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    # The library reconnects by itself from the original position, repeating events.
    monkeypatch.setattr(binlogstream, "MYSQL_EXPECTED_ERROR_CODES", [])


def _round_trip(change: CapturedChange) -> CapturedChange:
    record = ChangeRecord(
        operation=change.operation, database=change.schema.database, table=change.table,
        schema_version=1, before=change.before, after=change.after, statement=None,
        position=SourcePosition("0-1-1", "0-1-1", 1, "mariadb-bin.000001", 4),
        commit_time_us=0, transaction_index=0, transaction_last=True,
    )
    decoded = decode_record(encode_record(record, change.schema), lambda *_: change.schema)
    return CapturedChange(change.operation, change.table, change.schema, decoded.before,
                          decoded.after)


# --- exact comparison ---------------------------------------------------------------------------


def _assert_rows(expected: Row, actual: Row | None, schema: TableSchema) -> None:
    assert actual is not None
    assert list(actual) == [column.name for column in schema.columns]
    for column in schema.columns:
        _assert_identical(expected[column.name], actual[column.name], column)


def _assert_identical(expected: object, actual: object, column: Column) -> None:
    where = f"{column.name} ({column.type})"
    assert type(actual) is type(expected), f"{where}: {actual!r} is not like {expected!r}"
    if isinstance(expected, float) and isinstance(actual, float):
        assert math.isfinite(actual)
        assert struct.pack("<d", actual) == struct.pack("<d", expected), f"{where}: {actual!r}"
    elif isinstance(expected, Decimal) and isinstance(actual, Decimal):
        assert actual.as_tuple() == expected.as_tuple(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, datetime) and isinstance(actual, datetime):
        assert (actual, actual.utcoffset()) == (expected, expected.utcoffset()), where
        assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None), where
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    if column.type == "timestamp" and isinstance(actual, datetime):
        assert actual.tzinfo is UTC, where
