"""A payments workload for MySQL/MariaDB sources, with a table of every column type.

What tests and tools call:

- ``connect(dsn)``: a session as the workload uses it (autocommit off, time zone +00:00).
- ``setup_database(connection, database, reset=False)``: create what is missing.
- ``run_workload(connection, RunOptions(...))``: run transactions, get a ``RunSummary``.
- ``run_parallel(connection, dsn, RunOptions(...), connections)``: the same over several
  connections, one worker process each.
- ``write_mark(connection, path, label, transactions)`` / ``read_marks(path)``.
- ``TORTURE_ROWS`` / ``TORTURE_COLUMNS`` / ``ZERO_DATE``: the type-torture table as pure data,
  and ``read_torture_rows(connection, database)`` to read it back in the same form.
"""

from bench.workload.connection import connect, read_gtid_position
from bench.workload.mark_writer import read_marks, write_mark
from bench.workload.marks import Mark
from bench.workload.parallel import run_parallel
from bench.workload.provision import WORKLOAD_TABLES, SetupReport, setup_database
from bench.workload.runner import RunOptions, run_workload
from bench.workload.summary import RunSummary, TableChanges
from bench.workload.torture_columns import TORTURE_COLUMNS, TORTURE_TABLE, TortureColumn
from bench.workload.torture_rows import (
    TORTURE_ROWS,
    TORTURE_ROWS_BY_ID,
    ZERO_DATE,
    TortureRow,
    TortureValue,
    ZeroDate,
)
from bench.workload.torture_table import read_torture_rows

__all__ = [
    "TORTURE_COLUMNS",
    "TORTURE_ROWS",
    "TORTURE_ROWS_BY_ID",
    "TORTURE_TABLE",
    "WORKLOAD_TABLES",
    "ZERO_DATE",
    "Mark",
    "RunOptions",
    "RunSummary",
    "SetupReport",
    "TableChanges",
    "TortureColumn",
    "TortureRow",
    "TortureValue",
    "ZeroDate",
    "connect",
    "read_gtid_position",
    "read_marks",
    "read_torture_rows",
    "run_parallel",
    "run_workload",
    "setup_database",
    "write_mark",
]
