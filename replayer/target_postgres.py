"""A PostgreSQL target's session and the replayer's bookkeeping in it (schema
``cdc_replayer``): the position applied, the snapshot files loaded, and each table's version,
all changed in the same transactions as the rows (PostgreSQL's DDL is transactional too)."""

from __future__ import annotations

from typing import Any

import psycopg2

from cdc.avro.schema_topic import table_schema_from_bytes, table_schema_to_bytes
from cdc.changes import TableSchema
from cdc.dsn import Dsn
from cdc.errors import ConfigError
from cdc.tls_settings import is_tls_failure, libpq_options, postgres_tls_hint
from replayer.applier import POSITION_SCHEMA, AppliedPosition
from replayer.follower_status import FOLLOWER_DDL

_BOOKKEEPING = (
    f"CREATE SCHEMA IF NOT EXISTS {POSITION_SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {POSITION_SCHEMA}.applied_position ("
    " source text PRIMARY KEY, changelog_offset bigint NOT NULL, gtid text NOT NULL,"
    " commit_time_us bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
    f"CREATE TABLE IF NOT EXISTS {POSITION_SCHEMA}.loaded_files ("
    " snapshot_id text NOT NULL, file_name text NOT NULL, loaded_rows bigint NOT NULL,"
    " PRIMARY KEY (snapshot_id, file_name))",
    # The table version the PostgreSQL table has now, and DDL seen since that the next
    # version's shape change may need (the defaults of added columns).
    f"CREATE TABLE IF NOT EXISTS {POSITION_SCHEMA}.table_shapes ("
    " database_name text NOT NULL, table_name text NOT NULL, shape bytea NOT NULL,"
    " pending_ddl text[] NOT NULL DEFAULT '{}', PRIMARY KEY (database_name, table_name))",
    FOLLOWER_DDL,
)
_SYSTEM_SCHEMAS = ("information_schema", "public", POSITION_SCHEMA)


def connect_postgres(dsn: Dsn) -> Any:
    try:
        connection = psycopg2.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                                      password=dsn.password or "",
                                      dbname=dsn.database or dsn.user, connect_timeout=10,
                                      application_name="replayer", **libpq_options(dsn))
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
        if is_tls_failure(reason):
            raise ConfigError(f"TLS to the target {dsn.redacted()} failed: {reason}",
                              postgres_tls_hint(dsn, "--target")) from None
        raise ConfigError(f"cannot connect to the target {dsn.redacted()}: {reason}",
                          "check --target: host, port, user, password and database") from None
    encoding = connection.encoding
    if encoding not in ("UTF8", "UNICODE"):
        connection.close()
        raise ConfigError(f"the target database {dsn.database} uses the encoding {encoding}",
                          "create the target database with ENCODING 'UTF8'")
    return connection


def prepare_postgres(connection: Any) -> None:
    """A session in UTC with the bookkeeping tables in place."""
    cursor = connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.execute("SET DateStyle = 'ISO'")
    cursor.execute("SET IntervalStyle = 'postgres'")
    for statement in _BOOKKEEPING:
        cursor.execute(statement)
    connection.commit()


def require_empty_postgres(connection: Any) -> None:
    cursor = connection.cursor()
    cursor.execute(
        "SELECT n.nspname || coalesce('.' || c.relname, '') FROM pg_namespace n LEFT JOIN"
        " pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm')"
        " WHERE n.nspname NOT LIKE 'pg\\_%%' AND (n.nspname NOT IN %s OR"
        " (n.nspname = 'public' AND c.relname IS NOT NULL)) ORDER BY 1",
        (_SYSTEM_SCHEMAS,))
    found = [str(name) for (name,) in cursor.fetchall()]
    connection.rollback()
    if found:
        raise ConfigError(
            f"the target database holds schemas or tables already: {', '.join(found[:10])}",
            "restore into an empty database, or add --resume to continue a restore into it")


def store_position_postgres(connection: Any, source: str, position: AppliedPosition) -> None:
    """Record ``position`` as applied and commit, with whatever the transaction holds."""
    connection.cursor().execute(
        f"INSERT INTO {POSITION_SCHEMA}.applied_position (source, changelog_offset, gtid, "
        "commit_time_us) VALUES (%s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET "
        "changelog_offset = EXCLUDED.changelog_offset, gtid = EXCLUDED.gtid, "
        "commit_time_us = EXCLUDED.commit_time_us, updated_at = now()",
        (source, position.changelog_offset, position.gtid, position.commit_time_us))
    connection.commit()


def read_shapes(connection: Any) -> dict[tuple[str, str], tuple[TableSchema, list[str]]]:
    """Every table's version in the target, with the DDL seen since."""
    cursor = connection.cursor()
    cursor.execute(f"SELECT database_name, table_name, shape, pending_ddl FROM {POSITION_SCHEMA}."
                   "table_shapes")
    return {(str(d), str(t)): (table_schema_from_bytes(bytes(shape)), list(pending))
            for d, t, shape, pending in cursor.fetchall()}


def write_shape(cursor: Any, schema: TableSchema, pending_ddl: list[str]) -> None:
    cursor.execute(
        f"INSERT INTO {POSITION_SCHEMA}.table_shapes (database_name, table_name, shape, "
        "pending_ddl) VALUES (%s, %s, %s, %s) ON CONFLICT (database_name, table_name) DO "
        "UPDATE SET shape = EXCLUDED.shape, pending_ddl = EXCLUDED.pending_ddl",
        (schema.database, schema.table, psycopg2.Binary(table_schema_to_bytes(schema)),
         pending_ddl))


def forget_shape(cursor: Any, database: str, table: str | None) -> None:
    """A dropped table (or every table of a dropped database, ``table`` None)."""
    if table is None:
        cursor.execute(f"DELETE FROM {POSITION_SCHEMA}.table_shapes WHERE database_name = %s",
                       (database,))
    else:
        cursor.execute(f"DELETE FROM {POSITION_SCHEMA}.table_shapes WHERE database_name = %s "
                       "AND table_name = %s", (database, table))
