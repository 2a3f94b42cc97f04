"""Deleting the topics a benchmark run created, so repeated runs leave nothing behind."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

TIMEOUT_S = 30.0


def delete_topics(bootstrap_servers: str, names: Iterable[str]) -> list[str]:
    """Delete the named topics that exist; return the problems met (none is fatal: the
    measurements are already taken)."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    problems: list[str] = []
    try:
        existing = admin.list_topics(timeout=TIMEOUT_S).topics
    except KafkaException as exc:
        return [f"listing topics: {exc}"]
    doomed = [name for name in names if name in existing]
    if not doomed:
        return problems
    for name, future in admin.delete_topics(doomed, operation_timeout=TIMEOUT_S).items():
        try:
            future.result(timeout=TIMEOUT_S)
        except KafkaException as exc:
            problems.append(f"deleting {name}: {exc}")
    return problems
