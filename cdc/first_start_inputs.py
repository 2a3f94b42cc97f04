"""What the first-start rule (``cdc.first_start``) is decided from, read from the source and
the snapshot store. Shared by ``cdc capture`` and ``cdc check``."""

from __future__ import annotations

from cdc.config import CaptureConfig
from cdc.errors import SourceCheckError
from cdc.first_start import SnapshotAnchor, StartDecision, decide_first_start
from cdc.position import GtidPosition
from cdc.snapshot.catalog import configured_store, read_catalog_if_any
from cdc.snapshot.errors import SnapshotStoreError
from cdc.startup_checks import (
    Connection,
    SourceFacts,
    check_position_available,
    earliest_available_position,
)


def decide_start(config: CaptureConfig, conn: Connection, facts: SourceFacts) -> StartDecision:
    """Where an empty changelog would begin now. ``facts`` come from the start-up checks: for
    ``current``, their GTID position is the source's when this start began."""
    anchors, notes = snapshot_anchors(config, conn, facts)
    decision = decide_first_start(config.capture.start, configured_base(config, conn, facts),
                                  anchors)
    if notes:
        decision = StartDecision(decision.position, decision.rule, decision.configured,
                                 decision.snapshot_ids, (*notes, *decision.warnings))
    return decision


def configured_base(config: CaptureConfig, conn: Connection, facts: SourceFacts
                    ) -> GtidPosition:
    """The position ``capture.start`` names."""
    start = config.capture
    if start.start_gtid is not None:
        return GtidPosition.parse(start.start_gtid)
    if start.start == "earliest":
        return GtidPosition.parse(earliest_available_position(conn, facts.flavor))
    return GtidPosition.parse(facts.gtid_binlog_pos)


def snapshot_anchors(config: CaptureConfig, conn: Connection, facts: SourceFacts
                     ) -> tuple[list[SnapshotAnchor], list[str]]:
    """This source's snapshots and whether the binlog can still continue each, with notes on
    what could not be read."""
    store = configured_store(config)
    try:
        catalog = read_catalog_if_any(store)
    except SnapshotStoreError as exc:
        raise SnapshotStoreError(
            f"capture's first start cannot tell which snapshots exist: {exc.message}",
            "a first start must know them, so as not to begin after one of them; "
            f"fix the store (snapshots.store) and start again. {exc.hint}".strip()) from exc
    notes = [f"snapshot {snapshot_id} cannot be read ({error.message}): capture cannot keep "
             "it restorable" for snapshot_id, error in catalog.damaged]
    anchors = []
    for manifest in catalog.manifests:
        if manifest.source.name != config.source.name:
            continue
        position = manifest.anchor.gtid_position
        try:
            check_position_available(conn, position, facts.flavor)
            unavailable = None
        except SourceCheckError as exc:
            unavailable = exc.message
        anchors.append(SnapshotAnchor(manifest.snapshot_id, GtidPosition.parse(position),
                                      unavailable))
    return anchors, notes
