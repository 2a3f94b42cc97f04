"""Which snapshots ``cdc backups prune`` may delete. Pure.

Kept: the newest ``keep_last``; every snapshot newer than ``keep_within``; and, so that the
oldest point the operator asked to keep stays restorable, the newest snapshot taken at or
before that point (restoring to it needs a snapshot from before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cdc.snapshot.manifest import Manifest


@dataclass(frozen=True)
class PrunePlan:
    keep: tuple[Manifest, ...]
    delete: tuple[Manifest, ...]
    oldest_point_kept: datetime | None
    """The oldest restore point the kept snapshots cover (None: keep_last only)."""


def plan_prune(manifests: tuple[Manifest, ...], *, keep_last: int | None,
               keep_within: timedelta | None, now: datetime) -> PrunePlan:
    if keep_last is None and keep_within is None:
        raise ValueError("give keep_last or keep_within")
    ordered = sorted(manifests, key=lambda m: (m.created_at, m.snapshot_id))
    keep: set[str] = set()
    if keep_last:
        keep.update(m.snapshot_id for m in ordered[-keep_last:])
    oldest_point = None
    if keep_within is not None:
        oldest_point = now - keep_within
        keep.update(m.snapshot_id for m in ordered if m.created_at >= oldest_point)
        anchoring = [m for m in ordered if m.created_at <= oldest_point]
        if anchoring:
            keep.add(anchoring[-1].snapshot_id)
    if ordered and not keep:
        keep.add(ordered[-1].snapshot_id)  # never delete every snapshot
    return PrunePlan(
        keep=tuple(m for m in ordered if m.snapshot_id in keep),
        delete=tuple(m for m in ordered if m.snapshot_id not in keep),
        oldest_point_kept=oldest_point)
