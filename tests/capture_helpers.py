"""Running capture against the real stack in tests, and reading back what it wrote."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import HeartbeatLogEvent, MariadbGtidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from cdc.avro.codec import decode_record
from cdc.changelog_store import load_registry
from cdc.changes import ChangeRecord, Operation, TableSchema
from cdc.dsn import parse_dsn
from cdc.kafka.reader import read_committed, read_last_committed
from cdc.position import GtidPosition, parse_gtid
from cdc.schema_registry import SchemaRegistry
from tests.db import mysql_connect, query_one
from tests.stack import REPO_ROOT, StackEnv

CDC = [sys.executable, "-m", "cdc"]


@dataclass(frozen=True)
class CaptureSetup:
    config_path: Path
    topic_prefix: str
    database: str
    bootstrap: str

    @property
    def changelog_topic(self) -> str:
        return f"{self.topic_prefix}.changelog"

    @property
    def schemas_topic(self) -> str:
        return f"{self.topic_prefix}.schemas"


def current_gtid_position(stack_env: StackEnv) -> str:
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn, conn.cursor() as cur:
        return str(query_one(cur, "SELECT @@global.gtid_binlog_pos")[0])


def write_capture_config(directory: Path, stack_env: StackEnv, database: str, start: str,
                         *, extra_capture: str = "", extra_kafka: str = "",
                         prefix: str = "") -> CaptureSetup:
    """A config that captures one database into topics of its own, from ``start``."""
    prefix = prefix or f"test.{database}"
    server_id = 50000 + secrets.randbelow(10000)
    path = directory / f"{database}.toml"
    path.write_text(
        "[source]\n"
        f"dsn = \"{stack_env['CDC_SOURCE_CAPTURE_DSN']}\"\n"
        f"server_id = {server_id}\n"
        f"name = \"{database}\"\n\n"
        "[kafka]\n"
        f"bootstrap_servers = \"{stack_env['CDC_KAFKA_BOOTSTRAP']}\"\n"
        f"topic_prefix = \"{prefix}\"\n"
        "commit_interval_ms = 100\n"
        f"{extra_kafka}\n"
        "[capture]\n"
        f"include = [\"{database}.*\"]\n"
        f"start = \"{start}\"\n"
        "heartbeat_interval_s = 1\n"
        "metrics_address = \"\"\n"
        f"{extra_capture}\n"
    )
    return CaptureSetup(path, prefix, database, stack_env["CDC_KAFKA_BOOTSTRAP"])


def capture_env(tz: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    if tz:
        env["TZ"] = tz
    return env


def run_capture_until_caught_up(setup: CaptureSetup, tz: str | None = None,
                                timeout: float = 300, *, extra_env: dict[str, str] | None = None,
                                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CDC, "capture", "--config", str(setup.config_path), "--until-caught-up", "--json"],
        env={**capture_env(tz), **(extra_env or {})}, capture_output=True, text=True,
        timeout=timeout, check=False)


def start_capture(setup: CaptureSetup, log_path: Path,
                  tz: str | None = None) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")
    return subprocess.Popen([*CDC, "capture", "--config", str(setup.config_path)],
                            env=capture_env(tz), stdout=log, stderr=subprocess.STDOUT)


def wait_until_streaming(log_path: Path, timeout: float = 60) -> None:
    """Wait for a started capture to be past its start-up checks and reading the binlog."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_path.exists() and "capture resumes after GTID position" in log_path.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"capture did not start streaming within {timeout}s:\n"
                         + (log_path.read_text()[-3000:] if log_path.exists() else ""))


