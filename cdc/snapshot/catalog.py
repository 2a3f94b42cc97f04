"""The snapshots of a configured store, read back: their manifests, newest last.

Shared by ``cdc backups``, ``cdc window`` and the replayer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdc.changes import TableSchema
from cdc.config.models import CaptureConfig
from cdc.snapshot.encryption import EncryptionKey, load_key
from cdc.snapshot.errors import EncryptionKeyError, SnapshotError
from cdc.snapshot.manifest import Manifest, TableEntry, parse_manifest
from cdc.snapshot.store import S3Settings, SnapshotStore, open_store
from cdc.snapshot.store_file import FileSnapshotStore
from cdc.snapshot.take import column_from_json


@dataclass(frozen=True)
class Catalog:
    store: SnapshotStore
    manifests: tuple[Manifest, ...]
    """Complete snapshots, oldest first."""
    damaged: tuple[tuple[str, SnapshotError], ...] = ()
    """Snapshots whose manifest cannot be read, with the reason."""

    def find(self, snapshot_id: str) -> Manifest:
        for manifest in self.manifests:
            if manifest.snapshot_id == snapshot_id:
                return manifest
        known = ", ".join(m.snapshot_id for m in self.manifests[-5:]) or "none"
        raise SnapshotError(f"there is no snapshot {snapshot_id!r} in {self.store.url}",
                            f"'cdc backups list' shows them; the newest: {known}")


def configured_store(config: CaptureConfig) -> SnapshotStore:
    settings = config.snapshots
    secret = settings.s3_secret_access_key
    s3 = S3Settings(endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                    access_key_id=settings.s3_access_key_id,
                    secret_access_key=secret.get_secret_value() if secret else None)
    return open_store(settings.store, s3_settings=s3)


def configured_key(config: CaptureConfig, environ: Mapping[str, str]) -> EncryptionKey | None:
    return load_key(config.snapshots.encryption_key_file, config.snapshots.encryption_key_env,
                    environ)


def key_for(manifest: Manifest, config: CaptureConfig,
            environ: Mapping[str, str]) -> EncryptionKey | None:
    """The key that reads ``manifest``'s files, checked against the id it records: a wrong or
    missing key must stop a restore before it touches its target, not at the first file."""
    if manifest.encryption is None:
        return None
    wanted = manifest.encryption.key_id
    taken_with = f"the key snapshot {manifest.snapshot_id} was taken with (key id {wanted})"
    try:
        key = configured_key(config, environ)
    except EncryptionKeyError as exc:
        raise EncryptionKeyError(exc.message, f"give {taken_with}") from None
    if key is None:
        raise EncryptionKeyError(
            f"snapshot {manifest.snapshot_id} is encrypted, and no key is configured",
            f"set snapshots.encryption_key_file or snapshots.encryption_key_env to {taken_with}")
    if key.key_id != wanted:
        raise EncryptionKeyError(
            f"snapshot {manifest.snapshot_id} was encrypted with key id {wanted}; the key "
            f"given has id {key.key_id}", f"give {taken_with}")
    return key


def read_catalog(store: SnapshotStore) -> Catalog:
    manifests: list[Manifest] = []
    damaged: list[tuple[str, SnapshotError]] = []
    for snapshot_id in store.list_snapshot_ids():
        try:
            manifests.append(parse_manifest(store.read_manifest(snapshot_id),
                                            manifest_location(store, snapshot_id),
                                            expected_snapshot_id=snapshot_id))
        except SnapshotError as exc:
            damaged.append((snapshot_id, exc))
    manifests.sort(key=lambda m: (m.created_at, m.snapshot_id))
    return Catalog(store, tuple(manifests), tuple(damaged))


def read_catalog_if_any(store: SnapshotStore) -> Catalog:
    """The catalog, empty for a file store whose directory the first snapshot has not made
    yet (``read_catalog`` refuses that, since a mistyped path looks the same)."""
    if isinstance(store, FileSnapshotStore) and not store.root.exists():
        return Catalog(store, ())
    return read_catalog(store)


def manifest_location(store: SnapshotStore, snapshot_id: str) -> str:
    return f"{store.url.rstrip('/')}/{snapshot_id}/manifest.json"


def table_schema(entry: TableEntry) -> TableSchema:
    """The table's shape as the snapshot recorded it (version 0: the snapshot's own)."""
    return TableSchema(entry.database, entry.table, 0,
                       tuple(column_from_json(c) for c in entry.columns), entry.primary_key)
