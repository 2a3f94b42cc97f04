"""Reading a changelog to its end while its writer keeps appending: the read stops at the
high watermark it started from, instead of chasing the writer."""

from __future__ import annotations

from collections.abc import Iterator

from confluent_kafka import KafkaError

from cdc.kafka.reader import READ_TO_END_FETCH_WAIT_MS, _read_to_end, consumer_settings


class FakeError:
    def code(self) -> int:
        return KafkaError._PARTITION_EOF


class FakeMessage:
    def __init__(self, offset: int | None, eof: bool = False) -> None:
        self._offset = offset
        self._eof = eof

    def error(self) -> FakeError | None:
        return FakeError() if self._eof else None

    def offset(self) -> int | None:
        return self._offset

    def value(self) -> bytes:
        return f"v{self._offset}".encode()

    def key(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return 1, 1000


class FakeConsumer:
    """Hands out what ``messages`` gives, and counts the polls."""

    def __init__(self, messages: Iterator[FakeMessage]) -> None:
        self._messages = messages
        self.polls = 0

    def assign(self, _: object) -> None:
        pass

    def poll(self, _: float) -> FakeMessage:
        self.polls += 1
        return next(self._messages)


def endless(skip: frozenset[int] = frozenset()) -> Iterator[FakeMessage]:
    """A partition whose writer is always ahead: never an end-of-partition event."""
    offset = 0
    while True:
        if offset not in skip:
            yield FakeMessage(offset)
        offset += 1


def offsets(consumer: FakeConsumer, end: int | None) -> list[int]:
    return [r.offset for r in _read_to_end(consumer, "t", 0, end=end)]  # type: ignore[arg-type]


def test_a_partition_written_all_the_time_is_read_up_to_the_bound() -> None:
    consumer = FakeConsumer(endless())
    assert offsets(consumer, 5) == [0, 1, 2, 3, 4]
    assert consumer.polls == 5  # not one poll more: offset 4 is the last below the bound


def test_a_transaction_marker_just_below_the_bound_ends_the_read_at_the_next_record() -> None:
    consumer = FakeConsumer(endless(skip=frozenset({4})))  # offset 4: a commit marker
    assert offsets(consumer, 5) == [0, 1, 2, 3]


def test_the_end_of_the_partition_ends_the_read_before_the_bound() -> None:
    messages = iter([FakeMessage(0), FakeMessage(1), FakeMessage(None, eof=True)])
    assert offsets(FakeConsumer(messages), 10) == [0, 1]


def test_without_a_bound_the_end_of_the_partition_ends_the_read() -> None:
    messages = iter([FakeMessage(0), FakeMessage(1), FakeMessage(2),
                     FakeMessage(None, eof=True)])
    assert offsets(FakeConsumer(messages), None) == [0, 1, 2]


def test_a_read_to_the_end_is_told_of_the_end_at_once_and_a_follower_spares_the_brokers() -> None:
    # The end shows only as an empty fetch (a transactional topic ends with a commit marker):
    # the broker must not hold that fetch for librdkafka's default 500 ms on every read.
    assert consumer_settings("k:9092")["fetch.wait.max.ms"] == READ_TO_END_FETCH_WAIT_MS
    assert READ_TO_END_FETCH_WAIT_MS <= 20
    assert consumer_settings("k:9092", follow=True)["fetch.wait.max.ms"] == 500
