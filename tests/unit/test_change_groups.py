"""Gathering a target transaction's row changes into set-based groups: every row once, in
one group, its newest image; conflicts refused; groups in the order they opened."""

from __future__ import annotations

from replayer.change_groups import ChangeGroups, Kind

PAYMENTS = ("shop", "payments", 1)
ACCOUNTS = ("shop", "accounts", 1)


def _summary(groups: ChangeGroups) -> list[tuple[str, str, list[bytes]]]:
    return [(group.table[1], group.kind.value, group.images) for group in groups.take()]


def test_rows_of_one_table_and_kind_share_a_group_in_the_order_gathered() -> None:
    groups = ChangeGroups()
    assert groups.add(PAYMENTS, Kind.INSERT, (b"1",), b"p1")
    assert groups.add(ACCOUNTS, Kind.UPDATE, (b"7",), b"a7")
    assert groups.add(PAYMENTS, Kind.INSERT, (b"2",), b"p2")
    assert groups.add(PAYMENTS, Kind.DELETE, (b"9",), b"p9-old")
    assert _summary(groups) == [("payments", "insert", [b"p1", b"p2"]),
                                ("accounts", "update", [b"a7"]),
                                ("payments", "delete", [b"p9-old"])]
    assert not groups


def test_an_update_replaces_the_image_of_a_row_inserted_or_updated_before() -> None:
    groups = ChangeGroups()
    assert groups.add(PAYMENTS, Kind.INSERT, (b"1",), b"pending")
    assert groups.add(PAYMENTS, Kind.UPDATE, (b"1",), b"settled")
    assert groups.add(ACCOUNTS, Kind.UPDATE, (b"7",), b"balance 10")
    assert groups.add(ACCOUNTS, Kind.UPDATE, (b"7",), b"balance 20")
    assert groups.changes == 4
    assert _summary(groups) == [("payments", "insert", [b"settled"]),
                                ("accounts", "update", [b"balance 20"])]


def test_a_row_changed_again_in_another_way_is_a_conflict() -> None:
    for first, then in [(Kind.INSERT, Kind.DELETE), (Kind.DELETE, Kind.INSERT),
                        (Kind.DELETE, Kind.UPDATE), (Kind.UPDATE, Kind.DELETE),
                        (Kind.INSERT, Kind.INSERT), (Kind.DELETE, Kind.DELETE)]:
        groups = ChangeGroups()
        assert groups.add(PAYMENTS, first, (b"1",), b"first")
        assert not groups.add(PAYMENTS, then, (b"1",), b"then"), (first, then)
        assert _summary(groups) == [("payments", first.value, [b"first"])], (first, then)
        assert groups.add(PAYMENTS, then, (b"1",), b"then")  # once the set is applied


def test_the_same_key_in_another_table_is_another_row() -> None:
    groups = ChangeGroups()
    assert groups.add(PAYMENTS, Kind.DELETE, (b"1",), b"p")
    assert groups.add(ACCOUNTS, Kind.INSERT, (b"1",), b"a")
    assert len(groups.take()) == 2


def test_another_version_of_a_gathered_table_is_a_conflict() -> None:
    groups = ChangeGroups()
    assert groups.add(PAYMENTS, Kind.INSERT, (b"1",), b"v1")
    assert not groups.add(("shop", "payments", 2), Kind.INSERT, (b"2",), b"v2")
    assert groups.add(ACCOUNTS, Kind.INSERT, (b"1",), b"a")


def test_a_full_group_or_set_is_a_conflict() -> None:
    groups = ChangeGroups(max_group_rows=2)
    assert groups.add(PAYMENTS, Kind.INSERT, (b"1",), b"x")
    assert groups.add(PAYMENTS, Kind.INSERT, (b"2",), b"x")
    assert not groups.add(PAYMENTS, Kind.INSERT, (b"3",), b"x")
    assert groups.add(PAYMENTS, Kind.UPDATE, (b"2",), b"y")  # a replaced image adds no row
    by_bytes = ChangeGroups(max_bytes=10)
    assert by_bytes.add(PAYMENTS, Kind.INSERT, (b"1",), b"0123456789")
    assert not by_bytes.add(ACCOUNTS, Kind.INSERT, (b"1",), b"a")
