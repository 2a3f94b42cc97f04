from __future__ import annotations

import pytest

from cdc.config import TableFilter, TablePattern


def test_everything_but_the_system_schemas_by_default() -> None:
    tables = TableFilter()
    assert tables.includes("payments", "accounts")
    for system in ("mysql", "information_schema", "performance_schema", "sys"):
        assert not tables.includes(system, "user")
        assert not tables.includes(system)


def test_a_bare_database_pattern_means_all_its_tables() -> None:
    tables = TableFilter.from_patterns(["payments"])
    assert tables.includes("payments", "accounts")
    assert not tables.includes("payments_archive", "accounts")
    assert not tables.includes("ledger", "entries")


def test_wildcards_in_either_part_and_case_matters() -> None:
    tables = TableFilter.from_patterns(["shop_*.order?", "ledger.[ae]*"])
    assert tables.includes("shop_eu", "orders")
    assert not tables.includes("shop_eu", "order_lines")
    assert tables.includes("ledger", "accounts")
    assert tables.includes("ledger", "entries")
    assert not tables.includes("ledger", "balances")
    assert not tables.includes("Shop_eu", "orders")


def test_exclude_wins_over_include() -> None:
    tables = TableFilter.from_patterns(["payments", "ledger"], ["payments.audit_*", "ledger"])
    assert tables.includes("payments", "accounts")
    assert not tables.includes("payments", "audit_2024")
    assert not tables.includes("ledger", "entries")


def test_whole_database_question_for_statements_on_the_database() -> None:
    tables = TableFilter.from_patterns(["payments.accounts", "ledger"], ["ledger"])
    assert tables.includes("payments")  # some of its tables are captured
    assert not tables.includes("ledger")  # excluded as a whole
    assert not tables.includes("shop")
    # Excluding some tables leaves the database itself included.
    assert TableFilter.from_patterns(["payments"], ["payments.audit"]).includes("payments")


@pytest.mark.parametrize("text", ["", ".accounts", "payments.", "a.b.c"])
def test_malformed_patterns_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"write 'db' or 'db\.table'"):
        TablePattern.parse(text)


def test_pattern_shape() -> None:
    assert str(TablePattern.parse("payments")) == "payments"
    assert TablePattern.parse("payments").names_whole_databases
    assert str(TablePattern.parse("payments.acc*")) == "payments.acc*"
    assert TablePattern.parse("pay*.x").has_wildcard_database
    assert not TablePattern.parse("payments.x").has_wildcard_database
