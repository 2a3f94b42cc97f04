"""A broker's refusal of the TLS handshake or the SASL login is named, not taken for an
outage: it reaches only the client's error callback, and the call that times out after it
is reported with that cause."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, KafkaException

from cdc.kafka import client_security
from cdc.kafka.errors import KafkaRefusedConnectionError, KafkaUnavailableError, translate


@pytest.fixture(autouse=True)
def no_refusal() -> Iterator[None]:
    client_security._refusals.clear()
    yield
    client_security._refusals.clear()


def timed_out() -> KafkaException:
    return KafkaException(KafkaError(KafkaError._TIMED_OUT, "Failed to get watermark offsets"))


def test_a_timeout_without_a_refusal_is_an_outage() -> None:
    error = translate(timed_out(), "reading the offsets of t")
    assert type(error) is KafkaUnavailableError
    assert "brokers" in error.hint


def test_a_refused_certificate_is_named_with_the_tls_settings_to_check() -> None:
    client_security.remember(KafkaError(
        KafkaError._SSL, "ssl://127.0.0.1:19094/bootstrap: SSL handshake failed: "
        "certificate verify failed: IP address mismatch"))
    error = translate(timed_out(), "reading the offsets of t")
    assert isinstance(error, KafkaRefusedConnectionError)
    assert error.exit_status == 2
    assert "certificate verify failed" in error.message
    assert "ssl.ca.location" in error.hint
    assert "name the host" in error.hint


def test_a_refused_login_is_named_with_the_sasl_settings_to_check() -> None:
    client_security.remember(KafkaError(
        KafkaError._AUTHENTICATION, "SASL authentication error: Authentication failed during "
        "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"))
    error = translate(timed_out(), "listing topics")
    assert isinstance(error, KafkaRefusedConnectionError)
    assert "invalid credentials" in error.message
    assert "CDC_KAFKA__SECURITY__SASL_PASSWORD" in error.hint


def test_other_client_errors_are_not_kept() -> None:
    client_security.remember(KafkaError(KafkaError._TRANSPORT, "Connection refused"))
    assert client_security.last_refusal() is None
