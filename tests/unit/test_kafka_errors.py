"""Kafka's failures translated at the boundary: a topic that is not there is named, with the
fix, apart from a broker out of reach."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from cdc.errors import CaptureFencedError
from cdc.kafka.errors import (
    KafkaAccessDeniedError,
    KafkaUnavailableError,
    TopicMissingError,
    missing_topic,
    translate,
)


def test_a_missing_topic_is_named_and_stops_a_command_with_status_2() -> None:
    for code in (KafkaError._UNKNOWN_PARTITION, KafkaError.UNKNOWN_TOPIC_OR_PART):
        error = missing_topic(KafkaException(KafkaError(code)), "cdc.x.changelog")
        assert isinstance(error, TopicMissingError)
        # Still retriable for a running capture, which waits for the topic.
        assert isinstance(error, KafkaUnavailableError)
        assert error.message == "Kafka has no topic cdc.x.changelog"
        assert "kafka.topic_prefix" in error.hint
        assert error.exit_status == 2


def test_other_failures_are_not_a_missing_topic() -> None:
    down = KafkaException(KafkaError(KafkaError._TRANSPORT))
    assert missing_topic(down, "t") is None
    error = translate(down, "listing topics")
    assert "reachable from here" in error.hint
    assert "a running capture retries by itself" in error.hint


def test_an_acl_refusal_is_named_as_one_and_not_taken_for_another_capture() -> None:
    for code, what in ((KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "transactional id"),
                       (KafkaError.TOPIC_AUTHORIZATION_FAILED, "the topic"),
                       (KafkaError.GROUP_AUTHORIZATION_FAILED, "consumer group")):
        error = translate(KafkaException(KafkaError(code)), "committing", "cdc-x")
        assert isinstance(error, KafkaAccessDeniedError)
        assert not isinstance(error, (CaptureFencedError, KafkaUnavailableError))
        assert error.message.startswith("Kafka refused access to ")
        assert what in error.message
        assert "grant the client's user the ACLs" in error.hint
        assert error.exit_status == 2


def test_a_fenced_producer_is_another_capture() -> None:
    error = translate(KafkaException(KafkaError(KafkaError._FENCED)), "committing", "cdc-x")
    assert isinstance(error, CaptureFencedError)
