"""The scratch target of a restore drill: created for the drill and dropped after it, and
what a drill killed midway left dropped by the next one.

Into PostgreSQL a drill restores into a database of its own, ``cdc_drill_<id>``, created on
the target server. Into MySQL/MariaDB, whose restore keeps the source's database names, the
server must be one kept for drills: the drill first records the databases it will create in
``cdc_drill.scratch``, so that the next drill drops exactly those and nothing an operator put
there. One drill at a time per target server, held by a session lock that a killed drill's
connection releases with it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from cdc.dsn import Dsn, Engine
from cdc.errors import CdcError, ConfigError
from replayer.apply_mysql import POSITION_DATABASE, connect_target, require_empty_mysql
from replayer.target_postgres import connect_postgres

SCRATCH_PREFIX = "cdc_drill_"
MARKER_DATABASE = "cdc_drill"
_LOCK = "cdc_drill"


class DrillBusyError(CdcError):
    exit_status = 2


class Scratch(ABC):
    """A drill's hold on its target server: ``clean`` drops what earlier drills left,
    ``create`` makes the scratch and returns the DSN to restore into, ``drop`` removes it."""

    def __init__(self, server: Dsn, drill_id: str) -> None:
        self.server = server
        self.drill_id = drill_id
        self.connection: Any = None

    def __enter__(self) -> Scratch:
        self.connection = self._connect_locked()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()

    @abstractmethod
    def _connect_locked(self) -> Any: ...

    @abstractmethod
    def clean(self) -> list[str]:
        """Drop what drills killed before their end left; the names dropped."""

    @abstractmethod
    def create(self, databases: Iterable[str]) -> Dsn: ...

    @abstractmethod
    def drop(self) -> None: ...

    @property
    @abstractmethod
    def name(self) -> str:
        """What the scratch is called, for the drill's record."""

    def _busy(self) -> DrillBusyError:
        return DrillBusyError(f"another drill is running against {self.server.redacted()}",
                              "wait for it to end; drills into one server run one at a time")


class PostgresScratch(Scratch):
    @property
    def name(self) -> str:
        return f"{SCRATCH_PREFIX}{self.drill_id}"

    def _connect_locked(self) -> Any:
        connection = connect_postgres(self.server)
        connection.autocommit = True
        cursor = connection.cursor()
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (_LOCK,))
        if not cursor.fetchone()[0]:
            connection.close()
            raise self._busy()
        return connection

    def clean(self) -> list[str]:
        cursor = self.connection.cursor()
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
                       (SCRATCH_PREFIX.replace("_", "\\_") + "%",))
        names = [str(name) for (name,) in cursor.fetchall()]
        for name in names:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return names

    def create(self, databases: Iterable[str]) -> Dsn:
        self.connection.cursor().execute(
            f"CREATE DATABASE \"{self.name}\" ENCODING 'UTF8' TEMPLATE template0")
        return self.server.with_database(self.name)

    def drop(self) -> None:
        self.connection.cursor().execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class MysqlScratch(Scratch):
    @property
    def name(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def _connect_locked(self) -> Any:
        connection = connect_target(self.server)
        connection.autocommit(True)
        cursor = connection.cursor()
        cursor.execute("SELECT GET_LOCK(%s, 0)", (_LOCK,))
        if cursor.fetchone()[0] != 1:
            connection.close()
            raise self._busy()
        return connection

    def clean(self) -> list[str]:
        cursor = self.connection.cursor()
        cursor.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE "
                       "SCHEMA_NAME = %s", (MARKER_DATABASE,))
        if not cursor.fetchall():
            return []
        # A drill killed between creating the marker and filling it created nothing else.
        cursor.execute("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND "
                       "TABLE_NAME = 'scratch'", (MARKER_DATABASE,))
        names: list[str] = []
        if cursor.fetchall():
            cursor.execute(f"SELECT name FROM {MARKER_DATABASE}.scratch ORDER BY name")
            names = [str(name) for (name,) in cursor.fetchall()]
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP DATABASE {MARKER_DATABASE}")
        return names

    def create(self, databases: Iterable[str]) -> Dsn:
        cursor = self.connection.cursor()
        cursor.execute(f"SHOW DATABASES LIKE '{POSITION_DATABASE}'")
        if cursor.fetchall():
            raise ConfigError(
                f"the drill target {self.server.redacted()} holds {POSITION_DATABASE}, the "
                "position of a restore or migration that is not a drill's",
                "give drills a MySQL/MariaDB server of their own (or a PostgreSQL one, where "
                "each drill gets a scratch database)")
        try:
            require_empty_mysql(self.connection)
        except ConfigError as exc:
            raise ConfigError(f"drill target {self.server.redacted()}: {exc.message}",
                              "give drills a MySQL/MariaDB server of their own, holding no "
                              "databases (or a PostgreSQL one, where each drill gets a scratch "
                              "database)") from None
        names = sorted({*databases, POSITION_DATABASE})
        cursor.execute(f"CREATE DATABASE {MARKER_DATABASE}")
        cursor.execute(f"CREATE TABLE {MARKER_DATABASE}.scratch (name VARCHAR(64) PRIMARY KEY)")
        cursor.executemany(f"INSERT INTO {MARKER_DATABASE}.scratch (name) VALUES (%s)",
                           [(name,) for name in names])
        return self.server

    def drop(self) -> None:
        self.clean()


def scratch_for(server: Dsn, drill_id: str) -> Scratch:
    if server.engine is Engine.POSTGRESQL:
        return PostgresScratch(server, drill_id)
    return MysqlScratch(server, drill_id)
