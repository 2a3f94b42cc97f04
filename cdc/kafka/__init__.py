"""Kafka adapters: topics, the transactional changelog writer and changelog readers."""
