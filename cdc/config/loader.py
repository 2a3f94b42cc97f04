"""Reads ``cdc.toml``, lays the environment over it, reads the password file, validates.

The environment is a parameter, so tests pass a plain dict and nothing reads ``os.environ``
behind the caller's back.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cdc.config.environment import environment_overrides, merged
from cdc.config.models import CaptureConfig
from cdc.config.password import with_password_from_file
from cdc.config.problems import config_error
from cdc.errors import ConfigError
from cdc.kafka.client_security import use_security


def load_config(path: str | Path, environ: Mapping[str, str]) -> CaptureConfig:
    """The validated configuration, or a ConfigError naming every problem and its key.

    It also sets this process's Kafka TLS and SASL settings (``kafka.security``), which
    every Kafka client the commands make then uses."""
    path = Path(path)
    overrides, origins = environment_overrides(environ, CaptureConfig)
    data = merged(read_toml(path), overrides)
    data = with_password_from_file(data, path.parent)
    data = _with_paths_from(data, path.parent)
    try:
        config = CaptureConfig.model_validate(data)
    except ValidationError as exc:
        # The error holds the raw input, DSN and password included: never chain it.
        raise config_error(exc, path, CaptureConfig, origins) from None
    use_security(config.kafka.security)
    return config


def _with_paths_from(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Relative snapshot paths are relative to the config file, not to the working directory."""
    snapshots = data.get("snapshots", {})
    if not isinstance(snapshots, dict):
        return data  # validation reports it
    resolved = dict(snapshots)
    store = snapshots.get("store", "snapshots")
    if isinstance(store, str) and "://" not in store and not Path(store).is_absolute():
        resolved["store"] = str((folder / store).resolve())
    key_file = snapshots.get("encryption_key_file")
    if isinstance(key_file, str) and not Path(key_file).is_absolute():
        resolved["encryption_key_file"] = str((folder / key_file).resolve())
    return _with_kafka_paths_from({**data, "snapshots": resolved}, folder)


def _with_kafka_paths_from(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Relative TLS file paths in kafka.security (ssl.ca.location and the like) are
    relative to the config file too."""
    kafka = data.get("kafka")
    security = kafka.get("security") if isinstance(kafka, dict) else None
    if not isinstance(kafka, dict) or not isinstance(security, dict):
        return data  # none given, or validation reports it
    resolved = {name: str((folder / value).resolve())
                if name.endswith(".location") and isinstance(value, str) and value
                and not Path(value).is_absolute() else value
                for name, value in security.items()}
    return {**data, "kafka": {**kafka, "security": resolved}}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist",
                          "pass the path with --config; examples/cdc.toml shows every "
                          "section") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory",
                          "pass the path of the TOML file with --config") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}",
                          "make it readable by the user the service runs as") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}",
                          'fix the syntax there; strings need quotes, e.g. '
                          'dsn = "mysql://cdc_capture@127.0.0.1:3306/"') from None
