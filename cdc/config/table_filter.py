"""Which tables capture follows: include and exclude patterns over ``database.table``.

Pure matching, no I/O. A pattern is ``db`` (every table of the database) or ``db.table``;
each part is a shell-style wildcard (``*``, ``?``, ``[...]``), compared case-sensitively
because MySQL/MariaDB names are case-sensitive on Linux.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
"""The server's own schemas: never captured, whatever the patterns say."""


@dataclass(frozen=True)
class TablePattern:
    database: str
    table: str
    _database_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _table_re: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_database_re", re.compile(fnmatch.translate(self.database)))
        object.__setattr__(self, "_table_re", re.compile(fnmatch.translate(self.table)))

    @staticmethod
    def parse(text: str) -> TablePattern:
        """``db`` or ``db.table``; raises ValueError naming the expected form."""
        database, dot, table = text.strip().partition(".")
        if not database or (dot and not table) or "." in table:
            raise ValueError(
                f"{text!r} is not a table pattern: write 'db' or 'db.table' "
                "(wildcards allowed, e.g. 'payments' or 'shop.order_*')"
            )
        return TablePattern(database, table if dot else "*")

    @property
    def names_whole_databases(self) -> bool:
        return self.table == "*"

    @property
    def has_wildcard_database(self) -> bool:
        return any(char in self.database for char in "*?[")

    def matches(self, database: str, table: str) -> bool:
        return bool(self._database_re.match(database) and self._table_re.match(table))

    def matches_database(self, database: str) -> bool:
        return bool(self._database_re.match(database))

    def __str__(self) -> str:
        return self.database if self.names_whole_databases else f"{self.database}.{self.table}"


@dataclass(frozen=True)
class TableFilter:
    """A table is captured when an include pattern matches it and no exclude pattern does."""

    include: tuple[TablePattern, ...] = (TablePattern("*", "*"),)
    exclude: tuple[TablePattern, ...] = ()

    @staticmethod
    def from_patterns(include: list[str] | tuple[str, ...],
                      exclude: list[str] | tuple[str, ...] = ()) -> TableFilter:
        return TableFilter(tuple(TablePattern.parse(p) for p in include),
                           tuple(TablePattern.parse(p) for p in exclude))

    def includes(self, database: str, table: str | None = None) -> bool:
        """Whether ``database.table`` is captured; with ``table`` None, whether any table of
        ``database`` may be (so statements on the database itself are kept)."""
        if database in SYSTEM_SCHEMAS:
            return False
        if table is None:
            return (any(p.matches_database(database) for p in self.include)
                    and not any(p.names_whole_databases and p.matches_database(database)
                                for p in self.exclude))
        return (any(p.matches(database, table) for p in self.include)
                and not any(p.matches(database, table) for p in self.exclude))
