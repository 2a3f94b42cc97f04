"""Database addresses written as URLs: ``mysql://user:password@host:port/database``.

Pure parsing, no I/O. The password never appears in ``repr`` or ``str``, so a DSN can be
logged or put in an error message safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import parse_qsl, unquote, urlsplit

from cdc.dsn_tls import MysqlTls, mysql_tls, postgres_options
from cdc.errors import ConfigError


class Engine(Enum):
    MYSQL = "mysql"
    POSTGRESQL = "postgresql"


_SCHEMES = {
    "mysql": Engine.MYSQL,
    "mariadb": Engine.MYSQL,
    "postgresql": Engine.POSTGRESQL,
    "postgres": Engine.POSTGRESQL,
}
_DEFAULT_PORTS = {Engine.MYSQL: 3306, Engine.POSTGRESQL: 5432}


@dataclass(frozen=True)
class Dsn:
    engine: Engine
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str | None = None
    options: tuple[tuple[str, str], ...] = ()

    def redacted(self) -> str:
        """The DSN as a URL with the password replaced, for logs and messages."""
        secret = ":***" if self.password else ""
        database = self.database or ""
        return f"{self.engine.value}://{self.user}{secret}@{self.host}:{self.port}/{database}"

    def __str__(self) -> str:
        return self.redacted()

    @property
    def mysql_tls(self) -> MysqlTls:
        """The TLS a MySQL/MariaDB DSN asks for (checked when the DSN was parsed)."""
        return mysql_tls(self.options)

    @property
    def postgres_options(self) -> dict[str, str]:
        """libpq settings from a PostgreSQL DSN's query string, TLS among them."""
        return postgres_options(self.options)

    def with_database(self, database: str | None) -> Dsn:
        return Dsn(self.engine, self.host, self.port, self.user, self.password, database,
                   self.options)


def parse_dsn(text: str) -> Dsn:
    """Parse a DSN, raising ConfigError with a hint that shows the expected form."""
    example = "mysql://user:password@127.0.0.1:3306/dbname or postgresql://user:password@host/db"
    parts = urlsplit(text.strip())
    engine = _SCHEMES.get(parts.scheme.lower())
    if engine is None:
        shown = parts.scheme or "(none)"
        raise ConfigError(
            f"unsupported DSN scheme {shown!r}",
            f"use one of {', '.join(sorted(_SCHEMES))}, for example {example}",
        )
    if not parts.hostname:
        raise ConfigError("the DSN names no host", f"write it as {example}")
    if not parts.username:
        raise ConfigError("the DSN names no user", f"write it as {example}")
    try:
        port = parts.port or _DEFAULT_PORTS[engine]
    except ValueError as exc:
        raise ConfigError(f"the DSN has a bad port: {exc}", f"write it as {example}") from None
    database = unquote(parts.path.lstrip("/")) or None
    options = tuple(parse_qsl(parts.query))
    if engine is Engine.MYSQL:
        mysql_tls(options)
    else:
        postgres_options(options)
    return Dsn(
        engine=engine,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        database=database,
        options=options,
    )
