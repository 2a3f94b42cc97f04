"""The benchmark's binlog range: parsing two positions, counting, and seeing its end."""

from __future__ import annotations

import pytest

from bench.harness.gtid_range import GtidRange
from cdc.errors import ConfigError
from cdc.position import GtidPosition, parse_gtid


def test_a_range_counts_the_transactions_between_its_positions() -> None:
    found = GtidRange.parse("0-1001-100", "0-1001-150")
    assert found.transactions == 50
    assert str(found.start) == "0-1001-100"
    assert str(found.end) == "0-1001-150"


def test_a_domain_new_in_the_end_position_counts_from_zero() -> None:
    assert GtidRange.parse("0-1001-10", "0-1001-12,1-7-3").transactions == 5


def test_an_empty_start_is_the_whole_binlog() -> None:
    assert GtidRange.parse("", "0-1001-4").transactions == 4


@pytest.mark.parametrize(("start", "end", "why"), [
    ("0-1001-10", "0-1001-10", "empty"),
    ("0-1001-10", "0-1001-9", "not after"),
    ("0-1001-10,1-1-5", "0-1001-20", "not after"),
    ("0-1001-10", "", "end position of the range is empty"),
])
def test_ranges_that_cannot_be_read_are_refused(start: str, end: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        GtidRange.parse(start, end)


def test_the_watch_tells_when_the_last_transaction_has_begun() -> None:
    watch = GtidRange.parse("0-1001-10", "0-1001-12").watch()
    assert not watch.in_last_transaction
    watch.saw(parse_gtid("0-1001-11"))
    assert not watch.in_last_transaction
    watch.saw(parse_gtid("0-1001-12"))
    assert watch.in_last_transaction


def test_the_watch_waits_for_every_domain_of_the_end() -> None:
    watch = GtidRange.parse("0-1001-10,1-7-1", "0-1001-11,1-7-2").watch()
    watch.saw(parse_gtid("0-1001-11"))
    assert not watch.in_last_transaction
    watch.saw(parse_gtid("1-7-2"))
    assert watch.in_last_transaction


def test_transactions_beyond_the_end() -> None:
    found = GtidRange.parse("0-1001-10", "0-1001-20")
    assert found.transactions_beyond(GtidPosition.parse("0-1001-20")) == 0
    assert found.transactions_beyond(GtidPosition.parse("0-1001-23")) == 3
    assert found.transactions_beyond(GtidPosition.parse("0-1001-23,1-5-2")) == 5
