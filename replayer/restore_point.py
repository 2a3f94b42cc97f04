"""Restore points: the text an operator gives ``replayer restore --to``, parsed into a value.

Pure, no I/O. The forms:

- ``latest``: the last transaction in the changelog;
- ``time:<RFC 3339 with offset>``: for example ``time:2026-11-24T10:41:07Z`` or
  ``time:2026-11-24T10:41:07.250+01:00``; a time without ``Z`` or ``+HH:MM`` is refused, since
  the host's zone must never decide which transactions are restored;
- ``gtid:<domain-server-sequence>``: one MariaDB GTID, for example ``gtid:0-1001-42``;
- ``offset:<changelog offset>``: a non-negative Kafka offset of the changelog;
- ``name:<label>``: a mark recorded by ``cdc mark LABEL`` (letters, digits, ``.``, ``_``, ``-``).

Each point resolves to the last source transaction committed at or before it; transactions are
never split (see ``replayer.restore_plan``).

Exactness: MariaDB's binlog timestamps are whole seconds, so a time point is exact only to the
second: every transaction committed within that second is included, and two transactions in
the same second cannot be told apart by time. GTIDs and named marks are exact; use them when
the second is not enough (to stop just before one bad statement, say).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from cdc.errors import ConfigError
from cdc.position import Gtid, parse_gtid
from replayer.errors import RestorePointError

FORMS: Final = ("latest, time:<RFC 3339 with offset> (time:2026-11-24T10:41:07Z), "
                "gtid:<domain-server-sequence> (gtid:0-1001-42), offset:<changelog offset>, "
                "name:<mark label>")
MARK_LABEL: Final = re.compile(r"[A-Za-z0-9._-]{1,128}")
"""What a mark label may be: what ``cdc mark`` accepts and ``name:`` finds."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_TIME: Final = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?")
_OFFSET: Final = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class LatestPoint:
    def __str__(self) -> str:
        return "latest"


@dataclass(frozen=True)
class TimePoint:
    at: datetime
    """Aware, in UTC, to the microsecond (finer fractions are cut off: commit times are whole
    microseconds at most, so nothing at or before the given instant is lost)."""

    @property
    def epoch_us(self) -> int:
        """Microseconds since the epoch, as the changelog's commit times are counted."""
        return (self.at - _EPOCH) // timedelta(microseconds=1)

    def __str__(self) -> str:
        return f"time:{self.at.isoformat().replace('+00:00', 'Z')}"


@dataclass(frozen=True)
class GtidPoint:
    gtid: Gtid

    def __str__(self) -> str:
        return f"gtid:{self.gtid}"


@dataclass(frozen=True)
class OffsetPoint:
    offset: int

    def __str__(self) -> str:
        return f"offset:{self.offset}"


@dataclass(frozen=True)
class NamedPoint:
    label: str

    def __str__(self) -> str:
        return f"name:{self.label}"


RestorePoint = LatestPoint | TimePoint | GtidPoint | OffsetPoint | NamedPoint


def parse_restore_point(text: str) -> RestorePoint:
    """The point ``text`` names; RestorePointError (exit status 2) if it names none."""
    given = text.strip()
    if given == "latest":
        return LatestPoint()
    kind, colon, value = given.partition(":")
    if not colon or kind not in _PARSERS:
        raise _refused(text, "it does not start with latest, time:, gtid:, offset: or name:")
    return _PARSERS[kind](text, value)


def _refused(text: str, why: str) -> RestorePointError:
    return RestorePointError(f"{text!r} is not a restore point: {why}", f"give one of: {FORMS}")


def _time(text: str, value: str) -> RestorePoint:
    match = _TIME.fullmatch(value)
    if match is None:
        raise _refused(text, "the time is not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.fraction] with Z "
                             "or +HH:MM)")
    if match["offset"] is None:
        raise RestorePointError(
            f"{text!r} has no time zone offset: it could mean any of 24 hours",
            f"add Z for UTC or the offset as +HH:MM, for example time:{value}Z or "
            f"time:{value}+01:00")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = _zone(text, match["offset"])
    try:
        at = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
    except ValueError as exc:
        raise _refused(text, f"the date or time does not exist ({exc})") from exc
    return TimePoint(at.replace(tzinfo=zone).astimezone(UTC))


def _zone(text: str, offset: str) -> timezone:
    if offset in ("Z", "z"):
        return UTC
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 23 or minutes > 59:
        raise _refused(text, f"{offset} is not a time zone offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset[0] == "-" else delta)


def _gtid(text: str, value: str) -> RestorePoint:
    try:
        return GtidPoint(parse_gtid(value))
    except ConfigError as exc:
        raise RestorePointError(
            f"{text!r} is not a restore point: {value!r} is not a MariaDB GTID "
            "(domain-server-sequence)",
            f"give one of: {FORMS}") from exc


def _offset(text: str, value: str) -> RestorePoint:
    if not _OFFSET.fullmatch(value):
        raise _refused(text, "the offset is not a non-negative whole number")
    return OffsetPoint(int(value))


def _name(text: str, value: str) -> RestorePoint:
    if not MARK_LABEL.fullmatch(value):
        raise _refused(text, "a mark label is 1 to 128 letters, digits, '.', '_' or '-'")
    return NamedPoint(value)


_PARSERS: Final = {"time": _time, "gtid": _gtid, "offset": _offset, "name": _name}
