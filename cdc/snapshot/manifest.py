"""The snapshot manifest: what a complete snapshot holds and where its replay starts. Pure.

Written last (its presence marks the snapshot complete) as sorted, indented JSON. Every table
lists its files with their row count, stored size, SHA-256 (of the bytes as stored, so after
compression and encryption) and first/last primary key; a table's ``rows`` and ``bytes`` are the
sums over its files.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationError,
    model_validator,
)

from cdc.snapshot.errors import SnapshotError, SnapshotIntegrityError

FORMAT_VERSION: Final = 1
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.=+@,-]{0,199}")


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _file_name(value: str) -> str:
    if not _FILE_NAME.fullmatch(value) or value == "manifest.json":
        raise ValueError(f"{value!r} is not a valid snapshot file name")
    return value


UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]
Count = Annotated[int, Field(ge=0)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class _Model(BaseModel):
    # strict: a string is never taken for a number; extra fields mean a newer or corrupt file.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class SourceInfo(_Model):
    name: NonEmpty
    host: NonEmpty
    port: Annotated[int, Field(ge=1, le=65535)]
    server_id: Count
    flavor: Literal["mariadb", "mysql"]
    version: NonEmpty


class Anchor(_Model):
    """Where the snapshot sits in the source's history, and where replay on top of it starts."""

    gtid_position: str
    binlog_file: NonEmpty
    binlog_position: Count
    changelog_offset: Count | None


class EncryptionInfo(_Model):
    algorithm: Literal["AES-256-GCM"] = "AES-256-GCM"
    key_id: KeyId


class FileEntry(_Model):
    name: Annotated[str, AfterValidator(_file_name)]
    rows: Count
    bytes: Count
    sha256: Sha256Hex
    first_key: JsonValue
    last_key: JsonValue


class TableEntry(_Model):
    database: NonEmpty
    table: NonEmpty
    columns: list[dict[str, Any]]
    primary_key: tuple[str, ...]
    create_statement: str | None = None
    """The source's own ``SHOW CREATE TABLE``, for a MySQL/MariaDB target."""
    rows: Count
    bytes: Count
    files: tuple[FileEntry, ...]

    @model_validator(mode="after")
    def _sums_match(self) -> TableEntry:
        rows = sum(entry.rows for entry in self.files)
        size = sum(entry.bytes for entry in self.files)
        if (self.rows, self.bytes) != (rows, size):
            raise ValueError(f"table {self.database}.{self.table} says {self.rows} rows and "
                             f"{self.bytes} bytes, its files add up to {rows} and {size}")
        return self


class Manifest(_Model):
    format_version: Literal[1] = FORMAT_VERSION
    snapshot_id: NonEmpty
    created_at: UtcTime
    finished_at: UtcTime
    source: SourceInfo
    anchor: Anchor
    compression: NonEmpty
    encryption: EncryptionInfo | None
    tables: tuple[TableEntry, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.finished_at < self.created_at:
            raise ValueError("finished_at is before created_at")
        tables = [(t.database, t.table) for t in self.tables]
        if len(set(tables)) != len(tables):
            raise ValueError("a table is listed twice")
        names = [entry.name for table in self.tables for entry in table.files]
        if len(set(names)) != len(names):
            raise ValueError("a file name is listed twice")
        return self

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables)

    @property
    def total_bytes(self) -> int:
        return sum(table.bytes for table in self.tables)

    @property
    def files(self) -> list[FileEntry]:
        return [entry for table in self.tables for entry in table.files]


def to_json(manifest: Manifest) -> bytes:
    text = json.dumps(manifest.model_dump(mode="json"), sort_keys=True, indent=2,
                      ensure_ascii=False)
    return text.encode() + b"\n"


def parse_manifest(data: bytes, where: str, *, expected_snapshot_id: str | None = None) -> Manifest:
    """The manifest in ``data``; ``where`` (its file or URL) is named in every error."""
    damaged = "the manifest is damaged: restore from another snapshot"
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotIntegrityError(
            f"manifest {where} is not valid JSON ({len(data)} bytes; truncated or corrupt): {exc}",
            damaged) from exc
    if not isinstance(document, dict):
        raise SnapshotIntegrityError(f"manifest {where} is not a JSON object", damaged)
    version = document.get("format_version")
    if version is None:
        raise SnapshotIntegrityError(f"manifest {where} has no format_version", damaged)
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise SnapshotError(
            f"manifest {where} has format version {version}; this version of cdc reads only "
            f"version {FORMAT_VERSION}", "restore with a newer version of cdc")
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()[:5])
        raise SnapshotIntegrityError(f"manifest {where} is invalid: {problems}", damaged) from exc
    if expected_snapshot_id is not None and manifest.snapshot_id != expected_snapshot_id:
        raise SnapshotIntegrityError(
            f"manifest {where} is for snapshot {manifest.snapshot_id!r}, not "
            f"{expected_snapshot_id!r}", "the store's files were moved or mixed up")
    return manifest


def manifest_summary(manifest: Manifest) -> dict[str, object]:
    """What ``cdc snapshot --json`` and ``cdc backups list --json`` say of a snapshot."""
    anchor = manifest.anchor
    return {
        "snapshot_id": manifest.snapshot_id,
        "created_at": manifest.created_at.isoformat(),
        "finished_at": manifest.finished_at.isoformat(),
        "anchor": {"gtid_position": anchor.gtid_position, "binlog_file": anchor.binlog_file,
                   "binlog_position": anchor.binlog_position,
                   "changelog_offset": anchor.changelog_offset},
        "tables": len(manifest.tables),
        "rows": manifest.total_rows,
        "bytes": manifest.total_bytes,
        "encrypted": manifest.encryption is not None,
    }
