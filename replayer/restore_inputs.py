"""What a restore plan is made from, read from the store and the changelog."""

from __future__ import annotations

from collections.abc import Iterator

from cdc.avro.envelope import decode_envelope_v1
from cdc.changes import ChangeRecord, Operation
from cdc.kafka.reader import read_committed, watermarks
from cdc.position import GtidPosition, parse_gtid
from cdc.snapshot.manifest import Manifest
from replayer.restore_plan import ChangelogSummary, SnapshotInfo, TransactionInfo


def snapshot_info(manifest: Manifest, *, anchor_offset: int | None = None) -> SnapshotInfo:
    """The plan's view of a snapshot; ``anchor_offset`` when the manifest lacks it."""
    if manifest.anchor.changelog_offset is not None:
        anchor_offset = manifest.anchor.changelog_offset
    return SnapshotInfo(snapshot_id=manifest.snapshot_id, created_at=manifest.created_at,
                        anchor=GtidPosition.parse(manifest.anchor.gtid_position),
                        anchor_offset=anchor_offset,
                        rows=manifest.total_rows)


def changelog_summary(bootstrap_servers: str, topic: str) -> ChangelogSummary:
    """Every source transaction of the changelog: its offsets, GTID, commit time and rows
    (the row images are not decoded)."""
    low, high = watermarks(bootstrap_servers, topic)
    transactions: list[TransactionInfo] = []
    first = rows = 0
    for stored in read_committed(bootstrap_servers, topic):
        record = decode_envelope_v1(stored.value, lambda *_: (None, None))
        if record.operation is Operation.HEARTBEAT:
            continue
        if record.transaction_index == 0:
            first, rows = stored.offset, 0
        rows += record.operation is not Operation.DDL
        if record.transaction_last:
            transactions.append(TransactionInfo(
                offset_first=first, offset_last=stored.offset,
                gtid=parse_gtid(record.position.gtid), commit_time_us=record.commit_time_us,
                rows=rows))
    return ChangelogSummary(tuple(transactions), low, high)


def records_between(read: Iterator[tuple[int, ChangeRecord]], last: int
                    ) -> Iterator[tuple[int, ChangeRecord]]:
    """The records up to and including offset ``last``."""
    for offset, record in read:
        if offset > last:
            return
        yield offset, record
