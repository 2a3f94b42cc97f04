"""Turns pydantic's validation errors into one ConfigError an operator can act on.

Each problem names its key (``source.server_id``), says what is wrong in plain words and,
where it helps, what was found; values of secret keys are never shown.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from cdc.errors import ConfigError

Location = tuple[str, ...]

_SECRET_KEYS = {("source", "dsn"), ("source", "password"), ("kafka", "producer"),
                ("snapshots", "s3_secret_access_key")}
_TYPE_NAMES = {
    "int_type": "an integer",
    "string_type": "a string (in quotes)",
    "list_type": 'a list of strings, e.g. ["payments"]',
    "dict_type": "a table",
    "model_type": "a table",
    "bool_type": "true or false",
}


class InvalidValueError(ValueError):
    """Raised by a field validator: ``message`` says what is wrong, ``hint`` how to fix it.

    ``key`` names the field when a check spanning several fields is raised by the section.
    """

    def __init__(self, message: str, hint: str = "", key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.key = key


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    hint: str


def config_error(exc: ValidationError, path: Path, model: type[BaseModel],
                 origins: Mapping[Location, str]) -> ConfigError:
    """One error for every problem pydantic found, each with its key and hint."""
    problems = [_problem(error, model, origins) for error in exc.errors()]
    return problems_error(path, problems)


def problems_error(path: Path, problems: Sequence[Problem]) -> ConfigError:
    if len(problems) == 1:
        (only,) = problems
        return ConfigError(f"{path}: {only.key}: {only.message}", only.hint)
    lines = "\n".join(f"  {p.key}: {p.message}" for p in problems)
    hints = "\n".join(f"  {p.key}: {p.hint}" for p in problems if p.hint)
    return ConfigError(f"{path}: {len(problems)} problems\n{lines}", f"fix each:\n{hints}")


def _problem(error: ErrorDetails, model: type[BaseModel],
             origins: Mapping[Location, str]) -> Problem:
    loc: Location = tuple(str(part) for part in error["loc"])
    kind = error["type"]
    ctx = error.get("ctx", {})
    cause = ctx.get("error")
    if isinstance(cause, InvalidValueError) and cause.key:
        loc = (*loc, cause.key)
    key = ".".join(loc) if loc else "(top level)"
    origin = _origin(loc, origins)
    if origin:
        key = f"{key} (from {origin})"
    got = _shown_input(loc, error.get("input"))
    # An entry of a table such as kafka.producer is described by the table's field.
    info = _field_info(model, loc) or _field_info(model, loc[:2])
    described = info.description if info is not None and info.description else ""

    if isinstance(cause, InvalidValueError):
        return Problem(key, cause.message, cause.hint or described)
    if kind == "missing":
        return _missing(key, loc, described)
    if kind == "extra_forbidden":
        return _unknown(key, loc, model)
    if kind in _TYPE_NAMES:
        return Problem(key, f"must be {_TYPE_NAMES[kind]}{got}", described)
    if kind == "too_short":
        return Problem(key, f"must not be empty{got}", described)
    if kind == "literal_error":
        return Problem(key, f"must be one of {ctx.get('expected')}{got}", described)
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        word = "at least" if kind == "greater_than_equal" else "more than"
        return Problem(key, f"must be {word} {bound}{got}", described)
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        word = "at most" if kind == "less_than_equal" else "less than"
        return Problem(key, f"must be {word} {bound}{got}", described)
    return Problem(key, f"{error['msg']}{got}", described)


def _missing(key: str, loc: Location, described: str) -> Problem:
    if len(loc) == 1:
        return Problem(f"[{loc[0]}]", "the section is missing",
                       f"add a [{loc[0]}] section; examples/cdc.toml shows every key")
    env = "CDC_" + "__".join(part.upper() for part in loc)
    hint = f"set {loc[-1]} under [{'.'.join(loc[:-1])}] or in the environment as {env}"
    return Problem(key, "is required but missing", f"{hint}; {described}" if described else hint)


def _unknown(key: str, loc: Location, model: type[BaseModel]) -> Problem:
    known = _known_keys(model, loc[:-1])
    close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
    if len(loc) == 1:
        section_of = [s for s in known if loc[0] in _known_keys(model, (s,))]
        if section_of:
            return Problem(key, f"unknown section; {loc[0]} is a key of [{section_of[0]}]",
                           f"move {loc[0]} under [{section_of[0]}]")
    if len(loc) == 1:
        message, known_as = "unknown section", "the sections are"
    else:
        message, known_as = "unknown key", f"the keys of [{'.'.join(loc[:-1])}] are"
    if close:
        message += f"; did you mean {close[0]!r}?"
    return Problem(key, message, f"{known_as}: {', '.join(known)}")


def _model_at(model: type[BaseModel], loc: Location) -> type[BaseModel] | None:
    """The section model found by following ``loc`` down from ``model``, if there is one."""
    current: type[BaseModel] | None = model
    for part in loc:
        info = current.model_fields.get(part) if current is not None else None
        annotation = info.annotation if info is not None else None
        current = annotation if isinstance(annotation, type) and issubclass(
            annotation, BaseModel) else None
    return current


def _known_keys(model: type[BaseModel], loc: Location) -> list[str]:
    section = _model_at(model, loc)
    return list(section.model_fields) if section is not None else []


def _field_info(model: type[BaseModel], loc: Location) -> FieldInfo | None:
    section = _model_at(model, loc[:-1]) if loc else None
    return section.model_fields.get(loc[-1]) if section is not None else None


def _origin(loc: Location, origins: Mapping[Location, str]) -> str | None:
    """The environment variable that set ``loc`` (or a key inside it, for a section)."""
    for length in range(len(loc), 0, -1):
        if loc[:length] in origins:
            return origins[loc[:length]]
    below = sorted(name for key, name in origins.items() if loc and key[:len(loc)] == loc)
    return ", ".join(below) or None


def _shown_input(loc: Location, value: object) -> str:
    if loc[:2] in _SECRET_KEYS or isinstance(value, dict):
        return ""
    text = repr(value)
    return f" (got {text if len(text) <= 60 else text[:57] + '...'})"
