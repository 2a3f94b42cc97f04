"""Whether a PostgreSQL table has the shape the loader gives the source table (pure)."""

from __future__ import annotations

from cdc.changes import Column, TableSchema
from replayer.postgres_types import postgres_type
from replayer.verify_postgres import postgres_shape_problem

SCHEMA = TableSchema("shop", "payments", 3, (
    Column("id", "bigint", unsigned=True, nullable=False),
    Column("reference", "varchar", precision=64, charset="utf8mb4", nullable=False),
    Column("amount", "decimal", precision=19, scale=4, nullable=False),
    Column("paid_at", "timestamp", scale=6),
    Column("tags", "set", members=("a", "b")),
    Column("doc", "json"),
), ("id",))

# What format_type() prints for the columns create_table_sql makes of SCHEMA.
AS_FORMAT_TYPE = {
    "id": "numeric(20,0)",
    "reference": "character varying(64)",
    "amount": "numeric(19,4)",
    "paid_at": "timestamp(6) with time zone",
    "tags": "text[]",
    "doc": "jsonb",
}


def test_the_loaders_table_has_no_problem_in_any_column_order() -> None:
    assert postgres_shape_problem(SCHEMA, AS_FORMAT_TYPE, ("id",)) is None
    reordered = dict(reversed(AS_FORMAT_TYPE.items()))
    assert postgres_shape_problem(SCHEMA, reordered, ("id",)) is None
    assert {c.name: postgres_type(c) for c in SCHEMA.columns}["reference"] == "varchar(64)"


def test_every_difference_is_named() -> None:
    found = {**AS_FORMAT_TYPE, "amount": "numeric(18,4)", "note": "text"}
    del found["doc"]
    problem = postgres_shape_problem(SCHEMA, found, ())
    assert problem == (
        "the table's shape differs: column amount: numeric(19,4) in the source, numeric(18,4) "
        "in the target; column doc only in the source; column note only in the target; "
        "primary key ('id',) in the source, () in the target")


def test_a_column_postgresql_cannot_hold_is_a_problem_not_a_crash() -> None:
    odd = TableSchema("shop", "odd", 0, (Column("id", "int"), Column("p", "point")), ("id",))
    problem = postgres_shape_problem(odd, {"id": "integer", "p": "point"}, ("id",))
    assert problem is not None
    assert problem.startswith("the table cannot be compared with PostgreSQL: column 'p'")
