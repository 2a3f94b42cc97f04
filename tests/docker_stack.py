"""The same stack in containers, for machines with a Docker engine (CDC_TEST_DOCKER=1).

A MySQL 8.4 source configured as docker-compose.yml configures it, a second MySQL as the
restore target, Kafka in KRaft mode and PostgreSQL. The containers live for the test session.
"""

from __future__ import annotations

import atexit
from typing import Any

from tests.stack import StackEnv

MYSQL_IMAGE = "mysql:8.4"
SOURCE_FLAGS = (
    "--server-id=1001 --log-bin=mysql-bin --binlog-format=ROW --binlog-row-image=FULL "
    "--binlog-row-metadata=FULL --binlog-transaction-compression=OFF --gtid-mode=ON "
    "--enforce-gtid-consistency=ON --character-set-server=utf8mb4"
)
CAPTURE_GRANTS = (
    "CREATE USER 'cdc_capture'@'%' IDENTIFIED BY 'capture';"
    "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc_capture'@'%';"
)


def _started(container: Any) -> Any:
    container.start()
    atexit.register(container.stop)
    return container


def _mysql_dsn(container: Any, user: str, password: str) -> str:
    host = container.get_container_host_ip()
    return f"mysql://{user}:{password}@{host}:{container.get_exposed_port(3306)}/"


def start_docker_stack() -> StackEnv:
    # testcontainers is an optional extra: imported only when containers are asked for.
    from testcontainers.kafka import KafkaContainer  # noqa: PLC0415
    from testcontainers.mysql import MySqlContainer  # noqa: PLC0415
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

    source = _started(MySqlContainer(MYSQL_IMAGE, root_password="admin").with_command(SOURCE_FLAGS))
    source.exec(["mysql", "-uroot", "-padmin", "-e", CAPTURE_GRANTS])
    target = _started(MySqlContainer(MYSQL_IMAGE, root_password="admin"))
    kafka = _started(KafkaContainer().with_kraft())
    postgres = _started(PostgresContainer("postgres:16", username="cdc", password="cdc",
                                          dbname="cdc"))
    pg_host = postgres.get_container_host_ip()
    return StackEnv({
        "CDC_SOURCE_ADMIN_DSN": _mysql_dsn(source, "root", "admin"),
        "CDC_SOURCE_CAPTURE_DSN": _mysql_dsn(source, "cdc_capture", "capture"),
        "CDC_SOURCE_SERVER_ID": "1001",
        "CDC_TARGET_MARIADB_DSN": _mysql_dsn(target, "root", "admin"),
        "CDC_POSTGRES_DSN": f"postgresql://cdc:cdc@{pg_host}:{postgres.get_exposed_port(5432)}/cdc",
        "CDC_KAFKA_BOOTSTRAP": kafka.get_bootstrap_server(),
    })
