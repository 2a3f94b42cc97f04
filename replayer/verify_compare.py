"""Comparing two copies of a table chunk by chunk. Pure.

Each side's rows are reduced to their canonical Avro encoding (the changelog's own row
encoding, so a MariaDB and a PostgreSQL copy of the same values give the same bytes), and each
primary-key chunk to a row count and a SHA-256 over its rows in key order. Chunks that differ
are read again row by row to name the keys that are missing, extra or changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Key = tuple[object, ...]
KeyRange = tuple[int, int] | None

MAX_KEYS_SHOWN = 20


@dataclass(frozen=True)
class ChunkDigest:
    key_range: KeyRange
    rows: int
    sha256: str


def digest(encoded_rows: Iterable[bytes], key_range: KeyRange) -> ChunkDigest:
    """The digest of a chunk's rows (each its canonical encoding), in key order."""
    hashed = hashlib.sha256()
    rows = 0
    for record in encoded_rows:
        hashed.update(len(record).to_bytes(4, "big"))
        hashed.update(record)
        rows += 1
    return ChunkDigest(key_range, rows, hashed.hexdigest())


@dataclass
class TableVerdict:
    table: str
    source_rows: int = 0
    target_rows: int = 0
    chunks: int = 0
    differing_ranges: list[KeyRange] = field(default_factory=list)
    missing: list[Key] = field(default_factory=list)
    """Keys the source has and the target lacks."""
    extra: list[Key] = field(default_factory=list)
    """Keys the target has and the source lacks."""
    changed: list[Key] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.differing_ranges or self.missing or self.extra or self.changed
                    or self.problems)


def add_chunk(verdict: TableVerdict, source: ChunkDigest, target: ChunkDigest) -> bool:
    """Count one chunk; True when it differs (the caller then looks at its rows)."""
    verdict.chunks += 1
    verdict.source_rows += source.rows
    verdict.target_rows += target.rows
    if (source.rows, source.sha256) == (target.rows, target.sha256):
        return False
    verdict.differing_ranges.append(source.key_range)
    return True


def add_row_differences(verdict: TableVerdict, source: Mapping[Key, bytes],
                        target: Mapping[Key, bytes]) -> None:
    """Name the keys of a differing chunk (at most ``MAX_KEYS_SHOWN`` of each kind)."""
    for key in sorted(source.keys() - target.keys(), key=_in_order):
        _add(verdict.missing, key)
    for key in sorted(target.keys() - source.keys(), key=_in_order):
        _add(verdict.extra, key)
    for key in sorted(source.keys() & target.keys(), key=_in_order):
        if source[key] != target[key]:
            _add(verdict.changed, key)


def _in_order(key: Key) -> tuple[tuple[int, object], ...]:
    """Numbers in numeric order, anything else after them by its text."""
    return tuple((0, part) if isinstance(part, int) else (1, repr(part)) for part in key)


def _add(keys: list[Key], key: Key) -> None:
    if len(keys) < MAX_KEYS_SHOWN:
        keys.append(key)
