"""A source table's ``SHOW CREATE TABLE`` split into what a bulk load creates before the data
and what it adds after it (pure).

Loading rows into a table with only its primary key, then building the secondary indexes once
over the loaded rows, is much faster than maintaining every index row by row; foreign keys come
last, when every table they reference exists. MariaDB prints one definition per line, which
is what this reads: the column lines, the keys, the foreign keys and the checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"`((?:[^`]|``)+)`"
_INDEX_LINE = re.compile(rf"^(UNIQUE |FULLTEXT |SPATIAL )?(?:KEY|INDEX) {_NAME} \((.*)\)",
                         re.IGNORECASE)
_FOREIGN_KEY_LINE = re.compile(
    rf"^CONSTRAINT {_NAME} FOREIGN KEY \((.*?)\) REFERENCES (?:{_NAME}\.)?{_NAME} \((.*?)\)(.*)$",
    re.IGNORECASE)
_ACTION = re.compile(r"ON (DELETE|UPDATE) (RESTRICT|CASCADE|SET NULL|NO ACTION|SET DEFAULT)",
                     re.IGNORECASE)
_KEY_PART = re.compile(rf"{_NAME}(?:\(\d+\))?(?: (?:ASC|DESC))?")


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    """Whole columns: a prefix length of the source's index is not kept."""
    kind: str
    """'' for a plain index, 'unique', 'fulltext' or 'spatial'."""
    definition: str
    """The line as the source printed it, for a MySQL target."""


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    referenced_database: str | None
    """None: the table's own database."""
    referenced_table: str
    referenced_columns: tuple[str, ...]
    actions: tuple[tuple[str, str], ...]
    """('DELETE' | 'UPDATE', action) pairs."""
    definition: str


@dataclass(frozen=True)
class SplitCreate:
    create_without_deferred: str
    """The CREATE TABLE with columns, primary key and checks, without the parts below."""
    indexes: tuple[Index, ...]
    foreign_keys: tuple[ForeignKey, ...]


def split_create(statement: str) -> SplitCreate:
    """Split a ``SHOW CREATE TABLE`` statement; a statement not in that form is kept whole."""
    head, separator, rest = statement.partition("(\n")
    body, closing, tail = rest.rpartition("\n)")
    if not separator or not closing:
        return SplitCreate(statement, (), ())
    kept: list[str] = []
    indexes: list[Index] = []
    foreign_keys: list[ForeignKey] = []
    for raw in body.split("\n"):
        line = raw.strip().rstrip(",")
        if match := _INDEX_LINE.match(line):
            indexes.append(Index(_unquote(match.group(2)), _key_columns(match.group(3)),
                                 (match.group(1) or "").strip().lower(), line))
        elif match := _FOREIGN_KEY_LINE.match(line):
            foreign_keys.append(ForeignKey(
                _unquote(match.group(1)), _key_columns(match.group(2)),
                _unquote(match.group(3)) if match.group(3) else None,
                _unquote(match.group(4)), _key_columns(match.group(5)),
                tuple((verb.upper(), action.upper())
                      for verb, action in _ACTION.findall(match.group(6))),
                line))
        else:
            kept.append(raw.rstrip().rstrip(","))
    create = head + separator + ",\n".join(kept) + closing + tail
    return SplitCreate(create, tuple(indexes), tuple(foreign_keys))


def _key_columns(text: str) -> tuple[str, ...]:
    return tuple(_unquote(name) for name in _KEY_PART.findall(text))


def _unquote(name: str) -> str:
    return name.replace("``", "`")
