"""Which tables a DDL statement touches, read from its text (pure).

Only the statement kinds capture records are recognised; the table names decide whether the
statement passes the include/exclude filter and which table's schema version moves on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"(?:`(?:[^`]|``)+`|[\w$]+)"
_QUALIFIED = rf"({_NAME}(?:\s*\.\s*{_NAME})?)"
_IF_EXISTS = r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?"
_COMMENTS = re.compile(r"/\*(?!!).*?\*/|--[^\n]*|#[^\n]*", re.DOTALL)

_TABLE_STATEMENT = re.compile(
    rf"^\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE|ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE"
    rf"|TRUNCATE(?:\s+TABLE)?)\s+{_IF_EXISTS}{_QUALIFIED}",
    re.IGNORECASE,
)
_DROP_TABLE = re.compile(
    rf"^\s*DROP\s+(?:TEMPORARY\s+)?TABLES?\s+{_IF_EXISTS}(.*)$", re.IGNORECASE | re.DOTALL
)
_RENAME_TABLE = re.compile(r"^\s*RENAME\s+TABLES?\s+(.*)$", re.IGNORECASE | re.DOTALL)
_DATABASE_STATEMENT = re.compile(
    rf"^\s*(CREATE|DROP|ALTER)\s+(?:DATABASE|SCHEMA)\s+{_IF_EXISTS}({_NAME})", re.IGNORECASE
)
_DDL_VERBS = re.compile(r"^\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DdlTarget:
    """What a statement changes: tables as (database, table), or a whole database."""

    tables: tuple[tuple[str, str], ...] = ()
    database: str | None = None


def _unquote(name: str) -> str:
    name = name.strip()
    if name.startswith("`") and name.endswith("`"):
        return name[1:-1].replace("``", "`")
    return name


def _qualify(text: str, default_database: str) -> tuple[str, str]:
    parts = re.findall(_NAME, text)
    if len(parts) >= 2:
        return _unquote(parts[0]), _unquote(parts[1])
    return default_database, _unquote(parts[0])


def strip_comments(statement: str) -> str:
    return _COMMENTS.sub(" ", statement).strip()


def is_ddl(statement: str) -> bool:
    return _DDL_VERBS.match(strip_comments(statement)) is not None


def ddl_target(statement: str, default_database: str) -> DdlTarget:
    """The tables or database a DDL statement changes; empty when it names none we track."""
    text = strip_comments(statement)
    if match := _DATABASE_STATEMENT.match(text):
        return DdlTarget(database=_unquote(match.group(2)))
    if match := _TABLE_STATEMENT.match(text):
        return DdlTarget(tables=(_qualify(match.group(1), default_database),))
    if match := _DROP_TABLE.match(text):
        names = re.split(r"\s*,\s*", re.sub(r"\s+(RESTRICT|CASCADE)\s*$", "", match.group(1),
                                            flags=re.IGNORECASE).strip())
        return DdlTarget(tables=tuple(_qualify(n, default_database) for n in names if n))
    if match := _RENAME_TABLE.match(text):
        tables: list[tuple[str, str]] = []
        for pair in re.split(r"\s*,\s*", match.group(1).strip()):
            for name in re.split(r"\s+TO\s+", pair, flags=re.IGNORECASE, maxsplit=1):
                tables.append(_qualify(name, default_database))
        return DdlTarget(tables=tuple(tables))
    return DdlTarget()
