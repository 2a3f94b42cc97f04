"""Named restore points: ``cdc mark LABEL`` records the source's GTID position now under a
label, in a compacted topic beside the changelog; ``replayer restore --to name:LABEL`` restores
to the last transaction that position holds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import KafkaException, Producer

from cdc.config.models import CaptureConfig
from cdc.errors import ConfigError
from cdc.kafka.client_security import secured
from cdc.kafka.errors import translate
from cdc.kafka.reader import read_committed
from cdc.kafka.topics import TIMEOUT_S, ensure_compacted_topic
from cdc.position import GtidPosition

LABEL = re.compile(r"[A-Za-z0-9._-]{1,128}")


@dataclass(frozen=True)
class Mark:
    label: str
    gtid_position: GtidPosition
    marked_at: datetime


def marks_topic(config: CaptureConfig) -> str:
    return f"{config.kafka.topic_prefix}.marks"


def read_marks(config: CaptureConfig) -> dict[str, Mark]:
    """Every mark, by label; none when no mark was ever written."""
    marks: dict[str, Mark] = {}
    try:
        stored_marks = list(read_committed(config.kafka.bootstrap_servers, marks_topic(config)))
    except Exception:
        return marks
    for stored in stored_marks:
        document = json.loads(stored.value)
        marks[document["label"]] = Mark(document["label"],
                                        GtidPosition.parse(document["gtid_position"]),
                                        datetime.fromisoformat(document["marked_at"]))
    return marks


def write_mark(config: CaptureConfig, label: str, position: GtidPosition, *,
               replace: bool = False, now: datetime | None = None) -> Mark:
    if not LABEL.fullmatch(label):
        raise ConfigError(f"{label!r} is not a mark label",
                          "use 1 to 128 letters, digits, '.', '_' and '-'")
    if not replace and label in read_marks(config):
        raise ConfigError(f"the mark {label!r} exists already",
                          "choose another label, or pass --replace to move it")
    mark = Mark(label, position, now or datetime.now(UTC))
    ensure_compacted_topic(config.kafka.bootstrap_servers, marks_topic(config),
                           replication_factor=config.kafka.replication_factor,
                           min_insync_replicas=config.kafka.min_insync_replicas)
    producer = Producer(secured({"bootstrap.servers": config.kafka.bootstrap_servers,
                                 "enable.idempotence": True, "acks": "all"}))
    value = json.dumps({"label": label, "gtid_position": str(position),
                        "marked_at": mark.marked_at.isoformat()}).encode()
    try:
        producer.produce(marks_topic(config), value, label.encode())
        if producer.flush(TIMEOUT_S):
            raise ConfigError(f"the mark {label!r} was not written to Kafka in time",
                              "check kafka.bootstrap_servers and try again")
    except KafkaException as exc:
        raise translate(exc, f"writing the mark {label!r}") from exc
    return mark
