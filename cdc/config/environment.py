"""Environment overrides: ``CDC_<SECTION>__<KEY>=value`` replaces ``key`` in ``[section]``.

Pure: the environment is passed in as a mapping. Values arrive as text and are converted by
the type of the key they set: integers are parsed, lists are comma-separated, and a table
such as ``kafka.producer`` takes one variable per entry
(``CDC_KAFKA__PRODUCER__SASL_MECHANISM=PLAIN`` sets ``sasl.mechanism``). A value that does
not convert is passed on as text, so validation reports it with its key and variable name.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

PREFIX = "CDC_"
SEPARATOR = "__"

Location = tuple[str, ...]


def environment_overrides(
    environ: Mapping[str, str], model: type[BaseModel]
) -> tuple[dict[str, Any], dict[Location, str]]:
    """The nested values the environment sets, and for each key the variable that set it."""
    overrides: dict[str, Any] = {}
    origins: dict[Location, str] = {}
    for name, text in sorted(environ.items()):
        if not name.startswith(PREFIX) or SEPARATOR not in name:
            continue  # CDC_SOURCE_PORT and the like belong to the local stack, not to us
        section, _, key = name.removeprefix(PREFIX).lower().partition(SEPARATOR)
        field, _, entry = key.partition(SEPARATOR)
        annotation = _annotation(model, section, field)
        if entry and typing.get_origin(annotation) is dict:
            # librdkafka names are dotted; variable names cannot hold dots.
            table = overrides.setdefault(section, {}).setdefault(field, {})
            table[entry.replace("_", ".")] = text
            origins[(section, field, entry.replace("_", "."))] = name
            continue
        overrides.setdefault(section, {})[key] = _converted(text, annotation)
        origins[(section, key)] = name
    return overrides, origins


def merged(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with ``overrides`` laid over it, tables merged key by key."""
    result = dict(data)
    for key, value in overrides.items():
        below = result.get(key)
        result[key] = merged(below, value) if isinstance(below, dict) and isinstance(
            value, dict) else value
    return result


def _annotation(model: type[BaseModel], section: str, key: str) -> Any:
    section_info = model.model_fields.get(section)
    section_model = section_info.annotation if section_info is not None else None
    if not (isinstance(section_model, type) and issubclass(section_model, BaseModel)):
        return None
    info = section_model.model_fields.get(key)
    return info.annotation if info is not None else None


def _converted(text: str, annotation: Any) -> Any:
    if annotation is int:
        try:
            return int(text.strip())
        except ValueError:
            return text
    if typing.get_origin(annotation) is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    return text
