from __future__ import annotations

import pytest

from cdc.errors import ConfigError
from cdc.position import Gtid, GtidPosition, parse_gtid


def test_parse_and_print_round_trip_in_domain_order() -> None:
    position = GtidPosition.parse("1-7-3, 0-1001-42")
    assert str(position) == "0-1001-42,1-7-3"
    assert position.sequence_in(1) == 3
    assert position.sequence_in(2) is None


def test_advancing_replaces_only_the_gtids_domain() -> None:
    position = GtidPosition.parse("0-1001-42,1-7-3")
    assert str(position.advanced(parse_gtid("0-1001-43"))) == "0-1001-43,1-7-3"
    assert str(position.advanced(parse_gtid("2-9-1"))) == "0-1001-42,1-7-3,2-9-1"
    assert str(GtidPosition().advanced(Gtid(0, 1, 1))) == "0-1-1"


def test_contains_compares_sequence_within_a_domain() -> None:
    position = GtidPosition.parse("0-1001-42")
    assert position.contains(parse_gtid("0-1001-42"))
    assert position.contains(parse_gtid("0-1001-7"))
    assert not position.contains(parse_gtid("0-1001-43"))
    assert not position.contains(parse_gtid("5-1001-1"))


def test_empty_position_is_falsy_and_prints_empty() -> None:
    assert not GtidPosition.parse("")
    assert str(GtidPosition()) == ""


@pytest.mark.parametrize("text", ["0-1001", "a-b-c", "0-1-2-3", "0-1-2,0-1-3"])
def test_malformed_positions_are_refused_with_the_form(text: str) -> None:
    with pytest.raises(ConfigError):
        GtidPosition.parse(text)


@pytest.mark.parametrize(("mine", "other", "expected"), [
    ("", "0-1-5", True),             # holding nothing, reading on misses nothing
    ("0-1-5", "0-1-5", True),
    ("0-1-4", "0-1-5", True),
    ("0-1-6", "0-1-5", False),
    ("0-1-5", "", False),            # the other holds nothing of domain 0
    ("0-1-5,1-1-2", "0-1-9", False),  # domain 1's first two are past the other
    ("0-1-5", "0-1-9,1-1-2", True),
])
def test_at_or_before_compares_every_domain(mine: str, other: str, expected: bool) -> None:
    assert GtidPosition.parse(mine).at_or_before(GtidPosition.parse(other)) is expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("0-1-5", "0-1-9", "0-1-5"),
    ("0-1-9", "0-2-5", "0-2-5"),     # the lower GTID keeps its own server id
    ("0-1-9,1-1-2", "0-1-5", "0-1-5"),
    ("0-1-9,1-1-2", "0-1-12,1-3-1", "0-1-9,1-3-1"),
    ("", "0-1-5", ""),
])
def test_meet_is_the_lower_position_per_domain(a: str, b: str, expected: str) -> None:
    left, right = GtidPosition.parse(a), GtidPosition.parse(b)
    assert str(left.meet(right)) == expected == str(right.meet(left))
    assert left.meet(right).at_or_before(left)
    assert left.meet(right).at_or_before(right)
