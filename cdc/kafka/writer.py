"""The transactional, idempotent changelog producer.

One Kafka transaction holds whole source transactions only. ``init`` fences any older
producer with the same transactional.id and settles (aborts or completes) whatever it left
open, so the committed tail read afterwards is final. Every delivery failure is tracked: a
transaction with a failed record is never committed (Maxwell's lesson).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from cdc.errors import CaptureFencedError, RecordTooLargeError
from cdc.kafka.client_security import remember, secured
from cdc.kafka.errors import KafkaUnavailableError, translate

log = logging.getLogger(__name__)

_POLL_EVERY = 64
TIMEOUT_S = 60.0
# Room for the record's key and Kafka's own framing around the value.
_FRAMING_BYTES = 64 * 1024


class ChangelogWriter:
    def __init__(
        self, bootstrap_servers: str, *, transactional_id: str, changelog_topic: str,
        schemas_topic: str, transaction_timeout_ms: int, max_record_bytes: int,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.transactional_id = transactional_id
        self.changelog_topic = changelog_topic
        self.schemas_topic = schemas_topic
        self.max_record_bytes = max_record_bytes
        self._failures: list[KafkaError] = []
        self._fatal: KafkaError | None = None
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "transactional.id": transactional_id,
            "enable.idempotence": True,
            "acks": "all",
            "transaction.timeout.ms": transaction_timeout_ms,
            "message.max.bytes": max_record_bytes + _FRAMING_BYTES,
            "compression.type": "lz4",
            "linger.ms": 5,
            "batch.num.messages": 10000,
            # A bounded local queue: a huge source transaction waits for Kafka instead of
            # piling up in memory.
            "queue.buffering.max.messages": 100000,
            "queue.buffering.max.kbytes": 131072,
            "on_delivery": self._delivered,
            # Only failures need a callback; a report per delivered record cost a Python call
            # per row change.
            "delivery.report.only.error": True,
            "error_cb": self._client_error,
            **(extra or {}),
        }
        self._producer = Producer(secured(config))
        self.in_transaction = False
        self.records_in_transaction = 0
        self.bytes_in_transaction = 0

    def _delivered(self, error: KafkaError | None, _message: object) -> None:
        if error is not None:
            self._failures.append(error)

    def _client_error(self, error: KafkaError) -> None:
        remember(error)
        if error.fatal():
            self._fatal = error

    def _fail(self, exc: BaseException, doing: str) -> Exception:
        """The project's error for a failed Kafka call. A fatal client error (such as being
        fenced) wins: the client sometimes surfaces it as a SystemError from a callback."""
        if self._fatal is not None:
            return translate(KafkaException(self._fatal), doing, self.transactional_id)
        if isinstance(exc, KafkaException):
            return translate(exc, doing, self.transactional_id)
        return KafkaUnavailableError(f"Kafka client failed while {doing}: {exc}",
                                     "capture retries from the last committed record")

    def init(self) -> None:
        try:
            self._producer.init_transactions(TIMEOUT_S)
        except (KafkaException, SystemError) as exc:
            raise self._fail(exc, "starting the transactional producer") from exc

    def begin(self) -> None:
        try:
            self._producer.begin_transaction()
        except (KafkaException, SystemError) as exc:
            raise self._fail(exc, "beginning a Kafka transaction") from exc
        self.in_transaction = True
        self.records_in_transaction = 0
        self.bytes_in_transaction = 0
        self._failures.clear()

    def write(self, key: bytes | None, value: bytes,
              what: Callable[[], str] = lambda: "a record") -> None:
        """``what`` names the record in an error; it is only called then."""
        self._produce(self.changelog_topic, key, value, what)

    def write_schema(self, key: bytes, value: bytes) -> None:
        self._produce(self.schemas_topic, key, value, lambda: "a table schema")

    def _produce(self, topic: str, key: bytes | None, value: bytes,
                 what: Callable[[], str]) -> None:
        if len(value) > self.max_record_bytes:
            raise RecordTooLargeError(
                f"{what()} is {len(value)} bytes, over kafka.max_record_bytes "
                f"({self.max_record_bytes}); capture stopped rather than skip it",
                "raise kafka.max_record_bytes and the changelog topic's max.message.bytes "
                "(and the broker's message.max.bytes) together, then start capture again",
            )
        try:
            while True:
                try:
                    self._producer.produce(topic, value, key)
                    break
                except BufferError:
                    # The local queue is full: serve delivery reports until there is room.
                    self._producer.poll(0.05)
            if self.records_in_transaction % _POLL_EVERY == 0:
                self._producer.poll(0)  # serve delivery reports now and then; commit waits
        except (KafkaException, SystemError) as exc:
            raise self._fail(exc, f"writing {what()}") from exc
        self.records_in_transaction += 1
        self.bytes_in_transaction += len(value)

    def commit(self) -> None:
        try:
            remaining = self._producer.flush(TIMEOUT_S)
            if remaining:
                raise KafkaUnavailableError(
                    f"{remaining} records were still undelivered after {TIMEOUT_S:.0f}s",
                    "check the Kafka brokers; capture retries from the last committed record",
                )
            if self._failures:
                first = self._failures[0]
                raise self._fail(KafkaException(first), "delivering records")
            self._producer.commit_transaction(TIMEOUT_S)
        except (KafkaException, SystemError) as exc:
            self.abort()
            raise self._fail(exc, "committing a Kafka transaction") from exc
        except Exception:
            self.abort()
            raise
        self.in_transaction = False

    @property
    def usable(self) -> bool:
        """False after a fatal client error: a new producer is needed (unless fenced)."""
        return self._fatal is None

    def abort(self) -> None:
        """Abandon the open Kafka transaction. Being fenced is raised (another capture took
        over); any other failure is left to the next ``init``, which aborts it anyway."""
        if not self.in_transaction:
            return
        self.in_transaction = False
        try:
            self._producer.abort_transaction(10)
        except (KafkaException, SystemError) as exc:
            error = self._fail(exc, "aborting a Kafka transaction")
            if isinstance(error, CaptureFencedError):
                raise error from exc
            log.warning("aborting the Kafka transaction failed (%s); the next capture aborts "
                        "it when it starts", exc)

    def close(self) -> None:
        """Leave nothing open; ``commit`` already flushed everything that was committed."""
        self.abort()
