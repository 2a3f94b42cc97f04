"""The drills topic: every restore drill's outcome, one record per drill keyed by its id, in a
compacted topic beside the changelog (a drill's "running" record is replaced by its result)."""

from __future__ import annotations

from confluent_kafka import KafkaException, Producer

from cdc.config.models import CaptureConfig
from cdc.drill_record import DrillRecord
from cdc.errors import CdcError
from cdc.kafka.client_security import secured
from cdc.kafka.errors import translate
from cdc.kafka.reader import read_committed
from cdc.kafka.topics import TIMEOUT_S, ensure_compacted_topic, topic_exists


def drills_topic(config: CaptureConfig) -> str:
    return f"{config.kafka.topic_prefix}.drills"


def read_drills(config: CaptureConfig) -> list[DrillRecord]:
    """Every drill recorded, oldest first, each in its latest state; none when no drill ran."""
    bootstrap, topic = config.kafka.bootstrap_servers, drills_topic(config)
    if not topic_exists(bootstrap, topic):
        return []
    latest: dict[str, DrillRecord] = {}
    for stored in read_committed(bootstrap, topic):
        record = DrillRecord.from_json(stored.value)
        latest.pop(record.drill_id, None)  # a drill's later record moves it to its end
        latest[record.drill_id] = record
    return sorted(latest.values(), key=lambda record: record.started_at)


def write_drill(config: CaptureConfig, record: DrillRecord) -> None:
    bootstrap, topic = config.kafka.bootstrap_servers, drills_topic(config)
    ensure_compacted_topic(bootstrap, topic, replication_factor=config.kafka.replication_factor,
                           min_insync_replicas=config.kafka.min_insync_replicas)
    producer = Producer(secured({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                                 "acks": "all"}))
    try:
        producer.produce(topic, record.to_json(), record.drill_id.encode())
        if producer.flush(TIMEOUT_S):
            raise CdcError(f"the outcome of drill {record.drill_id} was not written to Kafka "
                           "in time", "check kafka.bootstrap_servers; the drill itself ran")
    except KafkaException as exc:
        raise translate(exc, f"recording drill {record.drill_id}") from exc
