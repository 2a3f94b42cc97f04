"""Where the changelog began, read back from its start record: what ``cdc check`` and
``cdc window`` show of the first-start rule (``cdc.first_start``)."""

from __future__ import annotations

from dataclasses import dataclass

from cdc.changelog_store import first_committed_record
from cdc.changes import Operation
from cdc.config import CaptureConfig
from cdc.first_start import StartDecision, decision_of
from cdc.kafka.topics import topic_exists
from cdc.position import GtidPosition
from cdc.snapshot.manifest import Manifest


@dataclass(frozen=True)
class ChangelogBeginning:
    offset: int
    """The offset of the changelog's first committed record."""
    decision: StartDecision | None
    """What its start record says; None for a changelog written before start records."""
    committed_at_us: int
    """When the start record was written (microseconds since the epoch, UTC)."""

    def as_dict(self) -> dict[str, object]:
        decision = self.decision
        return {
            "offset": self.offset,
            "gtid_position": None if decision is None else str(decision.position),
            "rule": None if decision is None else decision.rule,
            "configured": None if decision is None else decision.configured,
            "snapshots": [] if decision is None else list(decision.snapshot_ids),
            "committed_at_us": self.committed_at_us if decision is not None else None,
        }

    def describe(self) -> str:
        if self.decision is None:
            return (f"the changelog has no start record (it was written before start records "
                    f"existed); its first record is at offset {self.offset}")
        return (f"the changelog began after GTID position {self.decision.position or '(empty)'}"
                f" (offset {self.offset}), chosen by {self.decision.describe()}")


def changelog_beginning(config: CaptureConfig) -> ChangelogBeginning | None:
    """None while the changelog holds no committed record: capture's first start has not
    committed its start record, and ``capture.start`` still applies."""
    bootstrap, topic = config.kafka.bootstrap_servers, config.changelog_topic
    if not topic_exists(bootstrap, topic):
        return None
    first = first_committed_record(bootstrap, topic)
    if first is None:
        return None
    offset, record = first
    decision = decision_of(record) if record.operation is Operation.START else None
    return ChangelogBeginning(offset, decision, record.commit_time_us)


def split_by_beginning(manifests: tuple[Manifest, ...], beginning: ChangelogBeginning | None
                       ) -> tuple[list[Manifest], list[dict[str, str]]]:
    """The snapshots the changelog continues (oldest first), and the others with the reason:
    an anchor before the changelog's beginning leaves transactions no backup holds."""
    if beginning is None or beginning.decision is None:
        return list(manifests), []
    start = beginning.decision.position
    usable, unusable = [], []
    for manifest in manifests:
        anchor = GtidPosition.parse(manifest.anchor.gtid_position)
        if start.at_or_before(anchor):
            usable.append(manifest)
        else:
            unusable.append({"snapshot_id": manifest.snapshot_id,
                             "reason": f"its anchor {anchor or '(empty)'} is before the "
                                       f"changelog's beginning ({start}): the transactions "
                                       "between them are in no backup"})
    return usable, unusable
