"""The RTO drill's data, made once and kept under ``.stack/rto/<rows>-<changes>/``: a payments
table of N rows on the stack's source, a snapshot of it, the same rows as a ``mariadb-dump``,
then M row changes committed on the source after the snapshot and captured into a changelog
of the drill's own. ``data.json`` there says what was made; a later run uses it again when
the source table and the changelog are still as it says, and makes it all again otherwise.

The fill and the stored procedure are kept out of the binlog (``sql_log_bin = 0``): they are
in the snapshot, and only the changes after it are the changelog's and ``mariadb-binlog``'s.
While the changes are written, commits do not wait for the redo log's flush (set back after):
that makes the data faster and changes nothing in what is measured.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from bench.harness.capture_follow import FollowingCapture
from bench.harness.changelog_count import count_committed
from bench.harness.kafka_topics import delete_topics
from bench.harness.mariadb_dump import dump_database
from bench.harness.mariadb_target import TableCheck, differences, drop_databases, table_checks
from bench.harness.payments_table import fill_statement, payments_ddl
from bench.harness.restore_config import RestoreBenchConfig, command_environment, write_config
from bench.harness.restore_rounds import RunCheckError
from bench.harness.rto_changes import PROCEDURE, ChangesPlan, batches, plan_changes, procedure_sql
from bench.harness.snapshot_take import TakenSnapshot, take_snapshot
from bench.workload import connect, read_gtid_position
from bench.workload.connection import MySQLConnection, read_last_gtid
from cdc.dsn import Dsn
from cdc.errors import CdcError

FORMAT = 1
FILL_ROWS_PER_STATEMENT = 1_000_000
CALL_TRANSACTIONS = 20_000
Say = Callable[[str], None]


@dataclass(frozen=True)
class Servers:
    admin: Dsn
    capture: Dsn
    bootstrap: str


@dataclass(frozen=True)
class KeptData:
    """What ``data.json`` holds."""

    database: str
    rows: int
    transactions: int
    row_changes: int
    topic_prefix: str
    server_id: int
    snapshot: TakenSnapshot
    stop_position: str  # the source's GTID position after the changes
    last_gtid: str
    dump_bytes: int
    checks: dict[str, TableCheck]
    changelog_end: int  # the changelog topic's end offset once the changes were captured
    made_at: str
    made_in_s: dict[str, float]
    format: int = FORMAT

    @property
    def plan(self) -> ChangesPlan:
        return ChangesPlan(self.rows, self.transactions)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> KeptData:
        found = json.loads(text)
        found["snapshot"] = TakenSnapshot(**found["snapshot"])
        found["checks"] = {name: TableCheck(**check) for name, check in found["checks"].items()}
        return cls(**found)


@dataclass(frozen=True)
class DrillData:
    folder: Path
    kept: KeptData
    config: Path
    env: dict[str, str]
    reused: bool

    @property
    def dump(self) -> Path:
        return self.folder / "dump.sql"


def data_folder(stack_dir: Path, rows: int, changes: int) -> Path:
    return stack_dir / "rto" / f"{rows}-{changes}"


def bench_config(servers: Servers, folder: Path, *, database: str, topic_prefix: str,
                 server_id: int, start: str) -> RestoreBenchConfig:
    return RestoreBenchConfig(
        source=servers.capture, server_id=server_id, name=f"rto-drill-{folder.name}",
        bootstrap_servers=servers.bootstrap, topic_prefix=topic_prefix,
        include=(f"{database}.*",), start=start, store=folder / "store")


def drill_data(servers: Servers, folder: Path, rows: int, changes: int, say: Say) -> DrillData:
    """The kept data when it is still whole; otherwise made again."""
    state = folder / "data.json"
    if state.is_file():
        try:
            kept = KeptData.from_json(state.read_text())
        except (ValueError, TypeError, KeyError):
            kept = None
        if kept is not None:
            problem = _still_whole(servers, folder, kept)
            if problem is None:
                say(f"using the data kept in {folder} (made {kept.made_at})")
                return _loaded(servers, folder, kept, reused=True)
            say(f"making the data again: {problem}")
    forget(servers, folder, say)  # whatever an earlier making left
    folder.mkdir(parents=True, exist_ok=True)
    kept = _make(servers, folder, rows, changes, say)
    state.write_text(kept.to_json())
    return _loaded(servers, folder, kept, reused=False)


def forget(servers: Servers, folder: Path, say: Say) -> None:
    """Drop the database and topics that ``data.json`` names (or ``making.json``, which data
    being made left) and the folder."""
    for state in (folder / "data.json", folder / "making.json"):
        try:
            names = json.loads(state.read_text())
            database, prefix = str(names["database"]), str(names["topic_prefix"])
        except (OSError, ValueError, TypeError, KeyError):
            continue
        drop_databases(servers.admin, [database])
        for problem in delete_topics(servers.bootstrap, _topics(servers, prefix)):
            say(f"clean-up: {problem}")
    shutil.rmtree(folder, ignore_errors=True)


def _loaded(servers: Servers, folder: Path, kept: KeptData, *, reused: bool) -> DrillData:
    config = bench_config(servers, folder, database=kept.database,
                          topic_prefix=kept.topic_prefix, server_id=kept.server_id,
                          start="current")
    path = write_config(config, folder / "drill.toml")
    return DrillData(folder, kept, path, command_environment(config), reused)


def _still_whole(servers: Servers, folder: Path, kept: KeptData) -> str | None:
    if kept.format != FORMAT:
        return "it was made by an older version of the drill"
    if not (folder / "dump.sql").is_file() or not (folder / "store").is_dir():
        return f"the dump or the snapshot store in {folder} is gone"
    end = _end_offset(servers.bootstrap, f"{kept.topic_prefix}.changelog")
    if end is None or end < kept.changelog_end:
        return "its changelog topic is gone or shorter"
    try:
        found = table_checks(servers.admin, kept.database)
    except CdcError as exc:
        return exc.message
    changed = differences(kept.checks, found)
    return f"the source table changed: {'; '.join(changed[:3])}" if changed else None


def _make(servers: Servers, folder: Path, rows: int, changes: int, say: Say) -> KeptData:
    plan = plan_changes(rows, changes)
    run_id = secrets.token_hex(3)
    database = f"rto_drill_{run_id}"
    topic_prefix = f"bench.rto.{run_id}"
    server_id = 50_000 + secrets.randbelow(1_000_000)
    # Said first, so that 'forget' finds what a failed or killed making left.
    making = folder / "making.json"
    making.write_text(json.dumps({"database": database, "topic_prefix": topic_prefix}))
    took: dict[str, float] = {}
    connection = connect(servers.admin)
    try:
        with _timed(took, "fill"):
            say(f"filling {database}.payments with {rows:,} rows")
            _fill(connection, database, rows)
        start = f"gtid:{read_gtid_position(connection)}"
        config = bench_config(servers, folder, database=database, topic_prefix=topic_prefix,
                              server_id=server_id, start=start)
        path = write_config(config, folder / "drill.toml")
        env = command_environment(config)
        with FollowingCapture(path, env, folder / "capture.log",
                              bootstrap_servers=servers.bootstrap,
                              changelog_topic=config.changelog_topic) as capture:
            capture.wait_until_streaming()
            capture.wait_for_first_record()  # the changelog does not begin with a row change
            with _timed(took, "snapshot"):
                snapshot = take_snapshot(path, f"{database}.payments", env)
            say(f"snapshot {snapshot.snapshot_id}: {snapshot.rows:,} rows")
            with _timed(took, "dump"):
                say("dumping the same rows with mariadb-dump --single-transaction")
                dump_bytes = dump_database(servers.admin, database, folder / "dump.sql")
            with _timed(took, "changes"):
                last_gtid = _write_changes(connection, database, plan, say)
            stop = read_gtid_position(connection)
            with _timed(took, "capture catching up"):
                capture.wait_until_captured(last_gtid, timeout_s=7200)
    finally:
        connection.close()
    counted = count_committed(servers.bootstrap, config.changelog_topic)
    if counted.row_changes != plan.row_changes or counted.duplicates:
        raise RunCheckError(
            f"the changelog holds {counted.row_changes:,} row changes ({counted.duplicates} "
            f"twice); the source committed {plan.row_changes:,}",
            "capture must write every row change exactly once")
    end = _end_offset(servers.bootstrap, config.changelog_topic) or 0
    making.unlink()
    return KeptData(
        database=database, rows=rows, transactions=plan.transactions,
        row_changes=plan.row_changes, topic_prefix=topic_prefix, server_id=server_id,
        snapshot=snapshot, stop_position=stop, last_gtid=last_gtid, dump_bytes=dump_bytes,
        checks=table_checks(servers.admin, database), changelog_end=end,
        made_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        made_in_s={step: round(seconds, 1) for step, seconds in took.items()})


def _fill(connection: MySQLConnection, database: str, rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_log_bin = 0")
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        cursor.execute(f"CREATE DATABASE `{database}`")
        cursor.execute(f"USE `{database}`")
        cursor.execute(payments_ddl())
        for first in range(1, rows + 1, FILL_ROWS_PER_STATEMENT):
            last = min(rows, first + FILL_ROWS_PER_STATEMENT - 1)
            cursor.execute(fill_statement(last, first=first))
            connection.commit()
        cursor.execute(procedure_sql())
        cursor.execute("SET SESSION sql_log_bin = 1")
    connection.commit()


def _write_changes(connection: MySQLConnection, database: str, plan: ChangesPlan,
                   say: Say) -> str:
    """Commit the planned transactions; the GTID of the last."""
    say(f"committing {plan.transactions:,} transactions ({plan.row_changes:,} row changes)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")
        [(flush,)] = cursor.fetchall()
        cursor.execute(f"USE `{database}`")
        cursor.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 2")
        try:
            done = 0
            for first, count in batches(plan, CALL_TRANSACTIONS):
                cursor.execute(f"CALL {PROCEDURE}(%s, %s, %s)", (first, count, plan.rows))
                done += count
                say(f"  {done:,} of {plan.transactions:,} transactions")
        finally:
            cursor.execute(f"SET GLOBAL innodb_flush_log_at_trx_commit = {int(str(flush))}")
    connection.commit()
    return read_last_gtid(connection)


@contextmanager
def _timed(took: dict[str, float], step: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    took[step] = time.monotonic() - started


def _end_offset(bootstrap: str, topic: str) -> int | None:
    from confluent_kafka import Consumer, TopicPartition  # noqa: PLC0415

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-rto-probe",
                         "enable.auto.commit": False})
    try:
        if topic not in consumer.list_topics(timeout=30).topics:
            return None
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
        return int(high)
    except KafkaException:
        return None
    finally:
        consumer.close()


def _topics(servers: Servers, prefix: str) -> list[str]:
    admin = AdminClient({"bootstrap.servers": servers.bootstrap})
    try:
        names = admin.list_topics(timeout=30).topics
    except KafkaException:
        return []
    return [name for name in names if name.startswith(f"{prefix}.")]
