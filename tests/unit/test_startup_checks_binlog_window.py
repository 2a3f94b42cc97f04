"""Whether the binlog still holds everything after a GTID position (MariaDB and MySQL)."""

from __future__ import annotations

import pytest

from cdc.position import Gtid, GtidPosition
from cdc.startup_checks.binlog_window import (
    mysql_unavailable_reasons,
    oldest_available_position,
    parse_gtid_list,
    unavailable_reasons,
)

STATE = parse_gtid_list("0-1001-500,0-7-20,1-1001-30")
PURGED = parse_gtid_list("[0-1001-100,0-7-20,1-1001-10]")


def reasons(position: str, purged: tuple[Gtid, ...] = PURGED) -> list[str]:
    return unavailable_reasons(GtidPosition.parse(position), purged, STATE)


def test_gtid_lists_from_an_event_or_a_variable() -> None:
    assert parse_gtid_list("[]") == ()
    assert parse_gtid_list("") == ()
    assert parse_gtid_list("[0-1-5, 1-2-3]") == (Gtid(0, 1, 5), Gtid(1, 2, 3))


@pytest.mark.parametrize("position", [
    "0-1001-100,1-1001-10",  # exactly where the oldest binlog starts
    "0-1001-499,1-1001-30",
    "0-1001-500,1-1001-30",  # the very end
])
def test_positions_still_in_the_binlog(position: str) -> None:
    assert reasons(position) == []


def test_a_sequence_number_older_than_the_oldest_binlog() -> None:
    assert reasons("0-1001-99,1-1001-10") == [
        "0-1001-99: the transactions after it up to sequence 100 in domain 0 were purged"]


def test_a_domain_the_binlog_has_never_seen() -> None:
    assert reasons("0-1001-200,1-1001-10,5-1001-1") == [
        "5-1001-1: the binlog has never had a transaction in domain 5"]


def test_a_server_that_never_wrote_to_the_domain() -> None:
    assert reasons("0-999-200,1-1001-10") == [
        "0-999-200: server 999 never wrote to domain 0 of this binlog (servers seen: 7, 1001)"]


def test_a_sequence_number_its_server_never_wrote() -> None:
    assert reasons("0-7-150,1-1001-10") == [
        "0-7-150: never written; the last transaction of server 7 in domain 0 is sequence 20"]


def test_a_position_ahead_of_the_binlog() -> None:
    (reason,) = reasons("0-1001-501,1-1001-10")
    assert reason.startswith("0-1001-501: ahead of the binlog, which ends at sequence 500")


def test_a_purged_domain_missing_from_the_position() -> None:
    assert reasons("0-1001-200") == [
        "domain 1: the position has no GTID in it, so capture would need it from its first "
        "transaction, but the binlog up to sequence 10 was purged"]


def test_the_empty_position_needs_an_unpurged_binlog() -> None:
    assert reasons("", purged=()) == []
    assert len(reasons("")) == 2


def test_the_oldest_available_position_keeps_the_last_gtid_per_domain() -> None:
    assert str(oldest_available_position(PURGED)) == "0-1001-100,1-1001-10"
    assert str(oldest_available_position(())) == ""


def test_mysql_reasons_come_from_the_servers_set_comparison() -> None:
    assert mysql_unavailable_reasons("u:1-9", True, True, "u:1-5", "u:1-20") == []
    purged, foreign = mysql_unavailable_reasons("u:1-3", False, False, "u:1-5", "u:1-20")
    assert purged == "transactions the position lacks were purged (gtid_purged u:1-5)"
    assert foreign == ("it holds transactions this source never executed (gtid_executed "
                       "u:1-20)")
