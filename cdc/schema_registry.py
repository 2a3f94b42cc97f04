"""Versions of every captured table's schema (pure, in memory).

Versions are numbered per table from 1. A new version starts when a table map shows other
columns than the latest version, or when DDL on the table is captured. Capture loads the
versions already published in the schemas topic at start, so numbering survives restarts.
"""

from __future__ import annotations

from collections.abc import Iterable

from cdc.changes import Column, TableSchema


class SchemaRegistry:
    def __init__(self, known: Iterable[TableSchema] = ()) -> None:
        self._versions: dict[tuple[str, str], dict[int, TableSchema]] = {}
        self._pending_version: dict[tuple[str, str], int] = {}
        self._same_as_latest: dict[tuple[str, str], tuple[TableSchema, tuple[Column, ...]]] = {}
        for schema in known:
            self._versions.setdefault((schema.database, schema.table), {})[schema.version] = schema

    def latest(self, database: str, table: str) -> TableSchema | None:
        versions = self._versions.get((database, table))
        return versions[max(versions)] if versions else None

    def lookup(self, database: str, table: str, version: int) -> TableSchema:
        try:
            return self._versions[(database, table)][version]
        except KeyError:
            raise KeyError(f"no schema version {version} of {database}.{table} is known") from None

    def version_after_ddl(self, database: str, table: str) -> int:
        """Reserve the next version for a table a DDL statement just changed."""
        key = (database, table)
        if key in self._pending_version:
            self._pending_version[key] += 1
        else:
            latest = self.latest(database, table)
            self._pending_version[key] = (latest.version if latest else 0) + 1
        return self._pending_version[key]

    def _confirmed(self, key: tuple[str, str], latest: TableSchema,
                   columns: tuple[Column, ...]) -> bool:
        confirmed = self._same_as_latest.get(key)
        return confirmed is not None and confirmed[0] is latest and confirmed[1] is columns

    def resolve(
        self, database: str, table: str, columns: tuple[Column, ...], primary_key: tuple[str, ...]
    ) -> tuple[TableSchema, bool]:
        """The version for rows with these columns, and whether it is new (to be published)."""
        key = (database, table)
        latest = self.latest(database, table)
        pending = self._pending_version.pop(key, None)
        # The same table map gives the same tuple, and a tuple once found equal to the latest
        # version's stays so: identity first, equality only for a tuple not seen before.
        if latest is not None and pending is None and latest.primary_key == primary_key and (
                latest.columns is columns or self._confirmed(key, latest, columns)
                or latest.columns == columns):
            self._same_as_latest[key] = (latest, columns)
            return latest, False
        version = pending if pending is not None else (latest.version if latest else 0) + 1
        schema = TableSchema(database, table, version, columns, primary_key)
        self._versions.setdefault(key, {})[version] = schema
        return schema, True
