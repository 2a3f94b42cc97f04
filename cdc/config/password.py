"""Where the source password comes from, in order: the ``password`` key (normally set as
``CDC_SOURCE__PASSWORD`` in the environment), the file named by ``password_file``, the DSN.

The file is read here, at load time, so a missing or unreadable file stops the start with
its key and path; the password itself is never put into a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdc.errors import ConfigError


def with_password_from_file(data: dict[str, Any], config_dir: Path) -> dict[str, Any]:
    """``data`` with ``source.password`` filled from ``source.password_file`` when the
    password is not given directly. A relative path is relative to the config file."""
    source = data.get("source")
    if not isinstance(source, dict) or source.get("password") is not None:
        return data
    named = source.get("password_file")
    if not isinstance(named, str):
        return data  # absent, or a wrong type that validation reports with its key
    path = config_dir / Path(named).expanduser()
    return {**data, "source": {**source, "password": read_password_file(path)}}


def read_password_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"source.password_file: {path} does not exist",
                          "write the capture user's password into that file (mode 600), "
                          "or set CDC_SOURCE__PASSWORD instead") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError(f"source.password_file: cannot read {path}: {reason}",
                          "make the file readable by the user capture runs as") from None
    # Editors and 'echo' add a final newline that is not part of the password.
    password = text.removesuffix("\n").removesuffix("\r")
    if not password:
        raise ConfigError(f"source.password_file: {path} is empty",
                          "write the capture user's password into that file")
    return password
