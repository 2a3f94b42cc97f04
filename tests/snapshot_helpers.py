"""Taking snapshots in tests, and reading them back independently of the replayer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from cdc.avro.codec import decode_record
from cdc.changes import ChangeRecord, Operation
from cdc.kafka.reader import read_committed
from cdc.snapshot.catalog import read_catalog, table_schema
from cdc.snapshot.chunk_file import decode_chunk
from cdc.snapshot.encryption import EncryptionKey, decrypt_chunks
from cdc.snapshot.manifest import Manifest
from cdc.snapshot.store_file import FileSnapshotStore
from tests.capture_helpers import CDC, CaptureSetup, capture_env, registry_of

Tables = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def snapshot_section(store: Path, *, anchor_wait: str = "60s", extra: str = "") -> str:
    return f'\n[snapshots]\nstore = "{store}"\nanchor_wait = "{anchor_wait}"\n{extra}\n'


def run_cdc(*args: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CDC, *args], env=env or capture_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)


def take(config: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run_cdc("snapshot", "--config", str(config), "--json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def newest_manifest(store: Path) -> Manifest:
    catalog = read_catalog(FileSnapshotStore(store))
    assert catalog.manifests, f"no snapshot in {store}"
    return catalog.manifests[-1]


def snapshot_tables(store: Path, manifest: Manifest, key: EncryptionKey | None = None,
                    key_columns: tuple[str, ...] = ("id",)) -> Tables:
    """Every table's rows as the snapshot files hold them, keyed by primary key."""
    files = FileSnapshotStore(store)
    tables: Tables = {}
    for entry in manifest.tables:
        schema = table_schema(entry)
        rows = tables.setdefault(entry.table, {})
        for file in entry.files:
            data = files.read_file(manifest.snapshot_id, file.name)
            if manifest.encryption is not None:
                data = decrypt_chunks(data, key, file.name)
            for row in decode_chunk(schema, data, file.name):
                rows[tuple(row[c] for c in key_columns)] = row
    return tables


def changelog_from(setup: CaptureSetup, offset: int) -> list[ChangeRecord]:
    """The committed records from ``offset`` to the end, decoded."""
    registry = registry_of(setup)
    return [decode_record(stored.value, registry.lookup)
            for stored in read_committed(setup.bootstrap, setup.changelog_topic, offset)]


def apply_changes(tables: Tables, records: list[ChangeRecord],
                  key_columns: tuple[str, ...] = ("id",)) -> int:
    """Replay row changes on top of ``tables``; returns the transactions applied."""
    transactions = 0
    for record in records:
        if record.operation.is_marker or record.operation is Operation.DDL:
            continue
        table = tables.setdefault(record.table, {})
        if record.before is not None:
            key = tuple(record.before[c] for c in key_columns)
            assert key in table, f"{record.table}{key} changed but is not there: {record}"
            del table[key]
        if record.after is not None:
            key = tuple(record.after[c] for c in key_columns)
            assert key not in table, f"{record.table}{key} inserted twice: {record}"
            table[key] = record.after
        transactions += record.transaction_last
    return transactions
