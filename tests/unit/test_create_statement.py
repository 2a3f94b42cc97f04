"""Splitting SHOW CREATE TABLE into what a bulk load creates first and adds after the rows."""

from __future__ import annotations

from replayer.create_statement import split_create

LEDGER = """CREATE TABLE `ledger_entries` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `payment_id` bigint(20) unsigned NOT NULL,
  `account_id` bigint(20) unsigned NOT NULL,
  `note` varchar(200) DEFAULT 'KEY `x` (`y`)',
  `entry_time` datetime(6) NOT NULL DEFAULT current_timestamp(6),
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_note` (`note`(20)),
  KEY `idx_ledger_account_time` (`account_id`,`entry_time` DESC),
  FULLTEXT KEY `ft_note` (`note`),
  CONSTRAINT `fk_ledger_account` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`),
  CONSTRAINT `fk_ledger_payment` FOREIGN KEY (`payment_id`) REFERENCES `other`.`payments` \
(`id`) ON DELETE CASCADE ON UPDATE SET NULL,
  CONSTRAINT `chk_amount` CHECK (`payment_id` > 0)
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4"""


def test_the_create_keeps_columns_primary_key_and_checks_only() -> None:
    split = split_create(LEDGER)
    assert split.create_without_deferred == """CREATE TABLE `ledger_entries` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `payment_id` bigint(20) unsigned NOT NULL,
  `account_id` bigint(20) unsigned NOT NULL,
  `note` varchar(200) DEFAULT 'KEY `x` (`y`)',
  `entry_time` datetime(6) NOT NULL DEFAULT current_timestamp(6),
  PRIMARY KEY (`id`),
  CONSTRAINT `chk_amount` CHECK (`payment_id` > 0)
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4"""


def test_indexes_are_named_with_whole_columns_and_kind() -> None:
    split = split_create(LEDGER)
    assert [(i.name, i.columns, i.kind) for i in split.indexes] == [
        ("uq_note", ("note",), "unique"),
        ("idx_ledger_account_time", ("account_id", "entry_time"), ""),
        ("ft_note", ("note",), "fulltext"),
    ]
    assert split.indexes[0].definition == "UNIQUE KEY `uq_note` (`note`(20))"


def test_foreign_keys_keep_their_references_and_actions() -> None:
    account, payment = split_create(LEDGER).foreign_keys
    assert (account.name, account.columns, account.referenced_database,
            account.referenced_table, account.referenced_columns, account.actions) == (
        "fk_ledger_account", ("account_id",), None, "accounts", ("id",), ())
    assert payment.referenced_database == "other"
    assert payment.actions == (("DELETE", "CASCADE"), ("UPDATE", "SET NULL"))


def test_quoted_backquotes_in_names_are_unquoted() -> None:
    split = split_create("CREATE TABLE `t` (\n  `a``b` int,\n  KEY `k``1` (`a``b`)\n)")
    assert split.indexes[0].name == "k`1"
    assert split.indexes[0].columns == ("a`b",)


def test_a_statement_of_another_form_is_kept_whole() -> None:
    split = split_create("CREATE TABLE t (a int, KEY (a))")
    assert split.create_without_deferred == "CREATE TABLE t (a int, KEY (a))"
    assert split.indexes == ()
