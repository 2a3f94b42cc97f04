"""Continuous capture of MySQL/MariaDB row changes into a Kafka changelog, and base snapshots."""

__version__ = "0.1.0"
