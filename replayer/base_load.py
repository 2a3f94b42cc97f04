"""Loading a target's base: a snapshot, then the position it stands at in the changelog.

Shared by ``replayer restore`` and ``replayer migrate``: both start from a snapshot and
replay (or follow) the changelog from the position recorded here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import Any

from cdc.config.models import CaptureConfig
from cdc.dsn import Dsn
from cdc.snapshot.catalog import configured_key, configured_store
from cdc.snapshot.manifest import Manifest
from replayer.applier import AppliedPosition, TableIncluded
from replayer.snapshot_load import LoadJob, LoadProgress, load_snapshot
from replayer.targets import TargetEngine, open_bulk_target


@dataclass(frozen=True)
class BaseLoad:
    config: CaptureConfig
    target: Dsn
    manifest: Manifest
    through_offset: int
    """The last changelog offset the snapshot holds (``RestorePlan.snapshot_through_offset``)."""
    include: TableIncluded
    workers: int = 2


@dataclass(frozen=True)
class BaseLoaded:
    position: AppliedPosition
    index_s: float
    """The part of the load spent adding keys, indexes and foreign keys."""


def load_base(engine: TargetEngine, connection: Any, base: BaseLoad,
              progress: LoadProgress | None = None) -> BaseLoaded:
    """Load the snapshot (or what an interrupted load left) and record its position."""
    config = base.config
    job = LoadJob(base.manifest, partial(configured_store, config),
                  configured_key(config, os.environ), partial(open_bulk_target, base.target),
                  base.workers)
    loaded = load_snapshot(engine.bulk_target(connection), job, progress=progress,
                           include=base.include)
    position = AppliedPosition(base.through_offset, base.manifest.anchor.gtid_position, 0)
    engine.store_position(connection, config.source.name, position)
    return BaseLoaded(position, loaded.index_s)
