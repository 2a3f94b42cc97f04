"""Bytes of binlog between two coordinates, within one file and across files."""

from __future__ import annotations

from bench.harness.binlog_span import BinlogCoordinates, binlog_bytes

FILES = [("bin.000001", 1_000), ("bin.000002", 5_000), ("bin.000003", 700)]


def test_within_one_file() -> None:
    assert binlog_bytes(BinlogCoordinates("bin.000002", 400),
                        BinlogCoordinates("bin.000002", 1_400), FILES) == 1_000


def test_across_files_counts_the_rest_of_the_first_every_middle_one_and_the_start_of_the_last(
) -> None:
    assert binlog_bytes(BinlogCoordinates("bin.000001", 900),
                        BinlogCoordinates("bin.000003", 50), FILES) == 100 + 5_000 + 50


def test_a_file_no_longer_listed_gives_no_answer() -> None:
    assert binlog_bytes(BinlogCoordinates("bin.000000", 4),
                        BinlogCoordinates("bin.000002", 50), FILES) is None
