"""``cdc backups verify``: re-hash and decode every file of a snapshot, then check that the
changelog continues it from its anchor to now."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from cdc.changes import ChangeRecord, TableSchema
from cdc.errors import CdcError
from cdc.position import GtidPosition
from cdc.snapshot.catalog import table_schema
from cdc.snapshot.chunk_file import decode_chunk
from cdc.snapshot.coverage import CoverageReport, check_coverage
from cdc.snapshot.encryption import EncryptionKey, decrypt_chunks
from cdc.snapshot.errors import SnapshotIntegrityError
from cdc.snapshot.manifest import FileEntry, Manifest
from cdc.snapshot.store import SnapshotStore

ChangelogReader = Callable[[int], Iterator[tuple[int, ChangeRecord]]]
"""(offset, record) from an offset to the end of the changelog."""


@dataclass
class SnapshotVerdict:
    snapshot_id: str
    files_checked: int = 0
    rows_checked: int = 0
    problems: list[str] = field(default_factory=list)
    coverage: CoverageReport | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and (self.coverage is None or not self.coverage.problems)


def verify_files(store: SnapshotStore, manifest: Manifest, key: EncryptionKey | None,
                 verdict: SnapshotVerdict,
                 progress: Callable[[str, int, int], None] | None = None) -> None:
    """Every file: present, its size and SHA-256 as recorded, every record decodable, as many
    rows as recorded. Problems name the file."""
    total = manifest.total_rows
    for table in manifest.tables:
        schema = table_schema(table)
        for entry in table.files:
            try:
                rows = _check_file(store, manifest, schema, entry, key)
            except CdcError as exc:
                verdict.problems.append(f"{entry.name} ({table.database}.{table.table}): "
                                        f"{exc.message}")
                continue
            verdict.files_checked += 1
            verdict.rows_checked += rows
            if progress is not None:
                progress(manifest.snapshot_id, verdict.rows_checked, total)


def _check_file(store: SnapshotStore, manifest: Manifest, schema: TableSchema,
                entry: FileEntry, key: EncryptionKey | None) -> int:
    hashed = _Hashed(store.read_file(manifest.snapshot_id, entry.name))
    data: Iterable[bytes] = hashed
    if manifest.encryption is not None:
        data = decrypt_chunks(hashed, key, entry.name)
    rows = sum(1 for _ in decode_chunk(schema, data, entry.name))
    for _ in hashed:  # anything after the last block (decode_chunk refuses it too)
        pass
    if hashed.size != entry.bytes:
        raise SnapshotIntegrityError(f"is {hashed.size} bytes, the manifest says {entry.bytes}",
                                     "the file was truncated or replaced")
    if hashed.sha256() != entry.sha256:
        raise SnapshotIntegrityError("its SHA-256 differs from the manifest's",
                                     "the file is corrupt; restore from another snapshot")
    if rows != entry.rows:
        raise SnapshotIntegrityError(f"holds {rows} rows, the manifest says {entry.rows}",
                                     "the file is corrupt; restore from another snapshot")
    return rows


class _Hashed:
    """Passes chunks through while hashing and counting them."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._hash = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self._hash.update(chunk)
        self.size += len(chunk)
        return chunk

    def sha256(self) -> str:
        return self._hash.hexdigest()


def verify_coverage(manifest: Manifest, replay_start: int | None,
                    before_start: ChangeRecord | None, read_from: ChangelogReader,
                    verdict: SnapshotVerdict) -> None:
    anchor = GtidPosition.parse(manifest.anchor.gtid_position)
    if replay_start is None:
        verdict.problems.append(
            f"the changelog has not reached the snapshot's anchor {anchor or '(empty)'} yet: "
            "is capture running?")
        return
    verdict.coverage = check_coverage(anchor, before_start, read_from(replay_start))
