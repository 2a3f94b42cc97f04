"""Row-change statements sent to the target many at a time, in one round trip.

Both engines gather their statements here; ``send`` is MySQL/MariaDB's way of running them
(PostgreSQL's, which cannot tell the statements' outcomes apart, is in ``apply_postgres``).

One statement per round trip made the network and the server's per-query overhead the larger
part of replay. The statements of a target transaction are joined and sent as one
multi-statement query (the session needs ``CLIENT.MULTI_STATEMENTS``); the server runs them
in order and answers with one result each, so each row change is still checked to have
touched exactly one row, and a refused or mismatched statement is still named by its own
changelog offset. The server stops at the first statement it refuses: the ones after it
never ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Tag = TypeVar("Tag")

MAX_STATEMENTS = 500
MAX_BYTES = 1 << 20
"""Well under max_allowed_packet's default (16 MB on MariaDB, 64 MB on MySQL 8), so a batch
of ordinary rows never meets it; a single statement larger than this is sent alone."""


@dataclass(frozen=True)
class Refused(Generic[Tag]):
    """The server refused the statement of ``tag``; the ones after it never ran."""
    tag: Tag
    error: Exception


@dataclass(frozen=True)
class Mismatched(Generic[Tag]):
    """The statement of ``tag`` ran but touched ``rows`` rows, not one."""
    tag: Tag
    rows: int


Problem = Refused[Tag] | Mismatched[Tag]


class StatementBatch(Generic[Tag]):
    """Statements (already bound: bytes) waiting to be sent, each with its tag; a tag of
    None marks a statement whose row count is not checked."""

    def __init__(self, max_statements: int = MAX_STATEMENTS, max_bytes: int = MAX_BYTES) -> None:
        self._statements: list[bytes] = []
        self._tags: list[Tag | None] = []
        self._bytes = 0
        self._max_statements = max_statements
        self._max_bytes = max_bytes

    def __len__(self) -> int:
        return len(self._statements)

    def add(self, statement: bytes, tag: Tag | None) -> None:
        self._statements.append(statement)
        self._tags.append(tag)
        self._bytes += len(statement) + 2

    @property
    def full(self) -> bool:
        return len(self._statements) >= self._max_statements or self._bytes >= self._max_bytes

    def clear(self) -> None:
        self._statements.clear()
        self._tags.clear()
        self._bytes = 0

    def take(self) -> bytes:
        """The statements as one multi-statement text; the batch is empty afterwards."""
        text = b";\n".join(self._statements)
        self.clear()
        return text

    def send(self, connection: Any, refused: Callable[[Exception], bool]) -> Problem[Tag] | None:
        """Run every statement; the first that was refused (``refused(error)``) or touched
        other than one row, if any. Other errors propagate. The batch is empty afterwards,
        and the connection ready for the next query (every result read)."""
        if not self._statements:
            return None
        tags = list(self._tags)
        return _run(connection, self.take(), tags, refused)


def _run(connection: Any, text: bytes, tags: list[Tag | None],
         refused: Callable[[Exception], bool]) -> Problem[Tag] | None:
    problem: Problem[Tag] | None = None
    index = 0
    try:
        connection.query(text)
        while True:
            tag = tags[index]
            rows = int(connection.affected_rows())
            if tag is not None and rows != 1 and problem is None:
                problem = Mismatched(tag, rows)
            index += 1
            # next_result: 0 when another statement's result follows, -1 after the last;
            # a statement the server refused raises here, and nothing after it ran.
            if connection.next_result() != 0:
                return problem
    except Exception as exc:
        if not refused(exc):
            raise
        if problem is not None:  # a statement before the refused one touched no row
            return problem
        failed = tags[index] if index < len(tags) else None
        if failed is None:
            raise
        return Refused(failed, exc)
