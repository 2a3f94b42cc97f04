"""The snapshot store interface, its small value types, and ``open_store`` choosing by URL.

Layout, the same in every store: ``<root>/<snapshot_id>/<name>`` for the data files and
``<root>/<snapshot_id>/manifest.json`` written last. A snapshot without a manifest is one that
failed or is still being written; it is never listed as complete. Every write is atomic (a file
appears whole or not at all) and durable before it returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from cdc.snapshot.errors import SnapshotError, SnapshotStoreError

MANIFEST_NAME = "manifest.json"
READ_CHUNK_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.=+@,-]{0,199}")


@dataclass(frozen=True)
class StoredFile:
    """A file as stored: its size and the SHA-256 (hex) of its bytes as they are in the store."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class S3Settings:
    """Connection settings for ``s3://`` stores; ``None`` falls back to the usual AWS_* variables
    (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    max_attempts: int = 5  # per request, with botocore's standard backoff

    def __repr__(self) -> str:
        secret = "None" if self.secret_access_key is None else "'***'"
        return (f"S3Settings(endpoint_url={self.endpoint_url!r}, region={self.region!r}, "
                f"access_key_id={self.access_key_id!r}, secret_access_key={secret}, "
                f"max_attempts={self.max_attempts})")


class SnapshotStore(Protocol):
    """Where snapshots live. Implementations: ``store_file`` (file://) and ``store_s3`` (s3://)."""

    @property
    def url(self) -> str:
        """The store's URL, for messages."""
        ...

    def write_file(self, snapshot_id: str, name: str, chunks: Iterable[bytes]) -> StoredFile:
        """Store the concatenated chunks as one file, atomically and durably.

        An exception from ``chunks`` propagates unchanged; a failed write leaves no file."""
        ...

    def read_file(self, snapshot_id: str, name: str) -> Iterator[bytes]:
        """The file's bytes in chunks; a missing file raises at once, not at the first chunk."""
        ...

    def file_size(self, snapshot_id: str, name: str) -> int: ...

    def write_manifest(self, snapshot_id: str, data: bytes) -> StoredFile:
        """Store the manifest, atomically: call it last, once every data file is written."""
        ...

    def read_manifest(self, snapshot_id: str) -> bytes: ...

    def list_snapshot_ids(self) -> list[str]:
        """Sorted ids of the complete snapshots (those with a manifest)."""
        ...

    def list_incomplete(self) -> list[str]:
        """Sorted ids of snapshots without a manifest: failed or still being written."""
        ...

    def delete_snapshot(self, snapshot_id: str) -> None:
        """Delete the manifest first, then the files, so a half-deleted snapshot is incomplete."""
        ...


def check_name(kind: str, value: str) -> str:
    """A snapshot id or file name must be one plain path segment (no '/', no leading dot)."""
    if not _NAME.fullmatch(value):
        raise SnapshotError(
            f"{value!r} is not a valid {kind}",
            "use letters, digits and _ . = + @ , - (not starting with '.' or '-', at most 200)",
        )
    return value


def check_data_name(name: str) -> str:
    check_name("snapshot file name", name)
    if name == MANIFEST_NAME:
        raise SnapshotError(f"{MANIFEST_NAME!r} is reserved for the manifest",
                            "write the manifest with write_manifest, and name data files otherwise")
    return name


def open_store(url: str, *, s3_settings: S3Settings | None = None) -> SnapshotStore:
    """``file:///path`` or a bare path: a directory; ``s3://bucket/prefix``: an S3-API bucket."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "file", url
    # Imported here so that a file store never loads boto3, and to keep this module free of cycles.
    if scheme == "file":
        from cdc.snapshot.store_file import FileSnapshotStore  # noqa: PLC0415

        if not rest:
            raise SnapshotStoreError(f"snapshot store URL {url!r} has no path",
                                     "write file:///absolute/path or a plain path")
        return FileSnapshotStore(rest)
    if scheme == "s3":
        from cdc.snapshot.store_s3 import S3SnapshotStore  # noqa: PLC0415

        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise SnapshotStoreError(f"snapshot store URL {url!r} has no bucket",
                                     "write s3://bucket or s3://bucket/prefix")
        return S3SnapshotStore(bucket, prefix.strip("/"), s3_settings or S3Settings())
    raise SnapshotStoreError(f"snapshot store URL {url!r} has an unknown scheme {scheme!r}",
                             "use file:///path (or a plain path) or s3://bucket/prefix")
