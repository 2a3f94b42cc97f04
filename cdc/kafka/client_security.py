"""The TLS and SASL settings every Kafka client of this process uses, and the last refusal.

Loading a configuration sets them from ``kafka.security``; every producer, consumer and
admin client is built through ``secured``, so no client talks to the brokers with other
settings than the rest. A broker that refuses the handshake (a certificate, a SASL login)
tells only the client's error callback; the refusal is kept here so that the timeout that
follows can be reported with its cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError

_security: dict[str, str] = {}
_refusals: list[KafkaError] = []
_REFUSALS = {KafkaError._SSL, KafkaError._AUTHENTICATION}


def use_security(settings: Mapping[str, str]) -> None:
    _security.clear()
    _security.update(settings)


def secured(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with the process's TLS and SASL settings, and a callback that keeps the
    brokers' refusals (unless the settings bring their own, which must call ``remember``)."""
    return {"error_cb": remember, **settings, **_security}


def remember(error: KafkaError) -> None:
    if error.code() in _REFUSALS:
        _refusals[:] = [error]


def serve_refusals(client: Any) -> None:
    """Run the error callbacks a failed call left queued. The refusals reach the callback
    only from ``poll``; on an admin client, or a consumer with nothing assigned yet, that
    serves callbacks and consumes nothing."""
    client.poll(0)


def last_refusal() -> KafkaError | None:
    return _refusals[-1] if _refusals else None
