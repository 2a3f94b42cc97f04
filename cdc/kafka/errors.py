"""Kafka errors translated at the boundary into the project's own (arroyo's rule)."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from cdc.errors import CaptureFencedError, CdcError, ConfigError, RecordTooLargeError
from cdc.kafka.client_security import last_refusal


class KafkaUnavailableError(CdcError):
    """Kafka could not be reached or refused the operation for now; worth retrying."""


class TopicMissingError(KafkaUnavailableError):
    """A topic to read is not in Kafka: a mistyped prefix, or a topic deleted. Still a
    KafkaUnavailableError, so a running capture waits for it rather than stop."""

    exit_status = 2


_MISSING = {KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC,
            KafkaError.UNKNOWN_TOPIC_OR_PART}
_FENCED = {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}
# What the brokers' ACLs refuse: retrying cannot help, and no other capture is involved.
NOT_AUTHORIZED = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED: "the topic",
    KafkaError.GROUP_AUTHORIZATION_FAILED: "the consumer group",
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: "the cluster",
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "the transactional id",
}


class KafkaAccessDeniedError(ConfigError):
    """The brokers' ACLs refuse the user an operation the command needs."""
_TOO_LARGE = {KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.RECORD_LIST_TOO_LARGE}


def kafka_error_code(exc: BaseException) -> int | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        code: int = exc.args[0].code()
        return code
    return None


def missing_topic(exc: KafkaException, topic: str) -> TopicMissingError | None:
    """The error for reading a topic Kafka does not have, or None for any other failure."""
    if kafka_error_code(exc) not in _MISSING:
        return None
    return TopicMissingError(
        f"Kafka has no topic {topic}",
        "check kafka.topic_prefix and kafka.bootstrap_servers against the ones capture writes "
        "with; if the topic was deleted, the changes it held are gone: run capture (it "
        "starts a new changelog) and take a new base snapshot after it")


def translate(exc: KafkaException, doing: str, transactional_id: str = "") -> CdcError:
    error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
    code = error.code() if error is not None else None
    text = error.str() if error is not None else str(exc)
    if code in NOT_AUTHORIZED:
        return KafkaAccessDeniedError(
            f"Kafka refused access to {NOT_AUTHORIZED[code]} while {doing}: {text}",
            "grant the client's user the ACLs on the changelog's topics (Read, Write, Describe, "
            "Create), on its transactional id (Write, Describe) and on consumer groups (Read); "
            "docs/troubleshooting.md lists them")
    if code in _FENCED:
        return CaptureFencedError(
            f"another capture with transactional.id {transactional_id!r} took over the "
            f"changelog while {doing}; this one stopped and wrote nothing more",
            "run exactly one capture per source; the newest one keeps going",
        )
    if code in _TOO_LARGE:
        return RecordTooLargeError(
            f"Kafka refused a record as too large while {doing}: {text}",
            "raise kafka.max_record_bytes in the config and the changelog topic's "
            "max.message.bytes (and the broker's message.max.bytes) together",
        )
    refusal = last_refusal()
    if refusal is not None:
        return _refused(refusal, doing)
    return KafkaUnavailableError(
        f"Kafka failed while {doing}: {text}",
        "check that the brokers in kafka.bootstrap_servers are up and reachable from here; "
        "a running capture retries by itself",
    )


class KafkaRefusedConnectionError(ConfigError):
    """The brokers refused the connection itself: a certificate check or a SASL login.
    Retrying with the same settings cannot help."""


def _refused(refusal: KafkaError, doing: str) -> KafkaRefusedConnectionError:
    if refusal.code() == KafkaError._AUTHENTICATION:
        hint = ("check kafka.security: sasl.mechanisms, sasl.username, and the password "
                "(CDC_KAFKA__SECURITY__SASL_PASSWORD or kafka.security's sasl.password) of a "
                "user the brokers know")
    else:
        hint = ("check kafka.security: security.protocol must match the brokers' listener at "
                "kafka.bootstrap_servers, ssl.ca.location must name the CA that signed the "
                "brokers' certificates, and each certificate must name the host the client "
                "connects to")
    return KafkaRefusedConnectionError(
        f"Kafka refused the connection while {doing}: {refusal.str()}", hint)
