"""The capture loop: binlog in, Kafka transactions out, exactly once.

Order of a start (and of every restart after a failure):
1. ``init_transactions`` fences any older capture and settles what it left open;
2. the resume position is read from the committed tail of the changelog; an empty changelog
   is a first start: where it begins is decided (``cdc.first_start``) and committed as its
   start record, in a Kafka transaction of its own, before anything is streamed;
3. the binlog is read from that position, and each source transaction is written whole
   inside a Kafka transaction, which commits only at source-transaction boundaries.
A crash anywhere loses nothing (the Kafka transaction never committed, so its source
transactions are read again) and repeats nothing (committed ones are behind the tail).
Any failure on the way tears everything down and starts again from step 1, with capped
exponential backoff.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymysql.connections import Connection
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_never,
    wait_exponential,
)

from cdc.assembler import Assembler, EncodedRow, Output
from cdc.avro.codec import (
    encode_key,
    encode_record,
    schema_topic_key,
    table_schema_to_bytes,
)
from cdc.avro.envelope import encode_parts
from cdc.binlog.events import SourceIdle
from cdc.binlog.reader import BinlogSource, SourceConnectionError
from cdc.capture_metrics import CaptureMetrics
from cdc.changelog_store import last_committed_record, load_registry
from cdc.config import CaptureConfig
from cdc.errors import SourceCheckError, SourceStreamError
from cdc.first_start import StartDecision, start_record
from cdc.kafka.errors import KafkaUnavailableError
from cdc.kafka.topics import ensure_topics
from cdc.kafka.writer import ChangelogWriter
from cdc.pipeline.source import PipelineSource
from cdc.position import GtidPosition
from cdc.schema_registry import SchemaRegistry
from cdc.startup_checks import (
    SourceFacts,
    check_position_available,
    connect_source,
    run_startup_checks,
)

log = logging.getLogger(__name__)

RETRIABLE = (SourceConnectionError, KafkaUnavailableError, SourceStreamError)
# A Kafka transaction this large is committed at the next source-transaction boundary even
# before the commit interval is up, to bound what a restart has to read again.
MAX_TRANSACTION_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CaptureResult:
    position: str
    records: int
    transactions: int


class _CaptureFinishedError(Exception):
    """Control flow only: the run is over (stopped or caught up)."""


class Capture:
    def __init__(self, config: CaptureConfig, *, until_caught_up: bool = False,
                 stop: threading.Event | None = None, metrics: CaptureMetrics | None = None,
                 clock: Callable[[], float] = time.time, workers: int | None = None) -> None:
        self.config = config
        self.workers = config.capture.decoding_workers if workers is None else workers
        self.until_caught_up = until_caught_up
        self.stop = stop or threading.Event()
        self.metrics = metrics or CaptureMetrics()
        self.metrics.workers.set(self.workers)
        self.clock = clock
        self.records = 0
        self.transactions = 0
        self.position = GtidPosition()
        self._caught_up_target: GtidPosition | None = None
        self._producer: ChangelogWriter | None = None
        self._unready: ChangelogWriter | None = None
        self._uncommitted_records = 0

    def run(self) -> CaptureResult:
        # The producer connects to the brokers in the background from here on; created after
        # the checks, it made init_transactions wait half a second for a broker to ask.
        self._unready = self._new_writer()
        facts = run_startup_checks(self.config)
        for warning in facts.warnings:
            log.warning("%s", warning)
        kafka = self.config.kafka
        ensure_topics(kafka.bootstrap_servers, changelog=self.config.changelog_topic,
                      schemas=self.config.schemas_topic,
                      replication_factor=kafka.replication_factor,
                      min_insync_replicas=kafka.min_insync_replicas,
                      max_record_bytes=kafka.max_record_bytes)
        if self.until_caught_up:
            self._caught_up_target = GtidPosition.parse(facts.gtid_binlog_pos)
        retrying = Retrying(
            retry=retry_if_exception_type(RETRIABLE),
            wait=wait_exponential(multiplier=0.5, max=30),
            stop=stop_never,
            before_sleep=self._log_retry,
            sleep=self._sleep_unless_stopped,
            reraise=True,
        )
        with contextlib.suppress(_CaptureFinishedError):
            retrying(self._capture_once, facts)
        return CaptureResult(str(self.position), self.records, self.transactions)

    def _sleep_unless_stopped(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise _CaptureFinishedError

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.metrics.restarts.inc()
        if isinstance(exc, KafkaUnavailableError):
            self.metrics.kafka_failures.inc()
        log.warning("capture restarts from the changelog after: %s (attempt %d)",
                    exc, state.attempt_number)

    def _start_position(self, facts: SourceFacts, registry: SchemaRegistry,
                        writer: ChangelogWriter) -> GtidPosition:
        last = last_committed_record(self.config.kafka.bootstrap_servers,
                                     self.config.changelog_topic, registry)
        if last is not None:
            return GtidPosition.parse(last.position.gtid_position)
        return self._first_start(facts, writer).position

    def _first_start(self, facts: SourceFacts, writer: ChangelogWriter) -> StartDecision:
        """Decide where the empty changelog begins and commit that as its first record.

        Until the commit, a killed capture has started nothing and the next start decides
        again; from it on, every start resumes from the changelog and ``capture.start`` is no
        longer read.
        """
        # Imported here: only a first start reads the snapshot store.
        from cdc.first_start_inputs import decide_start  # noqa: PLC0415

        with self._source_connection() as conn:
            decision = decide_start(self.config, conn, facts)
            check_position_available(conn, str(decision.position), facts.flavor)
        for warning in decision.warnings:
            log.warning("%s", warning)
        record = start_record(decision, int(self.clock() * 1_000_000))
        writer.begin()
        writer.write(None, encode_record(record, None), lambda: "the start record")
        writer.commit()
        log.info("first start: committed the start record; the changelog begins after GTID "
                 "position %r, chosen by %s", str(decision.position), decision.describe())
        return decision

    def _source_connection(self) -> Connection:
        """A connection for work inside the retry loop: failing to connect is retried there,
        unlike at start-up, where it is a configuration problem."""
        try:
            return connect_source(self.config)
        except SourceCheckError as exc:
            raise SourceConnectionError(exc.message, exc.hint) from exc

    def _named_databases(self) -> list[str] | None:
        """The databases the include patterns name exactly, or None when one is a wildcard."""
        patterns = self.config.table_filter.include
        if any(p.has_wildcard_database for p in patterns):
            return None
        return sorted({p.database for p in patterns})

    def _caught_up(self) -> bool:
        target = self._caught_up_target
        return target is not None and all(self.position.contains(g) for g in target.by_domain)

    def _writer(self) -> ChangelogWriter:
        """The changelog producer, kept across restarts of the loop.

        ``init_transactions`` runs once per producer: a capture that another one fenced stays
        fenced (and stops) instead of fencing the newer one back on its next attempt.
        """
        if self._producer is not None and self._producer.usable:
            return self._producer
        writer, self._unready = self._unready or self._new_writer(), None
        writer.init()
        self._producer = writer
        return writer

    def _new_writer(self) -> ChangelogWriter:
        kafka = self.config.kafka
        return ChangelogWriter(
            kafka.bootstrap_servers, transactional_id=self.config.transactional_id,
            changelog_topic=self.config.changelog_topic, schemas_topic=self.config.schemas_topic,
            transaction_timeout_ms=kafka.transaction_timeout_ms,
            max_record_bytes=kafka.max_record_bytes, extra=dict(kafka.producer))

    def _open_source(self) -> BinlogSource | PipelineSource:
        """The binlog as source events: decoded by worker processes, or here with none."""
        if self.workers == 0:
            return BinlogSource(self.config.source_dsn, self.config.source.server_id,
                                self.position, only_databases=self._named_databases())
        source = PipelineSource(self.config.source_dsn, self.config.source.server_id,
                                self.position, workers=self.workers,
                                only_databases=self._named_databases())
        log.info("reading the binlog in process %s, decoding it in %d worker processes %s",
                 source.reader_pid, self.workers, source.worker_pids)
        return source

    def _capture_once(self, facts: SourceFacts) -> None:
        source: BinlogSource | PipelineSource | None = None
        writer = self._writer()
        try:
            registry = load_registry(self.config.kafka.bootstrap_servers,
                                     self.config.schemas_topic)
            self.position = self._start_position(facts, registry, writer)
            with self._source_connection() as conn:
                check_position_available(conn, str(self.position), facts.flavor)
            log.info("capture resumes after GTID position %r", str(self.position))
            if self._caught_up():
                return
            source = self._open_source()
            self._pump(source, writer, Assembler(self.position, registry,
                                                 self.config.table_filter.includes))
        finally:
            if source is not None:
                source.close()
            writer.abort()
            self.metrics.forget_uncommitted()

    def _pump(self, source: BinlogSource | PipelineSource, writer: ChangelogWriter,
              assembler: Assembler) -> None:
        interval_s = self.config.kafka.commit_interval_ms / 1000
        heartbeat_s = self.config.capture.heartbeat_interval_s
        writer.begin()
        self._uncommitted_records = 0
        opened = last_written = self.clock()
        tail = self.position  # what the changelog's last record will say once committed
        pending_transactions = 0
        for event in source.events():
            emissions = assembler.feed(event)
            if emissions:
                for emission in emissions:
                    self._write(writer, emission)
                if emissions[-1].transaction_last:
                    # Only a commit ends a transaction, and it moves the assembler's position
                    # to the one that last record carries.
                    tail = assembler.position
                last_written = self.clock()
            if not assembler.at_boundary:
                if self.stop.is_set():
                    return  # writer.close() aborts the open Kafka transaction
                continue
            if assembler.position is not self.position:
                pending_transactions += 1
                self.position = assembler.position
            now = self.clock()
            finishing = self.stop.is_set() or self._caught_up()
            idle = isinstance(event, SourceIdle)
            # Transactions that gave no record (filtered tables) move the position too: a
            # heartbeat records it, so the tail always says how far capture got.
            if (finishing and tail != self.position) or now - last_written >= heartbeat_s:
                self._write_heartbeat(writer, assembler, now)
                tail = self.position
                last_written = now
            due = writer.records_in_transaction > 0 and (
                finishing or idle or now - opened >= interval_s
                or writer.bytes_in_transaction >= MAX_TRANSACTION_BYTES)
            if due:
                writer.commit()
                self.transactions += pending_transactions
                # Only what Kafka committed counts: an aborted transaction is written again.
                self.records += self._uncommitted_records
                self._uncommitted_records = 0
                self.metrics.committed(pending_transactions, self.position, now)
                pending_transactions = 0
                writer.begin()
                opened = now
            if finishing:
                raise _CaptureFinishedError
        # A blocking binlog dump only ends when the server closes it (a shutdown, a kill).
        raise SourceConnectionError("the source closed the binlog stream",
                                    "capture reconnects and resumes from the changelog")

    def _write_heartbeat(self, writer: ChangelogWriter, assembler: Assembler, now: float) -> None:
        record = assembler.heartbeat(int(now * 1_000_000))
        writer.write(None, encode_record(record, None), lambda: "a heartbeat")
        self._uncommitted_records += 1

    def _write(self, writer: ChangelogWriter, emission: Output) -> None:
        schema = emission.schema
        if emission.publish_schema and schema is not None:
            writer.write_schema(schema_topic_key(schema.database, schema.table, schema.version),
                                table_schema_to_bytes(schema))
        if isinstance(emission, EncodedRow):
            # The fast lane: the record's bytes from its parts, no record built.
            before, after, key = emission.encoded
            value = encode_parts(emission.operation, emission.schema.database,
                                 emission.schema.table, emission.schema.version,
                                 before=before, after=after, statement=None,
                                 position=emission.position,
                                 commit_time_us=emission.commit_time_us,
                                 transaction_index=emission.transaction_index,
                                 transaction_last=emission.transaction_last)
            self.metrics.row_written(emission.operation, emission.commit_time_us)
        else:
            record = emission.record
            key, value = encode_key(record, schema), encode_record(record, schema)
            self.metrics.record_written(record)
        writer.write(key, value, lambda: _describe(emission))
        self._uncommitted_records += 1


def _describe(emission: Output) -> str:
    """The record, for an error message."""
    record = emission.as_record() if isinstance(emission, EncodedRow) else emission.record
    return (f"the {record.operation.value} of a row of {record.database}.{record.table} "
            f"(GTID {record.position.gtid})")
