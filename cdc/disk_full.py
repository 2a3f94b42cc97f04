"""A full disk told apart from every other database error: it is not a divergence, not a bad
row and not an outage, and its fix is the same whatever was being written.

Pure: the error is judged by its SQLSTATE (PostgreSQL), error number (MySQL/MariaDB) or the
operating system's words, never by its class, so both client libraries are covered.
"""

from __future__ import annotations

from cdc.errors import CdcError

_POSTGRES_DISK_FULL = "53100"
# ER_RECORD_FILE_FULL ("The table ... is full"), ER_DISK_FULL, and the file write errors
# that carry errno 28 in their text.
_MYSQL_DISK_FULL = {1114, 1021}
_OS_WORDS = ("no space left on device", "errcode: 28", "disk full")


class TargetDiskFullError(CdcError):
    """The target ran out of disk space; what it committed is kept."""


def is_disk_full(error: BaseException) -> bool:
    if getattr(error, "pgcode", None) == _POSTGRES_DISK_FULL:
        return True
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_DISK_FULL:
        return True
    text = str(error).lower()
    return any(words in text for words in _OS_WORDS)


def disk_full_error(error: BaseException, doing: str) -> TargetDiskFullError:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else "disk full"
    return TargetDiskFullError(
        f"the target's disk is full while {doing}: {first_line}",
        "free space on the target's disk or grow its volume, then run the same command again "
        "with --resume: what the target committed is kept, and it goes on from there")
