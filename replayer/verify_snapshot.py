"""A stored snapshot as the source side of ``replayer verify``: its rows as taken, read from
its files (decrypted when encrypted) in primary-key order, each encoded canonically again, so
that a target loaded from it can be checked against exactly what it was loaded from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cdc.avro.row_schema import row_codec
from cdc.changes import TableSchema
from cdc.config import load_config
from cdc.errors import ConfigError
from cdc.snapshot.catalog import configured_key, configured_store, read_catalog, table_schema
from cdc.snapshot.chunk_file import decode_chunk
from cdc.snapshot.encryption import EncryptionKey, decrypt_chunks
from cdc.snapshot.errors import SnapshotError, SnapshotIntegrityError
from cdc.snapshot.manifest import Manifest, TableEntry
from cdc.snapshot.source_tables import TableSelection
from cdc.snapshot.store import SnapshotStore
from cdc.snapshot.tasks import integer_key
from replayer.apply_mysql import POSITION_DATABASE
from replayer.verify_chunks import KeyedRow, SourceTable, stream_chunks
from replayer.verify_compare import normal_json

_INTEGRITY_HINT = "the snapshot is damaged: 'cdc backups verify' checks every file"


@dataclass(frozen=True)
class StoredSnapshot:
    store: SnapshotStore
    manifest: Manifest
    key: EncryptionKey | None


def open_snapshot(config_path: Path, snapshot_id: str,
                  environ: Mapping[str, str]) -> StoredSnapshot:
    """The snapshot ``snapshot_id`` of the store the configuration names, with its key."""
    config = load_config(config_path, environ)
    catalog = read_catalog(configured_store(config))
    for damaged_id, problem in catalog.damaged:
        if damaged_id == snapshot_id:
            raise problem
    try:
        manifest = catalog.find(snapshot_id)
    except SnapshotError as exc:  # an id the operator must correct
        raise ConfigError(exc.message, exc.hint) from None
    key = configured_key(config, environ) if manifest.encryption is not None else None
    return StoredSnapshot(catalog.store, manifest, key)


def snapshot_tables(snapshot: StoredSnapshot, tables: TableSelection, chunk_rows: int, *,
                    normalize_json: bool) -> Iterator[SourceTable]:
    """The included tables of the snapshot, each cut into chunks of ``chunk_rows`` rows as
    its files are read (a table whose key is not one integer column: one chunk)."""
    for entry in snapshot.manifest.tables:
        if entry.database == POSITION_DATABASE or not tables.includes(entry.database,
                                                                       entry.table):
            continue
        schema = table_schema(entry)
        rows = partial(keyed_rows, snapshot, entry, schema, normalize_json)
        yield SourceTable(schema, entry.rows, stream_chunks(schema, rows, chunk_rows))


def keyed_rows(snapshot: StoredSnapshot, entry: TableEntry, schema: TableSchema,
                normalize_json: bool) -> Iterator[KeyedRow]:
    """Every row of the table, file after file, as (key, canonical encoding); an integer key
    must rise strictly through the files, as the snapshot wrote them."""
    encode = row_codec(schema).encode
    names = tuple(c.name for c in schema.columns)
    key_names = schema.primary_key or names
    json_columns = tuple(c.name for c in schema.columns if c.type == "json") \
        if normalize_json else ()
    ordered = integer_key(schema) is not None
    previous: object = None
    for file in entry.files:
        data: Iterable[bytes] = snapshot.store.read_file(snapshot.manifest.snapshot_id,
                                                         file.name)
        if snapshot.manifest.encryption is not None:
            data = decrypt_chunks(data, snapshot.key, file.name)
        count = 0
        for row in decode_chunk(schema, data, file.name):
            count += 1
            for name in json_columns:
                row[name] = normal_json(row[name])
            key = tuple(row[name] for name in key_names)
            if ordered:
                _check_order(previous, key[0], file.name)
                previous = key[0]
            yield key, encode(row)
        if count != file.rows:
            raise SnapshotIntegrityError(
                f"snapshot file {file.name} holds {count} rows; the manifest says {file.rows}",
                _INTEGRITY_HINT)


def _check_order(previous: object, key: object, file_name: str) -> None:
    if not isinstance(key, int) or (isinstance(previous, int) and key <= previous):
        raise SnapshotIntegrityError(
            f"snapshot file {file_name}: key {key!r} follows {previous!r}, out of key order",
            _INTEGRITY_HINT)
