from __future__ import annotations

from cdc.changes import Column
from cdc.schema_registry import SchemaRegistry

ID = Column("id", "int")
NAME = Column("name", "varchar", charset="utf8mb4")


def test_same_columns_reuse_the_version_and_new_columns_start_one() -> None:
    registry = SchemaRegistry()
    first, new = registry.resolve("db", "t", (ID,), ("id",))
    assert (first.version, new) == (1, True)
    again, new = registry.resolve("db", "t", (ID,), ("id",))
    assert (again, new) == (first, False)
    wider, new = registry.resolve("db", "t", (ID, NAME), ("id",))
    assert (wider.version, new) == (2, True)
    assert registry.lookup("db", "t", 1) == first


def test_ddl_reserves_the_next_version_that_the_next_table_map_takes() -> None:
    registry = SchemaRegistry()
    registry.resolve("db", "t", (ID,), ("id",))
    assert registry.version_after_ddl("db", "t") == 2
    assert registry.version_after_ddl("db", "t") == 3
    schema, new = registry.resolve("db", "t", (ID, NAME), ("id",))
    assert (schema.version, new) == (3, True)
    assert registry.version_after_ddl("db", "other") == 1


def test_numbering_continues_from_loaded_versions() -> None:
    first, _ = SchemaRegistry().resolve("db", "t", (ID,), ("id",))
    registry = SchemaRegistry([first])
    assert registry.resolve("db", "t", (ID,), ("id",)) == (first, False)
    assert registry.resolve("db", "t", (NAME,), ())[0].version == 2
