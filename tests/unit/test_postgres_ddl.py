"""Following MySQL table versions in PostgreSQL, and the bulk load's keys."""

from __future__ import annotations

import pytest

from cdc.changes import Column, TableSchema
from replayer.create_statement import ForeignKey, Index
from replayer.postgres_ddl import (
    StatementKind,
    UntranslatableChangeError,
    explicit_default,
    foreign_key_statement,
    implicit_default,
    index_name,
    index_statement,
    primary_key_statement,
    shape_changes,
    statement_kind,
)

ID = Column("id", "bigint", unsigned=True, nullable=False)
AMOUNT = Column("amount", "decimal", precision=19, scale=4, nullable=False)
V1 = TableSchema("shop", "payments", 1, (ID, AMOUNT), ("id",))
T = '"shop"."payments"'


def _v2(*columns: Column, key: tuple[str, ...] = ("id",)) -> TableSchema:
    return TableSchema("shop", "payments", 2, columns, key)


@pytest.mark.parametrize(("statement", "kind"), [
    ("CREATE DATABASE shop", StatementKind.CREATE_DATABASE),
    ("drop schema if exists shop", StatementKind.DROP_DATABASE),
    ("CREATE TABLE t (a int)", StatementKind.TABLE_SHAPE),
    ("CREATE OR REPLACE TABLE t (a int)", StatementKind.TABLE_SHAPE),
    ("/* why */ ALTER TABLE t ADD COLUMN b int", StatementKind.TABLE_SHAPE),
    ("ALTER TABLE t RENAME TO u", StatementKind.ALTER_RENAME),
    ("DROP TABLE IF EXISTS a, b", StatementKind.DROP_TABLE),
    ("TRUNCATE TABLE t", StatementKind.TRUNCATE),
    ("RENAME TABLE a TO b", StatementKind.RENAME_TABLE),
    ("CREATE INDEX i ON t (a)", StatementKind.OTHER),
])
def test_statement_kinds(statement: str, kind: StatementKind) -> None:
    assert statement_kind(statement) is kind


def test_a_new_table_is_created_in_its_schema() -> None:
    assert shape_changes(None, V1) == [
        'CREATE SCHEMA IF NOT EXISTS "shop"',
        'CREATE TABLE "shop"."payments" (\n    "id" numeric(20,0) NOT NULL CHECK ("id" BETWEEN '
        '0 AND 18446744073709551615),\n    "amount" numeric(19,4) NOT NULL,\n    PRIMARY KEY '
        '("id")\n)']


def test_the_same_shape_needs_nothing() -> None:
    assert shape_changes(V1, _v2(ID, AMOUNT)) == []


def test_a_dropped_column_is_dropped() -> None:
    assert shape_changes(V1, _v2(ID)) == [f'ALTER TABLE {T} DROP COLUMN "amount"']


def test_an_added_nullable_column_without_default_is_null_in_existing_rows() -> None:
    note = Column("note", "varchar", precision=20)
    assert shape_changes(V1, _v2(ID, AMOUNT, note), ["ALTER TABLE payments ADD note "
                                                     "varchar(20)"]) == [
        f'ALTER TABLE {T} ADD COLUMN "note" varchar(20)']


def test_an_added_column_gets_the_sources_constant_default_in_existing_rows() -> None:
    note = Column("note", "varchar", precision=20, nullable=False)
    statement = ("ALTER TABLE payments ADD COLUMN `note` varchar(20) NOT NULL DEFAULT "
                 "'it''s', ADD COLUMN other int")
    assert shape_changes(V1, _v2(ID, AMOUNT, note), [statement]) == [
        f'ALTER TABLE {T} ADD COLUMN "note" varchar(20) NOT NULL DEFAULT \'it\'\'s\'',
        f'ALTER TABLE {T} ALTER COLUMN "note" DROP DEFAULT']


