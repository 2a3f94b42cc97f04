"""Creates the changelog and schemas topics when missing, and refuses unsafe existing ones."""

from __future__ import annotations

import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
)

from cdc.errors import ConfigError
from cdc.kafka.client_security import secured, serve_refusals
from cdc.kafka.errors import translate

TIMEOUT_S = 30.0


def changelog_topic_config(min_insync_replicas: int, max_record_bytes: int) -> dict[str, str]:
    # The changelog is the backup: nothing may ever age out or be compacted away.
    return {
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "cleanup.policy": "delete",
        "min.insync.replicas": str(min_insync_replicas),
        "max.message.bytes": str(max_record_bytes),
        "unclean.leader.election.enable": "false",
    }


def schemas_topic_config(min_insync_replicas: int) -> dict[str, str]:
    return {
        "cleanup.policy": "compact",
        "min.insync.replicas": str(min_insync_replicas),
        "retention.ms": "-1",
    }


def ensure_topics(
    bootstrap_servers: str, *, changelog: str, schemas: str, replication_factor: int,
    min_insync_replicas: int, max_record_bytes: int,
) -> None:
    admin = AdminClient(secured({"bootstrap.servers": bootstrap_servers}))
    try:
        existing = admin.list_topics(timeout=TIMEOUT_S).topics
    except KafkaException as exc:
        serve_refusals(admin)
        raise translate(exc, "listing topics") from exc
    wanted = {
        changelog: changelog_topic_config(min_insync_replicas, max_record_bytes),
        schemas: schemas_topic_config(min_insync_replicas),
    }
    missing = [NewTopic(name, num_partitions=1, replication_factor=replication_factor,
                        config=config)
               for name, config in wanted.items() if name not in existing]
    if missing:
        for name, future in admin.create_topics(missing, operation_timeout=TIMEOUT_S).items():
            try:
                future.result(timeout=TIMEOUT_S)
            except KafkaException as exc:
                if "already exists" not in str(exc).lower():
                    serve_refusals(admin)
                    raise translate(exc, f"creating topic {name}") from exc
        _wait_for_leaders(admin, [topic.topic for topic in missing])
    if changelog in existing:
        _refuse_unsafe_changelog(admin, changelog, len(existing[changelog].partitions))


def topic_exists(bootstrap_servers: str, topic: str) -> bool:
    admin = AdminClient(secured({"bootstrap.servers": bootstrap_servers}))
    try:
        return topic in admin.list_topics(timeout=TIMEOUT_S).topics
    except KafkaException as exc:
        serve_refusals(admin)
        raise translate(exc, "listing topics") from exc


def ensure_compacted_topic(bootstrap_servers: str, topic: str, *, replication_factor: int,
                           min_insync_replicas: int) -> None:
    """A compacted topic (one current value per key), created when missing."""
    admin = AdminClient(secured({"bootstrap.servers": bootstrap_servers}))
    try:
        existing = admin.list_topics(timeout=TIMEOUT_S).topics
    except KafkaException as exc:
        serve_refusals(admin)
        raise translate(exc, "listing topics") from exc
    if topic in existing:
        return
    new = NewTopic(topic, num_partitions=1, replication_factor=replication_factor,
                   config=schemas_topic_config(min_insync_replicas))
    for name, future in admin.create_topics([new], operation_timeout=TIMEOUT_S).items():
        try:
            future.result(timeout=TIMEOUT_S)
        except KafkaException as exc:
            if "already exists" not in str(exc).lower():
                serve_refusals(admin)
                raise translate(exc, f"creating topic {name}") from exc
    _wait_for_leaders(admin, [topic])


def _wait_for_leaders(admin: AdminClient, topics: list[str]) -> None:
    """A topic just created has no leader for a moment; reading its offsets then fails."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=TIMEOUT_S).topics
        if all(name in metadata and metadata[name].partitions
               and all(p.leader >= 0 for p in metadata[name].partitions.values())
               for name in topics):
            return
        time.sleep(0.1)


def _refuse_unsafe_changelog(admin: AdminClient, topic: str, partitions: int) -> None:
    if partitions != 1:
        raise ConfigError(
            f"changelog topic {topic} has {partitions} partitions",
            "the changelog needs exactly one partition to keep the source's commit order; "
            "use a new kafka.topic_prefix",
        )
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    try:
        configs = admin.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
    except KafkaException as exc:
        serve_refusals(admin)
        raise translate(exc, f"reading the settings of topic {topic}") from exc
    policy = configs["cleanup.policy"].value if "cleanup.policy" in configs else "delete"
    if policy != "delete":
        # Compaction keeps one record per key: it would delete committed row changes, and
        # the broker refuses the changelog's records without keys outright.
        raise ConfigError(
            f"changelog topic {topic} has cleanup.policy={policy}: compaction would delete "
            "row changes, and the broker refuses the changelog's records",
            f"the changelog is the backup; set it with: kafka-configs.sh --alter "
            f"--entity-type topics --entity-name {topic} --add-config cleanup.policy=delete")
    for key in ("retention.ms", "retention.bytes"):
        value = configs[key].value if key in configs else "-1"
        if value != "-1":
            raise ConfigError(
                f"changelog topic {topic} has {key}={value}: old changes would be deleted",
                f"the changelog is the backup; set it with: kafka-configs.sh --alter "
                f"--entity-type topics --entity-name {topic} --add-config {key}=-1",
            )
