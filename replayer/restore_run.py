"""Restoring a target along a plan: the snapshot's load (unless an interrupted restore already
holds it), then the changelog up to the point; each phase timed, for drills and reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdc.config import CaptureConfig
from cdc.dsn import Dsn
from cdc.errors import ConfigError
from cdc.snapshot.changelog import Changelog
from cdc.snapshot.manifest import Manifest
from replayer.applier import TableIncluded, read_position
from replayer.base_load import BaseLoad, load_base
from replayer.raw_changes import raw_changes
from replayer.read_ahead import ReadAhead
from replayer.restore_inputs import raw_between
from replayer.restore_plan import RestorePlan
from replayer.targets import TargetEngine

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RestoreTimings:
    load_s: float
    """Writing the snapshot's rows (and planning's share of the start)."""
    loaded_rows: int
    index_s: float
    """Adding the keys, indexes and foreign keys of the loaded tables."""
    replay_s: float
    replayed_rows: int

    @property
    def rto_s(self) -> float:
        return self.load_s + self.index_s + self.replay_s


def restore_into(engine: TargetEngine, connection: Any, config: CaptureConfig,
                 plan: RestorePlan, manifest: Manifest, *, include: TableIncluded,
                 target: Dsn, workers: int, progress: Progress,
                 read_ahead: ReadAhead | None = None) -> RestoreTimings:
    source = config.source.name
    started = time.monotonic()
    loaded_rows = 0
    index_s = 0.0
    position = read_position(connection, source)
    if position is None:
        base = load_base(engine, connection, BaseLoad(
            config, target, manifest, plan.snapshot_through_offset, include, workers), progress)
        position, index_s = base.position, base.index_s
        loaded_rows = plan.snapshot_rows
    loaded = time.monotonic()
    load_s = loaded - started - index_s
    if plan.replay_to_offset is None or position.changelog_offset >= plan.replay_to_offset:
        if plan.replay_to_offset is not None and position.changelog_offset > plan.replay_to_offset:
            raise ConfigError(
                f"the target is at changelog offset {position.changelog_offset}, past the "
                f"point (offset {plan.replay_to_offset})",
                "a restore only goes forward: restore into an empty server for an earlier point")
        return RestoreTimings(load_s, loaded_rows, index_s, 0.0, 0)
    changelog = Changelog(config)
    to_replay = plan.rows_to_replay
    replayed = 0

    def replay_progress(rows: int) -> None:
        nonlocal replayed
        replayed = rows
        progress("replayed row changes", rows, to_replay)

    applier = engine.set_applier(connection, source, changelog.lookup, include=include,
                                 progress=replay_progress)
    start = position.changelog_offset + 1
    stored = (changelog.stored_from(start) if read_ahead is None
              else read_ahead.stored_from(start, changelog.stored_from))
    applier.apply_raw(raw_between(raw_changes(stored), plan.replay_to_offset))
    applier.flush()
    return RestoreTimings(load_s, loaded_rows, index_s, time.monotonic() - loaded, replayed)
