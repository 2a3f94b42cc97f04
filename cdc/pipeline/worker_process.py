"""A decoding worker: raw batches in, decoded batches out, until its inbox closes."""

from __future__ import annotations

import os
import pickle
import signal
from multiprocessing.connection import Connection

from cdc.binlog.event_decoder import EventDecoder
from cdc.binlog.event_parser import MalformedEventError
from cdc.binlog.events import SourceEvent
from cdc.binlog.reader import damaged_stream_error
from cdc.pipeline.batches import DecodedBatch, ErrorReport, RawBatch
from cdc.pipeline.wire import ShapeNumbers, to_wire
from cdc.process_lifetime import die_with


class BatchDecoding:
    """Decodes batches one after the other, keeping what can be kept between them (each
    distinct table map is parsed once)."""

    def __init__(self) -> None:
        self._decoder: EventDecoder | None = None
        self._shapes = ShapeNumbers()

    def decode(self, batch: RawBatch) -> DecodedBatch:
        if self._decoder is None:
            self._decoder = EventDecoder(batch.settings, _checksum_of(batch))
        decoder = self._decoder
        events: list[SourceEvent] = []
        error = batch.end
        try:
            decoder.restart(batch.log_file, batch.format_description)
            for payload in batch.payloads:
                events.extend(decoder.decode(payload))
        except MalformedEventError as exc:
            error = ErrorReport.of(damaged_stream_error(exc))
        except Exception as exc:
            error = ErrorReport.of(exc)
        return DecodedBatch(batch.sequence, to_wire(events, self._shapes), error)


def _checksum_of(batch: RawBatch) -> bool:
    return bool(batch.settings.wrapper_arguments[0])  # use_checksum comes first


def run_worker(inbox: Connection, outbox: Connection, parent: int) -> None:
    """The worker process's main function."""
    die_with(parent)
    # Ctrl-C reaches the whole process group; capture decides when its children stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    decoding = BatchDecoding()
    while True:
        try:
            data = inbox.recv_bytes()
        except (EOFError, OSError):
            os._exit(0)
        decoded = decoding.decode(pickle.loads(data))
        outbox.send_bytes(pickle.dumps(decoded, protocol=pickle.HIGHEST_PROTOCOL))
