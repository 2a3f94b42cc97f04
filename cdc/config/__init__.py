"""The capture configuration: ``load_config(path, environ)`` gives a validated, frozen
``CaptureConfig``; see docs/configuration.md for every key."""

from cdc.config.loader import load_config
from cdc.config.models import CaptureConfig, CaptureSettings, KafkaSettings, SourceSettings
from cdc.config.table_filter import SYSTEM_SCHEMAS, TableFilter, TablePattern

__all__ = [
    "SYSTEM_SCHEMAS",
    "CaptureConfig",
    "CaptureSettings",
    "KafkaSettings",
    "SourceSettings",
    "TableFilter",
    "TablePattern",
    "load_config",
]
