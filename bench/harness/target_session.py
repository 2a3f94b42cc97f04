"""One autocommit session on a migration target, MariaDB or PostgreSQL, for reading single
values while the replayer writes: every statement sees what is committed at that moment.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg2
import pymysql

from bench.harness import postgres_target
from bench.workload.connection import connect as mysql_connect
from cdc.dsn import Dsn, Engine
from replayer.applier import POSITION_SCHEMA

TargetErrors = (pymysql.MySQLError, psycopg2.Error, OSError)
"""What a statement on a target may raise when the table is not there yet or the
connection is lost."""


class TargetSession:
    def __init__(self, dsn: Dsn) -> None:
        self.engine = dsn.engine
        self._connection: Any
        if dsn.engine is Engine.MYSQL:
            self._connection = mysql_connect(dsn)
            self._connection.autocommit(True)
        else:
            self._connection = postgres_target.connect(dsn)  # autocommit already
        self._cursor = self._connection.cursor()

    def qualified(self, schema: str, table: str) -> str:
        """``schema.table`` quoted for this engine (a MariaDB database is a PostgreSQL
        schema in the target)."""
        if self.engine is Engine.MYSQL:
            return f"`{schema.replace('`', '``')}`.`{table.replace('`', '``')}`"
        return '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'

    def scalar(self, sql: str, args: tuple[object, ...] | None = None) -> object | None:
        """The first column of the first row, None when there is no row."""
        self._cursor.execute(sql, args)
        row = self._cursor.fetchone()
        return None if row is None else row[0]

    def applied_gtid(self, source: str) -> str | None:
        """The last source GTID the replayer has committed in this target; None before its
        first commit (or before its bookkeeping exists)."""
        try:
            found = self.scalar(f"SELECT gtid FROM {POSITION_SCHEMA}.applied_position "
                                "WHERE source = %s", (source,))
        except TargetErrors:
            return None
        return None if found is None else str(found)

    def close(self) -> None:
        with contextlib.suppress(*TargetErrors):
            self._connection.close()
