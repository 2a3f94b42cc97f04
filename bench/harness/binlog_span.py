"""How many bytes of binlog lie between two (file, position) coordinates. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BinlogCoordinates:
    file: str
    position: int


def binlog_bytes(start: BinlogCoordinates, end: BinlogCoordinates,
                 files: Sequence[tuple[str, int]]) -> int | None:
    """Bytes from ``start`` to ``end`` given ``SHOW BINARY LOGS`` (name, size) in order;
    None when a file between them is no longer listed."""
    if start.file == end.file:
        return max(0, end.position - start.position)
    names = [name for name, _ in files]
    if start.file not in names or end.file not in names:
        return None
    first, last = names.index(start.file), names.index(end.file)
    if last < first:
        return None
    sizes = dict(files)
    middle = sum(sizes[name] for name in names[first + 1:last])
    return sizes[start.file] - start.position + middle + end.position
