"""Taking a base snapshot: every included table, read inside one consistent read of the
source, written as Avro files to the store, then the manifest (last, so that a snapshot
without one is known to be incomplete)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cdc.changes import Column, TableSchema
from cdc.config.models import CaptureConfig
from cdc.errors import CdcError
from cdc.snapshot.anchor_offset import locate
from cdc.snapshot.encryption import EncryptionKey
from cdc.snapshot.manifest import (
    Anchor,
    EncryptionInfo,
    FileEntry,
    Manifest,
    SourceInfo,
    TableEntry,
    to_json,
)
from cdc.snapshot.session import SnapshotPoint, open_consistent_reads
from cdc.snapshot.source_tables import (
    TableSelection,
    estimated_rows,
    list_tables,
    read_table_schema,
    show_create_table,
)
from cdc.snapshot.store import SnapshotStore
from cdc.snapshot.table_rows import key_bounds
from cdc.snapshot.tasks import ReadTask, integer_key, plan_tasks
from cdc.snapshot.workers import FileJob, run_tasks

_log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
"""(table, rows written so far in it, estimated rows of it); called every few thousand rows."""
_PROGRESS_EVERY = 5000


@dataclass(frozen=True)
class SnapshotRequest:
    tables: TableSelection
    compression: str = "zstandard"
    file_rows: int = 500_000
    key: EncryptionKey | None = None
    anchor_wait_s: float = 60.0
    workers: int = 2


def new_snapshot_id(now: datetime) -> str:
    """Sortable by time, unique: 20261124T031500Z-3fa2c1."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def column_to_json(column: Column) -> dict[str, object]:
    return {**dataclasses.asdict(column), "members": list(column.members)}


def column_from_json(data: dict[str, object]) -> Column:
    values = dict(data)
    members = values.pop("members", [])
    return Column(**values, members=tuple(members))  # type: ignore[arg-type]


def take_snapshot(config: CaptureConfig, store: SnapshotStore, request: SnapshotRequest, *,
                  progress: Progress | None = None,
                  now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Manifest:
    created_at = now()
    snapshot_id = new_snapshot_id(created_at)
    try:
        return _take(config, store, request, snapshot_id, created_at=created_at,
                     progress=progress, now=now)
    except BaseException:
        _forget(store, snapshot_id)
        raise


@dataclass(frozen=True)
class _Table:
    index: int
    schema: TableSchema
    create_statement: str
    estimated_rows: int
    tasks: tuple[ReadTask, ...]


def _take(config: CaptureConfig, store: SnapshotStore, request: SnapshotRequest,
          snapshot_id: str, *, created_at: datetime, progress: Progress | None,
          now: Callable[[], datetime]) -> Manifest:
    connections, point = open_consistent_reads(config.source_dsn, request.workers + 1)
    planner, readers = connections[0], connections[1:]
    try:
        tables = _plan(planner, request)
        planner.close()  # its snapshot was only needed to plan
        job = FileJob(store=lambda: store, snapshot_id=snapshot_id,
                      compression=request.compression, key=request.key)
        counted = _Counted(tables, progress)
        entries = run_tasks(readers, [task for t in tables for task in t.tasks], job,
                            counted.add)
    finally:
        for connection in connections:
            if connection.open:
                connection.close()
    offset = _replay_start(config, point, request.anchor_wait_s)
    manifest = Manifest(
        snapshot_id=snapshot_id, created_at=created_at, finished_at=now(),
        source=_source_info(config, point), anchor=_anchor(point, offset),
        compression=request.compression,
        encryption=EncryptionInfo(key_id=request.key.key_id) if request.key else None,
        tables=tuple(_table_entry(t, entries) for t in tables))
    store.write_manifest(snapshot_id, to_json(manifest))
    return manifest


def _plan(connection: Any, request: SnapshotRequest) -> list[_Table]:
    cursor = connection.cursor()
    tables = []
    for index, (database, table) in enumerate(list_tables(cursor, request.tables)):
        schema = read_table_schema(cursor, database, table)
        estimate = estimated_rows(cursor, database, table)
        key = integer_key(schema)
        bounds = key_bounds(connection, schema, key) if key else None
        tasks = plan_tasks(index, schema, bounds, estimated_rows=estimate,
                           file_rows=request.file_rows, workers=request.workers)
        tables.append(_Table(index, schema, show_create_table(cursor, database, table),
                             estimate, tuple(tasks)))
    return tables


def _table_entry(table: _Table, entries: dict[tuple[int, int], FileEntry]) -> TableEntry:
    files = tuple(entries[(table.index, task.part)] for task in table.tasks)
    schema = table.schema
    return TableEntry(database=schema.database, table=schema.table,
                      columns=[column_to_json(c) for c in schema.columns],
                      primary_key=schema.primary_key, create_statement=table.create_statement,
                      rows=sum(f.rows for f in files), bytes=sum(f.bytes for f in files),
                      files=files)


class _Counted:
    """Rows read per table, for the progress display (tables may be read at once)."""

    def __init__(self, tables: list[_Table], progress: Progress | None) -> None:
        self._tables = {t.index: t for t in tables}
        self._rows = dict.fromkeys(self._tables, 0)
        self._progress = progress

    def add(self, table_index: int, rows: int) -> None:
        self._rows[table_index] += rows
        if self._progress is not None:
            table = self._tables[table_index]
            self._progress(table.schema.qualified_name, self._rows[table_index],
                           max(table.estimated_rows, self._rows[table_index]))


def _replay_start(config: CaptureConfig, point: SnapshotPoint, wait_s: float) -> int | None:
    """The changelog offset replay starts from, if capture has passed the anchor; the snapshot
    is complete without it (it is found again when the snapshot is used)."""
    try:
        offset = locate(config.kafka.bootstrap_servers,
                        (config.changelog_topic, config.schemas_topic), point.gtid_position,
                        wait_s=wait_s)
    except CdcError as exc:
        _log.warning("the changelog could not be read (%s); the snapshot's replay start is "
                     "found when it is used", exc.message)
        return None
    if offset is None:
        _log.warning("capture has not passed the snapshot's anchor %s within %.0f s; the "
                     "replay start is found when the snapshot is used (is capture running?)",
                     point.gtid_position, wait_s)
    return offset


def _source_info(config: CaptureConfig, point: SnapshotPoint) -> SourceInfo:
    dsn = config.source.dsn
    flavor: Literal["mariadb", "mysql"] = (
        "mariadb" if "mariadb" in point.version.lower() else "mysql")
    return SourceInfo(name=config.source.name, host=dsn.host, port=dsn.port,
                      server_id=point.server_id, flavor=flavor, version=point.version)


def _anchor(point: SnapshotPoint, offset: int | None) -> Anchor:
    return Anchor(gtid_position=str(point.gtid_position), binlog_file=point.binlog_file,
                  binlog_position=point.binlog_position, changelog_offset=offset)


def _forget(store: SnapshotStore, snapshot_id: str) -> None:
    """Remove what a failed snapshot wrote; it has no manifest, so nothing refers to it."""
    with contextlib.suppress(Exception):  # the original error is the one to report
        store.delete_snapshot(snapshot_id)
