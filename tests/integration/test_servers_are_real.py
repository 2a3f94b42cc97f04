"""The local stack's servers are the real thing: each is driven over its socket protocol."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import WriteRowsEvent

from cdc.dsn import parse_dsn
from cdc.source_requirements import Flavor, unmet_settings
from tests.db import mysql_connect, postgres_connect, query_one, unique_name
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


def test_source_has_every_setting_capture_requires(stack_env: StackEnv) -> None:
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL VARIABLES")
        variables = {name.lower(): value for name, value in cur.fetchall()}
    assert unmet_settings(Flavor.MARIADB, variables) == []
    assert variables["gtid_strict_mode"] == "ON"


def test_capture_user_has_only_the_grants_capture_needs(stack_env: StackEnv) -> None:
    with mysql_connect(stack_env["CDC_SOURCE_CAPTURE_DSN"]) as conn, conn.cursor() as cur:
        cur.execute("SHOW GRANTS")
        grants = " ".join(row[0] for row in cur.fetchall())
        assert "REPLICATION SLAVE" in grants
        assert "BINLOG MONITOR" in grants
        with pytest.raises(Exception, match="denied"):
            cur.execute("CREATE DATABASE capture_must_not_write")


def test_source_binlog_shows_a_row_change_with_column_names(stack_env: StackEnv) -> None:
    database = unique_name("binlog_probe")
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        (start_gtid,) = query_one(cur, "SELECT @@global.gtid_binlog_pos")
        cur.execute(f"CREATE DATABASE {database}")
        cur.execute(f"CREATE TABLE {database}.payment (id INT PRIMARY KEY, amount DECIMAL(19,4),"
                    " note VARCHAR(20) CHARACTER SET utf8mb4)")
        cur.execute(f"INSERT INTO {database}.payment VALUES (7, 12.3400, 'caf\u00e9 \U0001f4b3')")
        try:
            rows = _read_inserts(stack_env["CDC_SOURCE_CAPTURE_DSN"], start_gtid, database)
        finally:
            cur.execute(f"DROP DATABASE {database}")
    assert rows == [{"id": 7, "amount": Decimal("12.3400"), "note": "caf\u00e9 \U0001f4b3"}]


def _read_inserts(dsn_text: str, start_gtid: str, database: str) -> list[dict[str, object]]:
    dsn = parse_dsn(dsn_text)
    stream = BinLogStreamReader(
        connection_settings={"host": dsn.host, "port": dsn.port, "user": dsn.user,
                             "password": dsn.password},
        server_id=54321,
        is_mariadb=True,
        auto_position=start_gtid,
        only_events=[WriteRowsEvent],
        only_schemas=[database],
        blocking=False,
    )
    try:
        return [row["values"] for event in stream for row in event.rows]
    finally:
        stream.close()


@pytest.fixture
def kafka_topic(stack_env: StackEnv) -> str:
    topic = unique_name("probe")
    admin = AdminClient({"bootstrap.servers": stack_env["CDC_KAFKA_BOOTSTRAP"]})
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    futures[topic].result(timeout=30)
    return topic


def _consumer(stack_env: StackEnv, isolation: str) -> Consumer:
    return Consumer({
        "bootstrap.servers": stack_env["CDC_KAFKA_BOOTSTRAP"],
        "group.id": unique_name("probe_group"),
        "isolation.level": isolation,
        "enable.auto.commit": False,
    })


def _drain(consumer: Consumer, topic: str, seconds: float) -> list[bytes]:
    """Every value readable from the start of the topic within the given time."""
    consumer.assign([TopicPartition(topic, 0, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error():
            raise KafkaException(message.error())
        value = message.value()
        assert value is not None
        values.append(value)
    return values


def test_kafka_transactions_are_visible_to_read_committed_only_after_commit(
    stack_env: StackEnv, kafka_topic: str
) -> None:
    producer = Producer({
        "bootstrap.servers": stack_env["CDC_KAFKA_BOOTSTRAP"],
        "transactional.id": unique_name("probe_tx"),
        "enable.idempotence": True,
    })
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(kafka_topic, b"committed-later")
    producer.flush(30)

    # The record is in the log (a read_uncommitted reader sees it) but not yet committed.
    assert _drain(_consumer(stack_env, "read_uncommitted"), kafka_topic, 3) == [b"committed-later"]
    assert _drain(_consumer(stack_env, "read_committed"), kafka_topic, 3) == []

    producer.commit_transaction(30)
    producer.begin_transaction()
    producer.produce(kafka_topic, b"aborted")
    producer.flush(30)
    producer.abort_transaction(30)
    producer.begin_transaction()
    producer.produce(kafka_topic, b"after-abort")
    producer.commit_transaction(30)

    seen = _drain(_consumer(stack_env, "read_committed"), kafka_topic, 4)
    assert seen == [b"committed-later", b"after-abort"]


def test_postgres_round_trip(stack_env: StackEnv) -> None:
    table = unique_name("probe")
    values = (Decimal("18446744073709551615"), Decimal("-0.0001"),
              dt.datetime(2026, 11, 1, 5, 30, 0, 123456, tzinfo=dt.UTC),
              b"\x00nul\x00\\", {"k": "\u00e9\U0001f4b3"}, "back\\slash")
    with postgres_connect(stack_env["CDC_POSTGRES_DSN"]) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (big numeric(20,0), small numeric(19,4), "
                    "at timestamptz, raw bytea, doc jsonb, txt text)")
        try:
            cur.execute(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s)",
                        (*values[:4], json.dumps(values[4]), values[5]))
            cur.execute(f"SELECT big, small, at, raw, doc, txt FROM {table}")
            row = cur.fetchone()
        finally:
            cur.execute(f"DROP TABLE {table}")
    assert row is not None
    assert (row[0], row[1], row[2], bytes(row[3]), row[4], row[5]) == values


def test_target_mariadb_is_a_separate_server_and_round_trips(stack_env: StackEnv) -> None:
    database = unique_name("target_probe")
    blob = b"\x00\x01binary\x00\xff"
    with mysql_connect(stack_env["CDC_TARGET_MARIADB_DSN"]) as conn, conn.cursor() as cur:
        target_id, target_port = query_one(cur, "SELECT @@server_id, @@port")
        cur.execute(f"CREATE DATABASE {database}")
        try:
            cur.execute(f"CREATE TABLE {database}.t (id BIGINT UNSIGNED PRIMARY KEY, "
                        "amount DECIMAL(65,30), note VARCHAR(10) CHARACTER SET utf8mb4, raw BLOB)")
            cur.execute(f"INSERT INTO {database}.t VALUES (%s, %s, %s, %s)",
                        (18446744073709551615, Decimal("-1.000000000000000000000000000001"),
                         "\U0001f4b3", blob))
            cur.execute(f"SELECT id, amount, note, raw FROM {database}.t")
            row = cur.fetchone()
        finally:
            cur.execute(f"DROP DATABASE {database}")
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        source_id, source_port = query_one(cur, "SELECT @@server_id, @@port")
    assert (target_id, target_port) != (source_id, source_port)
    assert row == (18446744073709551615, Decimal("-1.000000000000000000000000000001"),
                   "\U0001f4b3", blob)
