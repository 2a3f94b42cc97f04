"""The records planning read, kept for the replay: held records are not read again, a start
before (or after) what is held reads Kafka as before, and the budget drops the oldest."""

from __future__ import annotations

from collections.abc import Iterator

from cdc.kafka.reader import StoredRecord
from replayer.read_ahead import ReadAhead

# A transactional topic: offsets 3 and 6 are commit markers, never read.
OFFSETS = [0, 1, 2, 4, 5, 7, 8]


def _stored(offset: int) -> StoredRecord:
    return StoredRecord(offset, None, b"v%d" % offset, 0)


class Kafka:
    def __init__(self, offsets: list[int]) -> None:
        self.offsets = offsets
        self.reads: list[int] = []

    def read(self, start: int) -> Iterator[StoredRecord]:
        self.reads.append(start)
        yield from (_stored(o) for o in self.offsets if o >= start)


def _kept(offsets: list[int], budget: int = 1 << 20) -> ReadAhead:
    ahead = ReadAhead(budget)
    for offset in offsets:
        ahead.keep(_stored(offset))
    return ahead


def test_held_records_are_not_read_again_and_later_ones_come_from_kafka() -> None:
    ahead = _kept(OFFSETS[:5])  # up to offset 5; 7 and 8 committed after the plan
    kafka = Kafka(OFFSETS)
    assert [s.offset for s in ahead.stored_from(2, kafka.read)] == [2, 4, 5, 7, 8]
    assert kafka.reads == [6]
    kafka.reads.clear()
    assert [s.offset for s in ahead.stored_from(3, kafka.read)] == [4, 5, 7, 8]  # a marker
    assert kafka.reads == [6]


def test_a_start_outside_what_is_held_reads_kafka() -> None:
    kafka = Kafka(OFFSETS)
    ahead = _kept([4, 5])
    assert [s.offset for s in ahead.stored_from(1, kafka.read)] == [1, 2, 4, 5, 7, 8]
    assert [s.offset for s in ahead.stored_from(7, kafka.read)] == [7, 8]
    assert [s.offset for s in ReadAhead().stored_from(0, kafka.read)] == OFFSETS
    assert kafka.reads == [1, 7, 0]


def test_the_budget_drops_the_oldest_records() -> None:
    ahead = _kept(OFFSETS, budget=3 * (2 + 100))  # three records of two bytes each
    kafka = Kafka(OFFSETS)
    assert [s.offset for s in ahead.stored_from(5, kafka.read)] == [5, 7, 8]
    assert kafka.reads == [9]  # nothing after 8: an empty read
    kafka.reads.clear()
    assert [s.offset for s in ahead.stored_from(4, kafka.read)] == [4, 5, 7, 8]
    assert kafka.reads == [4]  # 4 was dropped: Kafka from there
