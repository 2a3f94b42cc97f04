"""A MariaDB server restored into by a benchmark: emptied between runs, and checked against
the source cheaply (row count and ``CHECKSUM TABLE`` of every table of a database; the two
servers run the same version and the tables have the same definition, so equal rows give
equal checksums)."""

from __future__ import annotations

from dataclasses import dataclass

import pymysql

from bench.workload.connection import MySQLConnection, connect, translate_error
from cdc.dsn import Dsn

SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})


@dataclass(frozen=True)
class TableCheck:
    rows: int
    checksum: int | None


def user_databases(dsn: Dsn) -> list[str]:
    """Every database but the server's own (the replayer's ``cdc_replayer`` included)."""
    names = [str(name) for (name,) in query(dsn, "SHOW DATABASES")]
    return [name for name in names if name.lower() not in SYSTEM_DATABASES]


def drop_databases(dsn: Dsn, names: list[str]) -> None:
    connection = connect(dsn)
    try:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f"DROP DATABASE IF EXISTS {_quote(name)}")
        connection.commit()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, f"dropping databases on {dsn.redacted()}") from None
    finally:
        connection.close()


def empty_server(dsn: Dsn) -> list[str]:
    """Drop every non-system database; return their names."""
    names = user_databases(dsn)
    drop_databases(dsn, names)
    return names


def table_checks(dsn: Dsn, database: str) -> dict[str, TableCheck]:
    """Row count and CHECKSUM TABLE of each base table of ``database``."""
    tables = [str(name) for (name,) in query(
        dsn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
             "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", (database,))]
    found: dict[str, TableCheck] = {}
    for table in tables:
        qualified = f"{_quote(database)}.{_quote(table)}"
        [(rows,)] = query(dsn, f"SELECT COUNT(*) FROM {qualified}")
        [(_, checksum)] = query(dsn, f"CHECKSUM TABLE {qualified}")
        found[table] = TableCheck(int(str(rows)),
                                  None if checksum is None else int(str(checksum)))
    return found


def differences(expected: dict[str, TableCheck], found: dict[str, TableCheck]) -> list[str]:
    """What differs between the source's checks and a target's, table by table. Pure."""
    problems = []
    for table in sorted(expected.keys() | found.keys()):
        want, got = expected.get(table), found.get(table)
        if want is None:
            problems.append(f"{table}: in the target only")
        elif got is None:
            problems.append(f"{table}: missing in the target")
        elif want != got:
            problems.append(f"{table}: source {want.rows} rows, checksum {want.checksum}; "
                            f"target {got.rows} rows, checksum {got.checksum}")
    return problems


def query(dsn: Dsn, sql: str, args: tuple[object, ...] | None = None
          ) -> tuple[tuple[object, ...], ...]:
    """The rows of one statement, in a connection of its own."""
    connection: MySQLConnection = connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            rows: tuple[tuple[object, ...], ...] = cursor.fetchall()
        connection.rollback()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, f"{sql.split(maxsplit=1)[0]} on {dsn.redacted()}") from None
    finally:
        connection.close()
    return rows


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