def wait_for_changelog_to_reach(setup: CaptureSetup, target: str, timeout: float = 180) -> None:
    """Wait until the changelog's committed tail says capture got to ``target``."""
    wanted = GtidPosition.parse(target)
    deadline = time.monotonic() + timeout
    reached = ""
    while time.monotonic() < deadline:
        stored = read_last_committed(setup.bootstrap, setup.changelog_topic)
        if stored is not None:
            registry = registry_of(setup)
            reached = decode_record(stored.value, registry.lookup).position.gtid_position
            if all(GtidPosition.parse(reached).contains(g) for g in wanted.by_domain):
                return
        time.sleep(0.5)
    raise AssertionError(f"the changelog reached {reached!r}, not {target!r}, in {timeout}s")


def kill(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    process.wait(timeout=60)


def registry_of(setup: CaptureSetup) -> SchemaRegistry:
    return load_registry(setup.bootstrap, setup.schemas_topic)


def iter_changelog(setup: CaptureSetup) -> Iterator[ChangeRecord]:
    """Every committed record, decoded, heartbeats included, one at a time."""
    registry = registry_of(setup)

    def lookup(database: str, table: str, version: int) -> TableSchema:
        return registry.lookup(database, table, version)

    for stored in read_committed(setup.bootstrap, setup.changelog_topic):
        yield decode_record(stored.value, lookup)


def changelog(setup: CaptureSetup) -> list[ChangeRecord]:
    return list(iter_changelog(setup))


def row_changes(records: list[ChangeRecord]) -> list[ChangeRecord]:
    return [r for r in records if not r.operation.is_marker]


def transactions(records: list[ChangeRecord]) -> Iterator[list[ChangeRecord]]:
    """Records grouped by source transaction, checking each group is whole and in order."""
    group: list[ChangeRecord] = []
    for record in row_changes(records):
        assert record.transaction_index == len(group), (
            f"record {record.transaction_index} of {record.position.gtid} follows "
            f"{len(group)} records: a transaction was split or repeated")
        if group:
            assert record.position.gtid == group[0].position.gtid
        group.append(record)
        if record.transaction_last:
            yield group
            group = []
    assert not group, f"transaction {group[0].position.gtid} has no last record"


def replay(records: list[ChangeRecord]) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """The tables' final contents according to the changelog, keyed by primary key."""
    tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    registry_pk: dict[str, tuple[str, ...]] = {}
    for record in row_changes(records):
        if record.operation is Operation.DDL:
            if record.statement and record.statement.upper().startswith("TRUNCATE"):
                tables[record.table] = {}
            continue
        table = tables.setdefault(record.table, {})
        image = record.before if record.operation is Operation.DELETE else record.after
        assert image is not None
        key_columns = registry_pk.setdefault(record.table, ("id",))
        if record.before is not None:
            table.pop(tuple(record.before[c] for c in key_columns), None)
        if record.after is not None:
            table[tuple(record.after[c] for c in key_columns)] = record.after
    return tables


def source_row_counts_by_gtid(stack_env: StackEnv, start: str, database: str) -> Counter[str]:
    """Row changes per GTID for one database, read straight from the source's binlog.

    Blocking mode, stopped at the first heartbeat once the source's current position has
    been read: a non-blocking dump was seen to break off mid-file on large binlogs.
    """
    end = GtidPosition.parse(current_gtid_position(stack_env))
    dsn = parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])
    stream = BinLogStreamReader(
        connection_settings={"host": dsn.host, "port": dsn.port, "user": dsn.user,
                             "password": dsn.password},
        server_id=59999, is_mariadb=True, auto_position=start, blocking=True,
        slave_heartbeat=0.5, only_schemas=[database],
        only_events=[MariadbGtidEvent, WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent,
                     HeartbeatLogEvent])
    counts: Counter[str] = Counter()
    position = GtidPosition.parse(start)
    try:
        for event in stream:
            if isinstance(event, MariadbGtidEvent):
                position = position.advanced(parse_gtid(event.gtid))
                gtid = event.gtid
            elif isinstance(event, HeartbeatLogEvent):
                if all(position.contains(g) for g in end.by_domain):
                    break
            elif event.schema == database:
                counts[gtid] += len(event.rows)
    finally:
        stream.close()
    return counts
