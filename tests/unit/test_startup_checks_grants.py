"""Reading SHOW GRANTS and naming the privileges capture lacks, with the GRANT to run."""

from __future__ import annotations

from cdc.config import TableFilter
from cdc.source_requirements import Flavor
from cdc.startup_checks.grants import Grant, missing_grant_problems, parse_grants

USER = "cdc_capture@%"
TO = " TO `cdc_capture`@`%`"
STACK_GRANT = ("GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc_capture`@`%` "
               "IDENTIFIED BY PASSWORD '*46ECFBC36664B41A1F03C5AB94C546BFE9CE5A63'")


def missing(lines: list[str], flavor: Flavor = Flavor.MARIADB,
            tables: TableFilter | None = None) -> dict[str, str]:
    grants = parse_grants(lines, flavor)
    problems = missing_grant_problems(flavor, grants, tables or TableFilter(), USER)
    return {p.subject: p.fix for p in problems}


def test_parsing_global_database_table_and_column_grants() -> None:
    grants = parse_grants([
        STACK_GRANT,
        "GRANT USAGE ON *.*" + TO,
        "GRANT ALL PRIVILEGES ON `pay``ments`.*" + TO,
        "GRANT SELECT, INSERT (`note`) ON `ledger`.`entries`" + TO,
        "GRANT `auditor`" + TO,
        "GRANT PROXY ON ''@'%'" + TO,
        "GRANT EXECUTE ON PROCEDURE `ledger`.`post`" + TO,
    ], Flavor.MARIADB)
    assert grants == [
        Grant(frozenset({"SELECT", "REPLICATION SLAVE", "BINLOG MONITOR"}), "*", "*"),
        Grant(frozenset({"USAGE"}), "*", "*"),
        Grant(frozenset({"ALL"}), "pay`ments", "*"),
        Grant(frozenset({"SELECT"}), "ledger", "entries"),
    ]


def test_the_local_stack_capture_user_lacks_nothing() -> None:
    assert missing([STACK_GRANT]) == {}


def test_all_privileges_on_everything_is_enough() -> None:
    assert missing(["GRANT ALL PRIVILEGES ON *.*" + TO + " WITH GRANT OPTION"]) == {}


def test_old_and_new_names_of_the_same_privilege() -> None:
    assert missing(["GRANT SELECT, REPLICATION REPLICA, REPLICATION CLIENT ON *.*" + TO]) == {}
    mysql = ["GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.*" + TO]
    assert missing(mysql, Flavor.MYSQL) == {}


def test_a_user_with_no_privileges_gets_every_grant_statement() -> None:
    assert missing(["GRANT USAGE ON *.*" + TO]) == {
        "REPLICATION SLAVE": "as an administrator, run: GRANT REPLICATION SLAVE ON *.* TO "
                             "'cdc_capture'@'%';",
        "BINLOG MONITOR": "as an administrator, run: GRANT BINLOG MONITOR ON *.* TO "
                          "'cdc_capture'@'%';",
        "SELECT ON *.*": "as an administrator, run: GRANT SELECT ON *.* TO 'cdc_capture'@'%';",
    }
    assert set(missing(["GRANT USAGE ON *.*" + TO], Flavor.MYSQL)) == {
        "REPLICATION SLAVE", "REPLICATION CLIENT", "SELECT ON *.*"}


def test_the_problem_says_who_lacks_what_and_why() -> None:
    grants = parse_grants(["GRANT SELECT ON *.*" + TO], Flavor.MARIADB)
    (slave, monitor) = missing_grant_problems(Flavor.MARIADB, grants, TableFilter(), USER)
    assert slave.what == ("the capture user cdc_capture@% lacks REPLICATION SLAVE (to read the "
                          "binlog as a replica)")
    assert "SHOW BINARY LOGS" in monitor.what


def test_select_on_the_captured_databases_is_enough_for_their_tables() -> None:
    replication = "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.*" + TO
    tables = TableFilter.from_patterns(["payments", "ledger.entries", "shop.order_*"])
    assert missing([replication, "GRANT SELECT ON `payments`.*" + TO,
                    "GRANT SELECT ON `ledger`.`entries`" + TO,
                    "GRANT SELECT ON `shop`.*" + TO], tables=tables) == {}
    assert missing([replication, "GRANT SELECT ON `ledger`.`balances`" + TO],
                   tables=tables) == {
        "SELECT ON `ledger`.`entries`": "as an administrator, run: GRANT SELECT ON "
                                        "`ledger`.`entries` TO 'cdc_capture'@'%';",
        "SELECT ON `payments`.*": "as an administrator, run: GRANT SELECT ON `payments`.* TO "
                                  "'cdc_capture'@'%';",
        "SELECT ON `shop`.*": "as an administrator, run: GRANT SELECT ON `shop`.* TO "
                              "'cdc_capture'@'%';",
    }


def test_a_wildcard_database_pattern_needs_select_on_everything() -> None:
    replication = "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.*" + TO
    tables = TableFilter.from_patterns(["shop_*"])
    assert set(missing([replication, "GRANT SELECT ON `shop_eu`.*" + TO], tables=tables)) == {
        "SELECT ON *.*"}


def test_granted_database_names_are_like_patterns() -> None:
    replication = "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.*" + TO
    tables = TableFilter.from_patterns(["shop_eu", "shopxeu"])
    assert missing([replication, "GRANT SELECT ON `shop%`.*" + TO], tables=tables) == {}
    # An escaped underscore is a plain character.
    escaped = missing([replication, "GRANT SELECT ON `shop\\_eu`.*" + TO], tables=tables)
    assert set(escaped) == {"SELECT ON `shopxeu`.*"}
