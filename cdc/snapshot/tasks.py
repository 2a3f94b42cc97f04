"""How a snapshot's reading is split into files for its workers. Pure.

A table whose primary key is one integer column is cut into key ranges of about
``file_rows`` rows each (by value, from the smallest to the largest key), and into at least
two ranges per worker when it is big enough to be worth sharing; every other table is one
file read in key order. Each task becomes one data file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cdc.changes import TableSchema

_INTEGERS = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint"})
_SHARE_ABOVE_ROWS = 20_000


@dataclass(frozen=True)
class ReadTask:
    table_index: int
    part: int
    schema: TableSchema
    key_range: tuple[int, int] | None
    """[low, high] of the integer key, both inclusive; None reads the whole table."""

    @property
    def file_name(self) -> str:
        return f"t{self.table_index:04d}-{self.part:05d}.avro"


def integer_key(schema: TableSchema) -> str | None:
    """The name of the table's primary key when it is a single integer column."""
    if len(schema.primary_key) != 1:
        return None
    column = schema.column(schema.primary_key[0])
    return column.name if column.type in _INTEGERS else None


def plan_tasks(table_index: int, schema: TableSchema, bounds: tuple[int, int] | None, *,
               estimated_rows: int, file_rows: int, workers: int) -> list[ReadTask]:
    """The tasks of one table; ``bounds`` are its smallest and largest integer key (None when
    the key is not one integer column or the table is empty)."""
    if bounds is None or integer_key(schema) is None:
        return [ReadTask(table_index, 0, schema, None)]
    low, high = bounds
    parts = max(1, math.ceil(estimated_rows / file_rows))
    if estimated_rows >= _SHARE_ABOVE_ROWS:
        parts = max(parts, 2 * workers)
    parts = min(parts, high - low + 1)
    width = (high - low + 1) / parts
    edges = [low + round(width * i) for i in range(parts)] + [high + 1]
    return [ReadTask(table_index, part, schema, (edges[part], edges[part + 1] - 1))
            for part in range(parts)]
