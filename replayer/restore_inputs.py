"""What a restore plan is made from, read from the store and the changelog."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from cdc.avro.envelope import EnvelopeFields, envelope_fields
from cdc.avro.errors import RecordFormatError
from cdc.changes import ChangeRecord, Operation
from cdc.config.models import CaptureConfig
from cdc.kafka.reader import StoredRecord, read_committed, watermarks
from cdc.marks import read_marks
from cdc.position import GtidPosition, parse_gtid
from cdc.snapshot.catalog import Catalog, configured_store, read_catalog
from cdc.snapshot.changelog import Changelog
from cdc.snapshot.manifest import Manifest
from replayer.errors import ForeignSnapshotError, NoSnapshotError
from replayer.raw_changes import RawChange
from replayer.read_ahead import ReadAhead
from replayer.restore_plan import (
    ChangelogSummary,
    RestorePlan,
    SnapshotInfo,
    TransactionInfo,
    calc_restore_plan,
)
from replayer.restore_point import RestorePoint


def snapshot_info(manifest: Manifest, *, anchor_offset: int | None = None) -> SnapshotInfo:
    """The plan's view of a snapshot; ``anchor_offset`` when the manifest lacks it."""
    if manifest.anchor.changelog_offset is not None:
        anchor_offset = manifest.anchor.changelog_offset
    return SnapshotInfo(snapshot_id=manifest.snapshot_id, created_at=manifest.created_at,
                        anchor=GtidPosition.parse(manifest.anchor.gtid_position),
                        anchor_offset=anchor_offset,
                        rows=manifest.total_rows)


def changelog_summary(bootstrap_servers: str, topic: str,
                      keep: Callable[[StoredRecord], None] | None = None) -> ChangelogSummary:
    """Every source transaction of the changelog: its offsets, GTID, commit time and rows
    (the row images are not decoded); each record read is given to ``keep``, if any."""
    low, high = watermarks(bootstrap_servers, topic)
    transactions: list[TransactionInfo] = []
    first = rows = 0
    begins_after = None
    for stored in read_committed(bootstrap_servers, topic):
        if stored.offset >= high:  # committed while this was read: not in the summary
            break
        if keep is not None:
            keep(stored)
        record = _envelope(stored.value)
        if record.operation is Operation.START:
            begins_after = GtidPosition.parse(record.gtid_position)
        if record.operation.is_marker:
            continue
        if record.transaction_index == 0:
            first, rows = stored.offset, 0
        rows += record.operation is not Operation.DDL
        if record.transaction_last:
            transactions.append(TransactionInfo(
                offset_first=first, offset_last=stored.offset,
                gtid=parse_gtid(record.gtid), commit_time_us=record.commit_time_us,
                rows=rows))
    return ChangelogSummary(tuple(transactions), low, high, begins_after)


def transactions_after(bootstrap_servers: str, topic: str, offset: int) -> int:
    """How many source transactions of the changelog end after ``offset``: only the records
    past it are read, so a target close behind costs little however long the changelog."""
    count = 0
    for stored in read_committed(bootstrap_servers, topic, start=offset + 1):
        record = _envelope(stored.value)
        if record.transaction_last and not record.operation.is_marker:
            count += 1
    return count


def _envelope(value: bytes) -> EnvelopeFields:
    try:
        return envelope_fields(value)
    except ValueError as exc:
        raise RecordFormatError(f"a changelog record is corrupt or truncated: {exc}") from None


def records_between(read: Iterator[tuple[int, ChangeRecord]], last: int
                    ) -> Iterator[tuple[int, ChangeRecord]]:
    """The records up to and including offset ``last``."""
    for offset, record in read:
        if offset > last:
            return
        yield offset, record


def raw_between(read: Iterator[RawChange], last: int) -> Iterator[RawChange]:
    """The raw changes up to and including offset ``last``."""
    for change in read:
        if change.offset > last:
            return
        yield change


def _of_this_source(catalog: Catalog, config: CaptureConfig,
                    snapshot_id: str) -> list[Manifest]:
    """The snapshots a restore of ``config``'s source may start from. Another source's
    rows under this source's changelog would be a silent mix of two databases."""
    name = config.source.name
    if snapshot_id != "auto":
        manifest = catalog.find(snapshot_id)
        if manifest.source.name != name:
            raise ForeignSnapshotError(
                f"snapshot {snapshot_id} was taken of source {manifest.source.name!r} "
                f"({manifest.source.host}:{manifest.source.port}), not of {name!r} "
                "(source.name)",
                "give a snapshot of this source ('cdc backups list' shows them), or the "
                "configuration of the source that snapshot was taken of")
        return [manifest]
    ours = [m for m in catalog.manifests if m.source.name == name]
    if ours:
        return ours
    others = sorted({m.source.name for m in catalog.manifests} - {name})
    found = [f"snapshot(s) of other sources only ({', '.join(others)})"] if others else []
    found += [f"a damaged manifest: {sid}: {exc.message}" for sid, exc in catalog.damaged]
    raise NoSnapshotError(
        f"there is no snapshot of source {name!r} to restore from in {catalog.store.url}"
        + ("; the store has " + "; ".join(found) if found else ""),
        "take one with 'cdc snapshot': the changelog alone cannot restore, it is replayed "
        "on top of a snapshot" + ("; a damaged manifest must be restored from a copy of "
                                  "the store ('cdc backups list' shows it)"
                                  if catalog.damaged else ""))


def plan_restore(config: CaptureConfig, point: RestorePoint, snapshot_id: str = "auto",
                 read_ahead: ReadAhead | None = None) -> tuple[RestorePlan, Manifest]:
    """The plan to ``point`` from the configured store and changelog, and its snapshot; the
    records read are kept in ``read_ahead``, for the replay."""
    catalog = read_catalog(configured_store(config))
    manifests = _of_this_source(catalog, config, snapshot_id)
    summary = changelog_summary(config.kafka.bootstrap_servers, config.changelog_topic,
                                None if read_ahead is None else read_ahead.keep)
    marks = {label: m.gtid_position for label, m in read_marks(config).items()}
    changelog = Changelog(config)
    # A snapshot's replay start is recorded once capture passes its anchor; one taken while
    # capture was behind is located now.
    snapshots = [snapshot_info(m, anchor_offset=changelog.replay_start(m)) for m in manifests]
    plan = calc_restore_plan(point, snapshots, summary, marks, now=datetime.now(UTC))
    return plan, catalog.find(plan.snapshot_id)
