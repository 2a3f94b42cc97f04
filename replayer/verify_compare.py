"""Comparing two copies of a table chunk by chunk. Pure.

Each side's rows are reduced to their canonical Avro encoding (the changelog's own row
encoding, so a MariaDB, a snapshot and a PostgreSQL copy of the same values give the same
bytes), and each chunk to a row count and a SHA-256 over its rows. A chunk of an integer key's
range is hashed in key order, which every engine agrees on; any other chunk (a whole table whose
key is not one integer column, where engines may sort text differently) is hashed as a multiset,
independent of order. Chunks that differ are read again row by row to name the keys that are
missing, extra or changed.

JSON is compared as a document when the copies are of different engines: PostgreSQL's jsonb
keeps neither key order, nor spacing, nor duplicate keys, nor number spelling, so both sides'
JSON text is first brought to ``json_normal_form``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

Key = tuple[object, ...]
KeyRange = tuple[int, int] | None

MAX_KEYS_SHOWN = 20
_MULTISET_MODULUS = 1 << 256


@dataclass(frozen=True)
class ChunkDigest:
    key_range: KeyRange
    rows: int
    sha256: str


def digest(encoded_rows: Iterable[bytes], key_range: KeyRange, *,
           ordered: bool = True) -> ChunkDigest:
    """The digest of a chunk's rows (each its canonical encoding): in the order given, or,
    with ``ordered=False``, the sum of the rows' SHA-256s (a multiset hash: any order)."""
    hashed = hashlib.sha256()
    total = rows = 0
    for record in encoded_rows:
        framed = len(record).to_bytes(4, "big") + record
        if ordered:
            hashed.update(framed)
        else:
            total += int.from_bytes(hashlib.sha256(framed).digest(), "big")
        rows += 1
    if ordered:
        return ChunkDigest(key_range, rows, hashed.hexdigest())
    return ChunkDigest(key_range, rows, f"{total % _MULTISET_MODULUS:064x}")


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


def shape_differences(source: Mapping[str, str], target: Mapping[str, str],
                      source_key: tuple[str, ...], target_key: tuple[str, ...]) -> list[str]:
    """How two tables' columns (name to a description of its type) and primary keys differ,
    sorted; empty when they agree (column order aside)."""
    parts = [f"column {name} only in the source" for name in source.keys() - target.keys()]
    parts += [f"column {name} only in the target" for name in target.keys() - source.keys()]
    parts += [f"column {name}: {source[name]} in the source, {target[name]} in the target"
              for name in source.keys() & target.keys() if source[name] != target[name]]
    if source_key != target_key:
        parts.append(f"primary key {source_key} in the source, {target_key} in the target")
    return sorted(parts)


def json_normal_form(text: str) -> str:
    """One text for every spelling of a JSON document, as jsonb sees documents: keys sorted,
    no spacing, the last of duplicate keys, numbers exact (``100``, ``1.0E2`` and ``100.00``
    are one number: no float rounding), strings escaped to ASCII. Raises ValueError for text
    that is not JSON."""
    return _dump(json.loads(text, parse_float=Decimal, parse_int=Decimal))


def normal_json(value: object) -> object:
    """A JSON column's value in ``json_normal_form``; NULL, and text that is not JSON (which
    then differs from any jsonb value), as they are."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if not isinstance(value, str):
        return value
    try:
        return json_normal_form(value)
    except ValueError:
        return value


def _dump(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(name)}:{_dump(value[name])}"
                              for name in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(member) for member in value) + "]"
    if isinstance(value, Decimal) and value.is_finite():
        return _number(value)
    return json.dumps(value)


def _number(number: Decimal) -> str:
    """The number without trailing zeros, exactly (no context, so no rounding)."""
    sign, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int):  # NaN or infinity: not JSON, kept as Python prints it
        return str(number)
    significant = list(digits)
    while len(significant) > 1 and significant[-1] == 0:
        significant.pop()
        exponent += 1
    if significant == [0]:
        return "0"
    return str(Decimal((sign, tuple(significant), exponent)))


def _in_order(key: Key) -> tuple[tuple[int, object], ...]:
    """Numbers in numeric order, anything else after them by its text."""
    return tuple((0, part) if isinstance(part, int) else (1, repr(part)) for part in key)


def _add(keys: list[Key], key: Key) -> None:
    if len(keys) < MAX_KEYS_SHOWN:
        keys.append(key)
