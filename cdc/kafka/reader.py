"""Reading the changelog back: its committed tail, and every committed record in order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from cdc.errors import CdcError
from cdc.kafka.client_security import secured, serve_refusals
from cdc.kafka.errors import NOT_AUTHORIZED, kafka_error_code, missing_topic, translate

TIMEOUT_S = 30.0
# How long the broker holds a fetch that finds nothing new. A read to the end of a partition
# learns it is there only from such an empty fetch: the last offset of a transactional topic
# is a commit marker, never delivered. At librdkafka's 500 ms default every read to the end
# waited half a second for that; a follower, which is answered as soon as a record arrives,
# keeps the default and spares the brokers its idle fetches.
READ_TO_END_FETCH_WAIT_MS = 10
FOLLOW_FETCH_WAIT_MS = 500


@dataclass(frozen=True)
class StoredRecord:
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


def consumer_settings(bootstrap_servers: str, *, follow: bool = False) -> dict[str, object]:
    return secured({
        "bootstrap.servers": bootstrap_servers,
        "group.id": f"cdc-reader-{uuid.uuid4().hex}",
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.max.bytes": 134217728,
        "max.partition.fetch.bytes": 134217728,
        "fetch.wait.max.ms": FOLLOW_FETCH_WAIT_MS if follow else READ_TO_END_FETCH_WAIT_MS,
    })


def _consumer(bootstrap_servers: str, *, follow: bool = False) -> Consumer:
    return Consumer(consumer_settings(bootstrap_servers, follow=follow))


def _watermarks(consumer: Consumer, topic: str) -> tuple[int, int]:
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT_S)
    except KafkaException as exc:
        serve_refusals(consumer)
        missing = missing_topic(exc, topic)
        if missing is not None:
            raise (_denied(consumer, topic) or missing) from exc
        raise translate(exc, f"reading the offsets of {topic}") from exc
    return int(low), int(high)


def _denied(consumer: Consumer, topic: str) -> CdcError | None:
    """The brokers' refusal to describe ``topic``, which the client reports as an unknown
    partition: only the topic's metadata tells a missing topic from one the ACLs hide."""
    try:
        metadata = consumer.list_topics(topic=topic, timeout=TIMEOUT_S)
    except KafkaException:
        return None
    entry = metadata.topics.get(topic)
    error = entry.error if entry is not None else None
    if error is None or kafka_error_code(KafkaException(error)) not in NOT_AUTHORIZED:
        return None
    return translate(KafkaException(error), f"reading {topic}")


def _read_to_end(consumer: Consumer, topic: str, start: int, end: int | None = None,
                 follow: bool = False) -> Iterator[StoredRecord]:
    """From ``start`` up to the partition's end; with ``end`` (the high watermark read
    before), never past it. Without that bound a topic written all the time may give no
    end-of-partition for as long as its writer keeps up, and the read would chase it."""
    consumer.assign([TopicPartition(topic, 0, start)])
    while True:
        message = consumer.poll(1.0)
        if message is None:
            continue
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                if follow:
                    continue
                return
            raise translate(KafkaException(error), f"reading {topic}")
        offset = message.offset() or 0
        if end is not None and offset >= end:
            return
        value = message.value()
        if value is not None:
            _kind, timestamp = message.timestamp()
            yield StoredRecord(offset, message.key(), value, timestamp)
        # The last offset below the end may be a transaction marker, never delivered: then
        # the end-of-partition event, or the next record at or past the end, ends the read.
        if end is not None and offset >= end - 1:
            return


def watermarks(bootstrap_servers: str, topic: str) -> tuple[int, int]:
    """The topic's first and next offsets (low and high watermarks)."""
    consumer = _consumer(bootstrap_servers)
    try:
        return _watermarks(consumer, topic)
    finally:
        consumer.close()


def read_committed(bootstrap_servers: str, topic: str, start: int = 0,
                   follow: bool = False) -> Iterator[StoredRecord]:
    """Every committed record from ``start`` on, up to the end as it was when called (or
    forever with ``follow``)."""
    consumer = _consumer(bootstrap_servers, follow=follow)
    try:
        low, high = _watermarks(consumer, topic)
        if high <= max(low, start) and not follow:
            return
        yield from _read_to_end(consumer, topic, max(low, start),
                                None if follow else high, follow)
    finally:
        consumer.close()


def follow_committed(bootstrap_servers: str, topic: str, start: int,
                     idle_s: float = 0.5) -> Iterator[StoredRecord | None]:
    """Every committed record from ``start`` on, without end, and None each time ``idle_s``
    passes without one: caught up, or Kafka out of reach for now (librdkafka reconnects by
    itself; the caller decides how long to wait)."""
    consumer = _consumer(bootstrap_servers, follow=True)
    try:
        consumer.assign([TopicPartition(topic, 0, start)])
        while True:
            message = consumer.poll(idle_s)
            if message is None:
                yield None
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF or error.retriable():
                    yield None
                    continue
                raise translate(KafkaException(error), f"following {topic}")
            value = message.value()
            if value is None:
                continue
            _kind, timestamp = message.timestamp()
            yield StoredRecord(message.offset() or 0, message.key(), value, timestamp)
    finally:
        consumer.close()


def read_last_committed(bootstrap_servers: str, topic: str) -> StoredRecord | None:
    """The last committed data record, or None for an empty changelog.

    Transaction markers and aborted records sit at the end of the log too, so read back in
    growing steps until a committed record turns up.
    """
    consumer = _consumer(bootstrap_servers)
    try:
        low, high = _watermarks(consumer, topic)
        step = 64
        while high > low:
            start = max(low, high - step)
            last = None
            for record in _read_to_end(consumer, topic, start, end=high):
                last = record
            if last is not None:
                return last
            if start == low:
                return None
            step *= 16
        return None
    finally:
        consumer.close()
