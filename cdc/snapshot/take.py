"""Taking a base snapshot: every included table, read inside one consistent read of the
source, written as Avro files to the store, then the manifest (last, so that a snapshot
without one is known to be incomplete)."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import JsonValue

from cdc.changes import Column, Row, TableSchema
from cdc.config.models import CaptureConfig
from cdc.errors import CdcError
from cdc.snapshot.anchor_offset import locate
from cdc.snapshot.chunk_file import encode_chunk
from cdc.snapshot.encryption import EncryptionKey, encrypt_chunks
from cdc.snapshot.manifest import (
    Anchor,
    EncryptionInfo,
    FileEntry,
    Manifest,
    SourceInfo,
    TableEntry,
    to_json,
)
from cdc.snapshot.session import SnapshotPoint, connect, consistent_read
from cdc.snapshot.source_tables import (
    TableSelection,
    estimated_rows,
    list_tables,
    read_table_schema,
    show_create_table,
)
from cdc.snapshot.store import SnapshotStore
from cdc.snapshot.table_rows import read_rows
from cdc.values import to_json_value

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
    writer = _FileWriter(store, new_snapshot_id(created_at), request)
    try:
        return _take(config, writer, created_at, progress, now)
    except BaseException:
        _forget(store, writer.snapshot_id)
        raise


def _take(config: CaptureConfig, writer: _FileWriter, created_at: datetime,
          progress: Progress | None, now: Callable[[], datetime]) -> Manifest:
    request = writer.request
    connection = connect(config.source_dsn)
    try:
        with consistent_read(connection) as point:
            cursor = connection.cursor()
            tables: list[TableEntry] = []
            for index, (database, table) in enumerate(list_tables(cursor, request.tables)):
                schema = read_table_schema(cursor, database, table)
                create = show_create_table(cursor, database, table)
                estimate = estimated_rows(cursor, database, table)
                files = writer.write_table(index, schema, read_rows(connection, schema),
                                           _reporter(progress, schema.qualified_name, estimate))
                tables.append(TableEntry(
                    database=database, table=table,
                    columns=[column_to_json(c) for c in schema.columns],
                    primary_key=schema.primary_key, create_statement=create,
                    rows=sum(f.rows for f in files), bytes=sum(f.bytes for f in files),
                    files=tuple(files)))
    finally:
        connection.close()
    offset = _replay_start(config, point, request.anchor_wait_s)
    manifest = Manifest(
        snapshot_id=writer.snapshot_id, created_at=created_at, finished_at=now(),
        source=_source_info(config, point), anchor=_anchor(point, offset),
        compression=request.compression,
        encryption=EncryptionInfo(key_id=request.key.key_id) if request.key else None,
        tables=tuple(tables))
    writer.store.write_manifest(writer.snapshot_id, to_json(manifest))
    return manifest


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


@dataclass(frozen=True)
class _FileWriter:
    store: SnapshotStore
    snapshot_id: str
    request: SnapshotRequest

    def write_table(self, index: int, schema: TableSchema, rows: Iterator[Row],
                    progress: Callable[[int], None]) -> list[FileEntry]:
        """The table's rows in files of ``file_rows`` rows; an empty table gets one empty
        file, which keeps its shape."""
        request = self.request
        files: list[FileEntry] = []
        written = 0
        for part in itertools.count():
            first = next(rows, None)
            if first is None and part > 0:
                break
            counter = _KeyRange(schema, written, progress)
            batch = itertools.chain(() if first is None else (first,),
                                    itertools.islice(rows, request.file_rows - 1))
            data: Iterable[bytes] = encode_chunk(schema, counter.wrap(batch),
                                                 codec=request.compression)
            if request.key is not None:
                data = encrypt_chunks(data, request.key)
            name = f"t{index:04d}-{part:05d}.avro"
            stored = self.store.write_file(self.snapshot_id, name, data)
            written += counter.rows
            files.append(FileEntry(name=name, rows=counter.rows, bytes=stored.size,
                                   sha256=stored.sha256, first_key=counter.first,
                                   last_key=counter.last))
            if first is None:
                break
        return files


class _KeyRange:
    """Counts the rows that pass through and keeps the first and last primary key."""

    def __init__(self, schema: TableSchema, before: int, progress: Callable[[int], None]):
        self._key = schema.primary_key
        self._before = before
        self._progress = progress
        self.rows = 0
        self.first: JsonValue = None
        self.last: JsonValue = None

    def wrap(self, rows: Iterable[Row]) -> Iterator[Row]:
        row: Row | None = None
        for row in rows:
            if self.rows == 0:
                self.first = self._key_of(row)
            self.rows += 1
            if self.rows % _PROGRESS_EVERY == 0:
                self._progress(self._before + self.rows)
            yield row
        if row is not None:
            self.last = self._key_of(row)
        self._progress(self._before + self.rows)

    def _key_of(self, row: Row) -> JsonValue:
        if not self._key:
            return None
        return [to_json_value(row[name]) for name in self._key]


def _reporter(progress: Progress | None, table: str, estimate: int) -> Callable[[int], None]:
    if progress is None:
        return lambda rows: None
    return lambda rows: progress(table, rows, estimate)


def _forget(store: SnapshotStore, snapshot_id: str) -> None:
    """Remove what a failed snapshot wrote; it has no manifest, so nothing refers to it."""
    with contextlib.suppress(Exception):  # the original error is the one to report
        store.delete_snapshot(snapshot_id)