def test_an_added_not_null_column_without_default_gets_mysqls_implicit_default() -> None:
    status = Column("status", "enum", members=("new", "done"), nullable=False)
    changes = shape_changes(V1, _v2(ID, AMOUNT, status), ["ALTER TABLE payments ADD status "
                                                          "enum('new','done') NOT NULL"])
    assert changes[0].endswith("DEFAULT 'new'")


def test_an_unknowable_fill_value_is_refused_when_the_table_has_rows() -> None:
    stamp = Column("seen", "datetime", scale=0)
    changes = shape_changes(V1, _v2(ID, AMOUNT, stamp), [
        "ALTER TABLE payments ADD seen datetime DEFAULT current_timestamp()"])
    assert changes[0] == f'ALTER TABLE {T} ADD COLUMN "seen" timestamp(0) without time zone'
    assert changes[1].startswith(f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {T}) THEN RAISE")
    assert "seen" in changes[1]


def test_a_changed_column_changes_type_nullability_and_check() -> None:
    wider = Column("amount", "decimal", precision=30, scale=4, nullable=True)
    assert shape_changes(V1, _v2(ID, wider)) == [
        f'ALTER TABLE {T} ALTER COLUMN "amount" TYPE numeric(30,4) USING '
        '"amount"::text::numeric(30,4)',
        f'ALTER TABLE {T} ALTER COLUMN "amount" DROP NOT NULL']


def test_a_changed_primary_key_is_refused() -> None:
    with pytest.raises(UntranslatableChangeError, match="primary key"):
        shape_changes(V1, _v2(ID, AMOUNT, key=("id", "amount")))


def test_defaults_read_from_the_statement() -> None:
    assert explicit_default(["ALTER TABLE t ADD n int DEFAULT -5"], "n") == "-5"
    assert explicit_default(["ALTER TABLE t ADD n int DEFAULT NULL"], "n") == "NULL"
    assert explicit_default(["ALTER TABLE t ADD b bit(3) DEFAULT b'101'"], "b") == "B'101'"
    assert explicit_default(["ALTER TABLE t ADD s text DEFAULT 'a\\\\b'"], "s") == "E'a\\\\b'"
    assert explicit_default(["ALTER TABLE t ADD d datetime DEFAULT now()"], "d") is None
    assert explicit_default(["ALTER TABLE t ADD other int DEFAULT 1"], "n") is None
    assert explicit_default(["ALTER TABLE t ADD n int DEFAULT 1", "ALTER TABLE t DROP n",
                             "ALTER TABLE t ADD n int DEFAULT 2"], "n") == "2"


def test_implicit_defaults() -> None:
    assert implicit_default(Column("a", "int")) == "0"
    assert implicit_default(Column("a", "varchar")) == "''"
    assert implicit_default(Column("a", "set", members=("x",))) == "'{}'"
    assert implicit_default(Column("a", "bit", precision=3)) == "B'000'"
    assert implicit_default(Column("a", "datetime")) is None  # the zero date


def test_keys_after_the_rows() -> None:
    assert primary_key_statement(V1) == f'ALTER TABLE {T} ADD PRIMARY KEY ("id")'
    assert primary_key_statement(_v2(ID, key=())) is None
    index = Index("idx_amount", ("amount", "id"), "unique", "")
    assert index_statement("shop", "payments", index) == (
        f'CREATE UNIQUE INDEX IF NOT EXISTS "payments_idx_amount" ON {T} ("amount", "id")')
    assert index_statement("shop", "payments", Index("ft", ("a",), "fulltext", "")) is None
    key = ForeignKey("fk_account", ("account_id",), None, "accounts", ("id",),
                     (("DELETE", "CASCADE"),), "")
    assert foreign_key_statement("shop", "payments", key) == (
        f'ALTER TABLE {T} ADD CONSTRAINT "fk_account" FOREIGN KEY ("account_id") REFERENCES '
        '"shop"."accounts" ("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT VALID')


def test_long_index_names_stay_unique_within_postgresqls_limit() -> None:
    first = index_name("t" * 40, "i" * 30 + "a")
    second = index_name("t" * 40, "i" * 30 + "b")
    assert first != second
    assert len(first.encode()) <= 63
