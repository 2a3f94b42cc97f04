"""PostgreSQL's own bulk path as the anchor: ``psql`` running ``\\copy`` of the table's rows
from a file, in the order pg_dump's output uses: the table without keys (its CHECKs inline),
the rows, then the primary key and the secondary indexes.

The file is written once, untimed, from the snapshot's own rows (the canonical values, in
COPY's text format by ``replayer.postgres_types``), so both sides load exactly the same
values; the table comes from the same type mapping the replayer uses.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from cdc.changes import TableSchema
from cdc.dsn import Dsn
from cdc.errors import CdcError
from cdc.snapshot.catalog import read_catalog, table_schema
from cdc.snapshot.chunk_file import decode_chunk
from cdc.snapshot.store import open_store
from replayer.postgres_types import copy_row, create_table_sql, quote_ident

_INDEX_LINE = re.compile(r"^\s*(UNIQUE )?(?:KEY|INDEX) `((?:[^`]|``)+)` \((.*)\),?$")
_KEY_PART = re.compile(r"`((?:[^`]|``)+)`(?:\(\d+\))?")


class CopyLoadError(CdcError):
    """psql failed, or the snapshot lacks the table."""


@dataclass(frozen=True)
class SecondaryIndex:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True)
class CopyFile:
    path: Path
    rows: int
    schema: TableSchema
    indexes: tuple[SecondaryIndex, ...]


def secondary_indexes(create_statement: str) -> tuple[SecondaryIndex, ...]:
    """The plain and unique indexes of a ``SHOW CREATE TABLE`` (MariaDB prints one per
    line). Pure."""
    found = []
    for line in create_statement.splitlines():
        match = _INDEX_LINE.match(line)
        if match:
            columns = tuple(part.replace("``", "`") for part in _KEY_PART.findall(match[3]))
            found.append(SecondaryIndex(match[2].replace("``", "`"), columns,
                                        bool(match[1])))
    return tuple(found)


def export_copy_file(store_url: str, snapshot_id: str, database: str, table: str,
                     path: Path) -> CopyFile:
    """Write the table's rows from the snapshot as COPY text into ``path``."""
    store = open_store(store_url)
    manifest = read_catalog(store).find(snapshot_id)
    entry = next((t for t in manifest.tables if (t.database, t.table) == (database, table)),
                 None)
    if entry is None:
        raise CopyLoadError(f"snapshot {snapshot_id} has no table {database}.{table}",
                            "snapshot the table first")
    schema = table_schema(entry)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        for file in entry.files:
            chunks = store.read_file(snapshot_id, file.name)
            for row in decode_chunk(schema, chunks, file.name):
                out.write(copy_row(schema, row))
                rows += 1
    return CopyFile(path, rows, schema, secondary_indexes(entry.create_statement or ""))


def load_script(copy: CopyFile) -> str:
    """The psql script: schema, table without keys, ``\\copy``, primary key, indexes. Pure."""
    schema = copy.schema
    table = f"{quote_ident(schema.database)}.{quote_ident(schema.table)}"
    lines = [f"CREATE SCHEMA {quote_ident(schema.database)};",
             create_table_sql(replace(schema, primary_key=()), schema.database) + ";",
             f"\\copy {table} FROM '{_psql_path(copy.path)}'"]
    if schema.primary_key:
        lines.append(f"ALTER TABLE {table} ADD PRIMARY KEY ("
                     + ", ".join(quote_ident(c) for c in schema.primary_key) + ");")
    for index in copy.indexes:
        unique = "UNIQUE " if index.unique else ""
        lines.append(f"CREATE {unique}INDEX {quote_ident(f'{schema.table}_{index.name}')} "
                     f"ON {table} (" + ", ".join(quote_ident(c) for c in index.columns) + ");")
    return "\n".join(lines) + "\n"


def psql_args(target: Dsn, script: Path) -> list[str]:
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", target.host, "-p",
            str(target.port), "-U", target.user, "-d", target.database or target.user,
            "-f", str(script)]


def run_psql(target: Dsn, script: Path) -> None:
    done = subprocess.run(psql_args(target, script), env={**os.environ,
                                                          "PGPASSWORD": target.password},
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = " / ".join(done.stderr.strip().splitlines()[-3:])
        raise CopyLoadError(f"psql exited with status {done.returncode}: {said}",
                            f"run psql -f {script} by hand")


def _psql_path(path: Path) -> str:
    return str(path).replace("\\", "\\\\").replace("'", "\\'")
