"""Row changes of one target transaction gathered into set-based groups (pure).

Replaying a changelog one statement per row change leaves the target parsing, planning and
locking once per row. Within one target transaction, which commits as a whole, the changes
may be applied in any order that keeps every row's own changes in order: only the state at
the commit is ever seen. So the changes are gathered per table version and kind (insert,
update, delete), each group applied with one set-based statement, and the groups applied in
the order they were opened.

A row is named by its primary key. A row appears in at most one group, and once:

- an update of a row gathered as an insert or an update replaces that image (the row's newer
  image is all the commit needs; the count check of the group still covers the row);
- anything else on a row already gathered (a delete after an insert, an insert after a delete,
  an update after a delete), a change of another version of a table already gathered, or a
  group grown to its limit is a conflict: ``add`` refuses it, the caller applies what is
  gathered and adds the change again to the empty set.

Rows of different keys do not touch each other, with two exceptions that the target itself
refuses rather than gets wrong: a secondary unique value moved between rows, and a foreign
key between rows applied out of order. The caller then applies the target transaction again
change by change (see ``replayer.set_apply``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

TableVersion = tuple[str, str, int]
"""(database, table, schema version)."""

RowKey = tuple[bytes, ...]
"""A row's primary key columns, each as its encoded value."""

MAX_GROUP_ROWS = 5000
MAX_GATHERED_BYTES = 16 << 20


class Kind(Enum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


@dataclass
class Group:
    """Row images of one table version and kind, one per row, in the order gathered:
    inserted rows' and updated rows' new images, deleted rows' old ones."""

    table: TableVersion
    kind: Kind
    images: list[bytes] = field(default_factory=list)


class ChangeGroups:
    """The groups of one target transaction (see the module)."""

    def __init__(self, max_group_rows: int = MAX_GROUP_ROWS,
                 max_bytes: int = MAX_GATHERED_BYTES) -> None:
        self._groups: list[Group] = []
        self._open: dict[tuple[TableVersion, Kind], Group] = {}
        self._rows: dict[tuple[str, str], dict[RowKey, tuple[Group, int]]] = {}
        self._versions: dict[tuple[str, str], int] = {}
        self._max_group_rows = max_group_rows
        self._max_bytes = max_bytes
        self._bytes = 0
        self.changes = 0
        """Row changes gathered, replaced images included."""

    def __bool__(self) -> bool:
        return bool(self._groups)

    def add(self, table: TableVersion, kind: Kind, key: RowKey, image: bytes) -> bool:
        """Gather one row change; False, with nothing gathered, on a conflict."""
        name = (table[0], table[1])
        version = self._versions.get(name)
        if version is not None and version != table[2]:
            return False
        rows = self._rows.setdefault(name, {})
        found = rows.get(key)
        if found is not None:
            group, index = found
            if kind is not Kind.UPDATE or group.kind is Kind.DELETE:
                return False
            self._bytes += len(image) - len(group.images[index])
            group.images[index] = image
            self.changes += 1
            return True
        if self._bytes >= self._max_bytes and self._groups:
            return False
        gathering = self._open.get((table, kind))
        if gathering is None:
            gathering = self._open[table, kind] = Group(table, kind)
            self._groups.append(gathering)
        elif len(gathering.images) >= self._max_group_rows:
            return False
        rows[key] = (gathering, len(gathering.images))
        gathering.images.append(image)
        self._versions[name] = table[2]
        self._bytes += len(image)
        self.changes += 1
        return True

    def take(self) -> list[Group]:
        """The groups in the order they were opened; the set is empty afterwards."""
        groups = self._groups
        self._groups = []
        self._open.clear()
        self._rows.clear()
        self._versions.clear()
        self._bytes = 0
        self.changes = 0
        return groups
