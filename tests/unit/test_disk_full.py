"""A full disk is told apart from other database errors, for both client libraries."""

from __future__ import annotations

import pytest

from cdc.disk_full import disk_full_error, is_disk_full


class PostgresError(Exception):
    def __init__(self, message: str, pgcode: str) -> None:
        super().__init__(message)
        self.pgcode = pgcode


@pytest.mark.parametrize(("error", "full"), [
    (PostgresError('could not extend file "base/1/2": No space left on device', "53100"), True),
    (PostgresError('duplicate key value violates unique constraint "t_pkey"', "23505"), False),
    (Exception(1114, "The table 't' is full"), True),
    (Exception(1021, "Disk full (/tmp/x); waiting for someone to free some space..."), True),
    (Exception(3, "Error writing file '/tmp/MY1' (Errcode: 28 \"No space left on device\")"),
     True),
    (Exception(1062, "Duplicate entry '1' for key 'PRIMARY'"), False),
    (OSError(28, "No space left on device"), True),
    (Exception(2013, "Lost connection to server during query"), False),
])
def test_a_full_disk_is_recognised(error: Exception, full: bool) -> None:
    assert is_disk_full(error) is full


def test_the_error_says_how_to_go_on() -> None:
    error = disk_full_error(PostgresError(
        'could not extend file "x": No space left on device\nHINT:  Check free disk space.',
        "53100"), "loading db.t")
    assert error.message == ("the target's disk is full while loading db.t: could not extend "
                             'file "x": No space left on device')
    assert "--resume" in error.hint
    assert error.exit_status == 1
