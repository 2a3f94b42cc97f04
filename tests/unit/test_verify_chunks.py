"""Chunk plans and the table-by-table comparison of replayer verify, over copies in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cdc.changes import Column, TableSchema
from replayer.verify_chunks import (
    Chunk,
    KeyedRow,
    SourceTable,
    TableCopy,
    range_chunks,
    stream_chunks,
    verify_tables,
)
from replayer.verify_compare import Key, KeyRange, TableVerdict, digest

INTEGER_KEYED = TableSchema("db", "t", 0, (Column("id", "bigint", nullable=False),
                                           Column("v", "varchar")), ("id",))
TEXT_KEYED = TableSchema("db", "u", 0, (Column("code", "varchar", nullable=False),
                                        Column("v", "varchar")), ("code",))


class MemoryCopy:
    """A copy of a table as (key, encoding) pairs, read like a server reads it."""

    def __init__(self, rows: dict[Key, bytes], *, order: list[Key] | None = None) -> None:
        self.rows = rows
        self.order = order if order is not None else sorted(rows, key=_integer)

    def key_bounds(self) -> tuple[int, int] | None:
        keys = [key[0] for key in self.rows if isinstance(key[0], int)]
        return (min(keys), max(keys)) if keys else None

    def _in(self, key_range: KeyRange) -> Iterator[KeyedRow]:
        for key in self.order:
            if key_range is None or key_range[0] <= _integer(key) <= key_range[1]:
                yield key, self.rows[key]

    def encoded(self, key_range: KeyRange) -> Iterator[bytes]:
        return (record for _, record in self._in(key_range))

    def by_key(self, key_range: KeyRange) -> dict[Key, bytes]:
        return dict(self._in(key_range))


def _integer(key: Key) -> int:
    return key[0] if isinstance(key[0], int) else 0


class MemoryTarget:
    def __init__(self, copies: dict[str, TableCopy | str]) -> None:
        self.copies = copies

    def copy_of(self, schema: TableSchema) -> TableCopy | str:
        return self.copies.get(schema.table, "the table is missing in the target")


def rows(keys: range, value: bytes = b"v") -> dict[Key, bytes]:
    return {(k,): value + str(k).encode() for k in keys}


def test_a_live_source_is_compared_in_key_ranges_over_both_copies() -> None:
    source = MemoryCopy(rows(range(1, 101)))
    target_rows = rows(range(1, 101))
    del target_rows[(40,)]
    target_rows[(7,)] = b"other"
    target_rows[(150,)] = b"v150"
    target = MemoryCopy(target_rows)
    plan = range_chunks(INTEGER_KEYED, source, estimated_rows=100, chunk_rows=25)
    seen: list[tuple[str, int, int]] = []
    [verdict] = verify_tables([SourceTable(INTEGER_KEYED, 100, plan)],
                              MemoryTarget({"t": target}),
                              lambda *args: seen.append(args))
    assert verdict.chunks == 4
    assert (verdict.source_rows, verdict.target_rows) == (100, 100)
    assert (verdict.missing, verdict.extra, verdict.changed) == ([(40,)], [(150,)], [(7,)])
    assert verdict.differing_ranges[-1] is not None
    assert verdict.differing_ranges[-1][1] == 150  # the target's keys past the source's
    assert seen[-1] == ("db.t", 100, 100)


def test_a_stream_is_cut_every_chunk_rows_and_reaches_the_targets_ends() -> None:
    streamed = rows(range(10, 20))
    plan = stream_chunks(INTEGER_KEYED, lambda: iter(sorted(streamed.items())), 4)
    target = MemoryCopy({**streamed, (3,): b"low", (25,): b"high"})
    chunks = list(plan(target))
    assert [c.key_range for c in chunks] == [(3, 13), (14, 17), (18, 25)]
    assert [len(list(c.encoded())) for c in chunks] == [4, 4, 2]
    [verdict] = verify_tables([SourceTable(INTEGER_KEYED, 10, plan)],
                              MemoryTarget({"t": target}))
    assert (verdict.extra, verdict.missing, verdict.changed) == ([(3,), (25,)], [], [])


@pytest.mark.parametrize(("source_keys", "target_keys", "ranges"), [
    (range(1, 9), range(1, 9), [(1, 4), (5, 8)]),  # ends on a full chunk
    (range(1, 9), range(1, 12), [(1, 4), (5, 8), (9, 11)]),  # then the target's rest
    (range(0), range(5, 7), [(5, 6)]),  # an empty source
    (range(3, 5), range(0), [(3, 4)]),  # an empty target
    (range(0), range(0), [None]),  # both empty: one chunk, the whole table
])
def test_a_stream_covers_every_key_of_both_copies(source_keys: range, target_keys: range,
                                                  ranges: list[KeyRange]) -> None:
    streamed = rows(source_keys)
    plan = stream_chunks(INTEGER_KEYED, lambda: iter(sorted(streamed.items())), 4)
    chunks: list[Chunk] = list(plan(MemoryCopy(rows(target_keys))))
    assert [c.key_range for c in chunks] == ranges


def test_a_key_that_is_not_an_integer_is_compared_whole_in_any_order() -> None:
    source: dict[Key, bytes] = {("b",): b"1", ("a",): b"2", ("C",): b"3"}
    # Another engine sorts text another way: the same rows in another order are identical.
    target = MemoryCopy(dict(source), order=[("C",), ("a",), ("b",)])
    plan = stream_chunks(TEXT_KEYED, lambda: iter(source.items()), 2)
    [same] = verify_tables([SourceTable(TEXT_KEYED, 3, plan)], MemoryTarget({"u": target}))
    assert same.identical
    assert (same.chunks, same.source_rows) == (1, 3)
    target.rows[("a",)] = b"changed"
    [differs] = verify_tables([SourceTable(TEXT_KEYED, 3, plan)], MemoryTarget({"u": target}))
    assert (differs.differing_ranges, differs.changed) == ([None], [("a",)])


def test_a_table_the_target_cannot_give_is_a_problem() -> None:
    plan = stream_chunks(INTEGER_KEYED, lambda: iter([]), 4)
    verdicts = verify_tables([SourceTable(INTEGER_KEYED, 0, plan),
                              SourceTable(TEXT_KEYED, 0, plan)],
                             MemoryTarget({"u": "the table's shape differs: column v"}))
    assert [v.problems for v in verdicts] == [["the table is missing in the target"],
                                              ["the table's shape differs: column v"]]
    assert not any(v.identical for v in verdicts)
    assert verdicts[0] == TableVerdict("db.t", problems=["the table is missing in the target"])


def test_an_unordered_digest_ignores_order_but_not_rows() -> None:
    rows_ = [b"a", b"bc", b"", b"a"]
    forward = digest(rows_, None, ordered=False)
    assert forward == digest(list(reversed(rows_)), None, ordered=False)
    assert forward.sha256 != digest(rows_[:3], None, ordered=False).sha256  # a duplicate counts
    assert forward.sha256 != digest([b"ab", b"c", b"", b"a"], None, ordered=False).sha256
    assert forward.sha256 != digest(rows_, None).sha256
