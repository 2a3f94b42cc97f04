"""The errors of planning a restore. Each says what is wrong; its hint says what to do.

Exit status 2 when the operator must give another point (it cannot be parsed, it is outside the
restorable window, it names an unknown mark or GTID); 1 when the backup itself cannot serve the
restore (no snapshot, a gap in the changelog).
"""

from __future__ import annotations

from cdc.errors import CdcError, ConfigError


class RestorePointError(ConfigError):
    """A restore point that cannot be parsed (exit status 2)."""


class RestorePlanError(CdcError):
    """Base of the errors of planning a restore."""


class NoSnapshotError(RestorePlanError):
    """There is no snapshot at all: the changelog alone cannot restore anything."""


class ForeignSnapshotError(RestorePlanError):
    """``--snapshot`` names a snapshot of another source than the configuration's."""

    exit_status = 2


class PointOutsideWindowError(RestorePlanError):
    """The point is before the oldest usable snapshot, after the changelog's end, or in the
    future. The message carries the restorable window."""

    exit_status = 2


class UnknownMarkError(RestorePlanError):
    """``name:LABEL`` names no recorded mark; the hint lists the known ones."""

    exit_status = 2


class GtidNotFoundError(RestorePlanError):
    """``gtid:G`` is neither in the changelog nor a snapshot's anchor."""

    exit_status = 2


class ChangelogGapError(RestorePlanError):
    """The changelog cannot be shown to hold every transaction from the snapshot's anchor to the
    point, once and in order (a record deleted, a GTID repeated or going backwards, a replay
    start that skips or repeats a transaction). Never worked around: in a disaster recovery
    tool a silent gap is worse than a failed restore."""
