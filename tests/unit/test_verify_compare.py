"""Chunk digests and row differences for replayer verify."""

from __future__ import annotations

from replayer.verify_compare import (
    MAX_KEYS_SHOWN,
    TableVerdict,
    add_chunk,
    add_row_differences,
    digest,
)


def test_equal_rows_give_equal_digests_and_any_change_shows() -> None:
    rows = [b"a", b"bc", b""]
    assert digest(rows, (1, 3)) == digest(list(rows), (1, 3))
    assert digest(rows, (1, 3)).rows == 3
    assert digest([b"a", b"bd", b""], (1, 3)).sha256 != digest(rows, (1, 3)).sha256
    # Record boundaries count: the same bytes split differently are different rows.
    assert digest([b"ab", b"c"], None).sha256 != digest([b"a", b"bc"], None).sha256


def test_a_differing_chunk_is_counted_and_its_keys_named() -> None:
    verdict = TableVerdict("db.t")
    same = digest([b"x"], (1, 10))
    assert add_chunk(verdict, same, same) is False
    assert add_chunk(verdict, digest([b"x", b"y"], (11, 20)), digest([b"x"], (11, 20))) is True
    assert (verdict.chunks, verdict.source_rows, verdict.target_rows) == (2, 3, 2)
    assert verdict.differing_ranges == [(11, 20)]
    add_row_differences(verdict, {(11,): b"x", (12,): b"y", (13,): b"z"},
                        {(11,): b"x", (13,): b"Z", (14,): b"w"})
    assert (verdict.missing, verdict.changed, verdict.extra) == ([(12,)], [(13,)], [(14,)])
    assert not verdict.identical


def test_names_are_capped() -> None:
    verdict = TableVerdict("db.t")
    add_row_differences(verdict, {(n,): b"" for n in range(100)}, {})
    assert len(verdict.missing) == MAX_KEYS_SHOWN
