"""The changelog offset replay starts from on top of a snapshot: the first record after its
anchor.

The changelog is in the source's commit order, so "this record's transaction is after the
anchor" is false up to some offset and true from there on, and a binary search finds that
offset with a few reads. ``first_offset_after`` is pure (the read is injected); ``locate``
does the reading.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cdc.avro.codec import decode_envelope_only
from cdc.changes import ChangeRecord
from cdc.kafka.reader import read_committed, read_last_committed
from cdc.position import GtidPosition, parse_gtid

Probe = Callable[[int], tuple[int, ChangeRecord] | None]
"""The first committed record at or after an offset, with its own offset; None past the end."""


def after_anchor(record: ChangeRecord, anchor: GtidPosition) -> bool:
    """Whether the record's transaction committed after the anchor (a heartbeat or the start
    record: whether capture had read past the anchor when it wrote it)."""
    if record.operation.is_marker:
        return not reached_only_up_to(record, anchor)
    return not anchor.contains(parse_gtid(record.position.gtid))


def reached_only_up_to(record: ChangeRecord, anchor: GtidPosition) -> bool:
    """Whether everything capture had read when it wrote ``record`` is at or before the
    anchor."""
    captured = GtidPosition.parse(record.position.gtid_position)
    return all(anchor.contains(gtid) for gtid in captured.by_domain)


def reached(record: ChangeRecord, anchor: GtidPosition) -> bool:
    """Whether capture, having written ``record``, has read the source up to the anchor."""
    captured = GtidPosition.parse(record.position.gtid_position)
    return all(captured.contains(gtid) for gtid in anchor.by_domain)


def first_offset_after(anchor: GtidPosition, low: int, high: int, probe: Probe) -> int:
    """The offset of the first record in [low, high) after the anchor, or ``high`` if none is.

    The caller has checked that the changelog reaches the anchor.
    """
    while low < high:
        middle = (low + high) // 2
        found = probe(middle)
        if found is None or found[0] >= high:
            high = middle  # no record in [middle, high): starting anywhere there is the same
        elif after_anchor(found[1], anchor):
            high = found[0]
        else:
            low = found[0] + 1
    return low


def locate(bootstrap_servers: str, topics: tuple[str, str], anchor: GtidPosition, *,
           wait_s: float, clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> int | None:
    """The replay start offset of a snapshot anchored at ``anchor`` (``topics`` are the
    changelog and schemas topics); None when capture has not reached the anchor within
    ``wait_s``: the offset is then found when the snapshot is used."""
    changelog_topic, _schemas_topic = topics
    deadline = clock() + wait_s
    while True:
        tail = read_last_committed(bootstrap_servers, changelog_topic)
        if tail is not None:
            record = _without_images(tail.value)
            if reached(record, anchor):
                probe = _changelog_probe(bootstrap_servers, changelog_topic)
                return first_offset_after(anchor, 0, tail.offset + 1, probe)
        if clock() >= deadline:
            return None
        sleep(1.0)


def _changelog_probe(bootstrap_servers: str, topic: str) -> Probe:
    def probe(offset: int) -> tuple[int, ChangeRecord] | None:
        for stored in read_committed(bootstrap_servers, topic, offset):
            return stored.offset, _without_images(stored.value)
        return None
    return probe


def _without_images(value: bytes) -> ChangeRecord:
    """A record's envelope: positions are all locating needs. Its row images are left
    undecoded, so a table version capture published after the schemas topic was read (capture
    writes on meanwhile) cannot fail it."""
    return decode_envelope_only(value)
