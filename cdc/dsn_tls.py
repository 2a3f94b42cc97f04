"""TLS written into a DSN's query string: what each engine accepts and what it means.

Pure: the options are checked when the DSN is parsed, so a misspelt option or mode is a
config error at start-up and never a connection that quietly goes unencrypted.

MySQL/MariaDB take the MySQL client's names: ``ssl-mode`` (DISABLED, the default; REQUIRED;
VERIFY_CA; VERIFY_IDENTITY), ``ssl-ca``, ``ssl-cert`` and ``ssl-key``. PostgreSQL takes
libpq's own: ``sslmode``, ``sslrootcert``, ``sslcert``, ``sslkey``, ``sslcrl``, ``sslsni``,
handed to libpq unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from cdc.errors import ConfigError


class MysqlSslMode(Enum):
    DISABLED = "DISABLED"
    REQUIRED = "REQUIRED"
    VERIFY_CA = "VERIFY_CA"
    VERIFY_IDENTITY = "VERIFY_IDENTITY"

    @property
    def verifies_certificate(self) -> bool:
        return self in (MysqlSslMode.VERIFY_CA, MysqlSslMode.VERIFY_IDENTITY)


@dataclass(frozen=True)
class MysqlTls:
    mode: MysqlSslMode = MysqlSslMode.DISABLED
    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    @property
    def enabled(self) -> bool:
        return self.mode is not MysqlSslMode.DISABLED


MYSQL_OPTIONS = ("ssl-mode", "ssl-ca", "ssl-cert", "ssl-key")
POSTGRES_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslsni")
_POSTGRES_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_TLS_EXAMPLE = "?ssl-mode=VERIFY_IDENTITY&ssl-ca=/path/to/ca.pem"


def mysql_tls(options: Sequence[tuple[str, str]]) -> MysqlTls:
    """The TLS a MySQL/MariaDB DSN asks for. ``ssl-ca`` alone means VERIFY_IDENTITY, as a CA
    is given only to be checked against."""
    given = _unique(options, MYSQL_OPTIONS, _TLS_EXAMPLE)
    ca, cert, key = given.get("ssl-ca"), given.get("ssl-cert"), given.get("ssl-key")
    if (cert is None) != (key is None):
        raise ConfigError("the DSN gives one of ssl-cert and ssl-key without the other",
                          "a client certificate needs both: ssl-cert=<cert.pem>&ssl-key=<key.pem>")
    mode_text = given.get("ssl-mode")
    if mode_text is None:
        mode = MysqlSslMode.VERIFY_IDENTITY if ca or cert else MysqlSslMode.DISABLED
    else:
        try:
            mode = MysqlSslMode(mode_text.strip().upper().replace("-", "_"))
        except ValueError:
            raise ConfigError(
                f"the DSN's ssl-mode {mode_text!r} is not one this tool knows",
                f"use one of {', '.join(m.value for m in MysqlSslMode)}, for example "
                f"{_TLS_EXAMPLE}") from None
    if mode is MysqlSslMode.DISABLED and (ca or cert):
        raise ConfigError("the DSN names TLS files but ssl-mode=DISABLED",
                          "drop ssl-mode=DISABLED to use them, or drop the files")
    return MysqlTls(mode, ca, cert, key)


def postgres_options(options: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The libpq connection settings a PostgreSQL DSN gives."""
    example = "?sslmode=verify-full&sslrootcert=/path/to/ca.pem"
    given = _unique(options, POSTGRES_OPTIONS, example)
    mode = given.get("sslmode")
    if mode is not None and mode not in _POSTGRES_SSLMODES:
        raise ConfigError(f"the DSN's sslmode {mode!r} is not one libpq knows",
                          f"use one of {', '.join(_POSTGRES_SSLMODES)}, for example {example}")
    return given


def _unique(options: Sequence[tuple[str, str]], known: tuple[str, ...],
            example: str) -> dict[str, str]:
    given: dict[str, str] = {}
    for name, value in options:
        if name not in known:
            raise ConfigError(f"the DSN has an option this tool does not know: {name!r}",
                              f"the options it takes are {', '.join(known)}, for example "
                              f"{example}")
        if name in given:
            raise ConfigError(f"the DSN gives {name!r} twice", "give each option once")
        given[name] = value
    return given
