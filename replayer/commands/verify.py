"""``replayer verify``: prove two copies of the tables hold the same rows."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import click
import MySQLdb
import psycopg2

from cdc.config.table_filter import TableFilter
from cdc.dsn import Dsn, Engine, parse_dsn
from cdc.errors import CdcError, ConfigError
from cdc.progress import ProgressReporter
from replayer.verify_chunks import Progress, SourceTable, Target, verify_tables
from replayer.verify_compare import TableVerdict
from replayer.verify_mysql import MysqlTarget, mysql_tables, open_mysql
from replayer.verify_postgres import PostgresTarget, open_postgres
from replayer.verify_snapshot import open_snapshot, snapshot_tables


@click.command()
@click.option("--source", "source_dsn", metavar="DSN",
              help="The live database copied from, as mysql://user:password@host:port/. "
                   "Give this or --snapshot.")
@click.option("--snapshot", "snapshot_id", metavar="ID",
              help="Compare a stored snapshot's rows (as taken) with the target instead of a "
                   "live source, e.g. right after loading it; needs --config. 'cdc backups "
                   "list' shows the ids.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="With --snapshot: the capture configuration (TOML) that names the snapshot "
                   "store and its encryption key.")
@click.option("--target", "target_dsn", required=True, metavar="DSN",
              help="The copy to check: mysql://user:password@host:port/, or "
                   "postgresql://user:password@host:port/dbname, where each source database "
                   "is the schema of its name (the schema cdc_replayer is never compared).")
@click.option("--tables", default="*", show_default=True, metavar="PATTERNS",
              help="Comma-separated 'db' or 'db.table' patterns (wildcards allowed).")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="About how many rows one checksummed chunk covers.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def verify(*, source_dsn: str | None, snapshot_id: str | None, config_path: Path | None,
           target_dsn: str, tables: str, chunk_rows: int, as_json: bool) -> None:
    """Compare every included table of the source (a live server, or a stored snapshot) with
    the target (MySQL/MariaDB or PostgreSQL): row counts and a SHA-256 per primary-key chunk
    over type-normalized values (each row as its canonical encoding, the changelog's own),
    each side read inside one consistent read. Against PostgreSQL, JSON columns compare as
    documents (jsonb keeps neither key order nor spacing). Chunks that differ are read again
    to name the keys missing in the target, extra in it, or changed. Exit status 1 on any
    difference, 2 when the comparison cannot start."""
    _check_sides(source_dsn, snapshot_id, config_path)
    target = parse_dsn(target_dsn)
    selection = TableFilter.from_patterns([p.strip() for p in tables.split(",") if p.strip()])
    normalize_json = target.engine is Engine.POSTGRESQL
    reporter = ProgressReporter(as_json=as_json)
    try:
        with ExitStack() as closing:
            if snapshot_id is not None and config_path is not None:
                snapshot = open_snapshot(config_path, snapshot_id, os.environ)
                sources: Iterator[SourceTable] = snapshot_tables(
                    snapshot, selection, chunk_rows, normalize_json=normalize_json)
                verdicts = verify_tables(sources, open_target(closing, target),
                                         reporter.update)
            else:
                verdicts = verify_live(_source_dsn(source_dsn or ""), target, selection,
                                       chunk_rows, reporter.update)
    except (MySQLdb.Error, psycopg2.Error) as exc:
        raise _read_failed(exc) from None
    finally:
        reporter.close()
    if not verdicts:
        # Nothing compared proves nothing: a mistyped pattern must not read as "identical".
        side = f"snapshot {snapshot_id}" if snapshot_id is not None else "the source"
        raise ConfigError(f"no table of {side} matches --tables {tables}",
                          "check the patterns ('db' or 'db.table', wildcards allowed) against "
                          "the tables the source holds")
    _report(verdicts, as_json)


def verify_live(source: Dsn, target: Dsn, selection: TableFilter, chunk_rows: int = 100_000,
                progress: Progress | None = None) -> list[TableVerdict]:
    """Every selected table of a live MySQL/MariaDB source against the target."""
    try:
        with ExitStack() as closing:
            connection = _opened(closing, open_mysql(source, "--source"))
            sources = mysql_tables(connection, selection, chunk_rows,
                                   normalize_json=target.engine is Engine.POSTGRESQL)
            return verify_tables(sources, open_target(closing, target), progress)
    except (MySQLdb.Error, psycopg2.Error) as exc:
        raise _read_failed(exc) from None


def _read_failed(exc: Exception) -> CdcError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return CdcError(f"reading the tables failed: {reason}",
                    "check that the users may read every compared table, and that the "
                    "servers stayed up")


def _check_sides(source_dsn: str | None, snapshot_id: str | None,
                 config_path: Path | None) -> None:
    if source_dsn is not None and snapshot_id is not None:
        raise click.UsageError("--source and --snapshot are mutually exclusive: compare the "
                               "target with a live source or with a snapshot, not both")
    if source_dsn is None and snapshot_id is None:
        raise click.UsageError("give what to compare the target with: --source DSN, or "
                               "--snapshot ID with --config FILE")
    if snapshot_id is not None and config_path is None:
        raise click.UsageError("--snapshot needs --config FILE, the capture configuration "
                               "that names the snapshot store")
    if snapshot_id is None and config_path is not None:
        raise click.UsageError("--config is only used with --snapshot")


def _source_dsn(text: str) -> Dsn:
    dsn = parse_dsn(text)
    if dsn.engine is not Engine.MYSQL:
        raise ConfigError(f"--source: comparing from {dsn.engine.value}:// is not built yet",
                          "the source is a MySQL/MariaDB server (mysql://) or a snapshot "
                          "(--snapshot)")
    return dsn


def open_target(closing: ExitStack, dsn: Dsn) -> Target:
    if dsn.engine is Engine.POSTGRESQL:
        return PostgresTarget(_opened(closing, open_postgres(dsn)))
    return MysqlTarget(_opened(closing, open_mysql(dsn, "--target")))


def _opened(closing: ExitStack, connection: Any) -> Any:
    """The connection, closed when the comparison ends (its read-only transaction with it)."""
    def close() -> None:
        with suppress(MySQLdb.Error, psycopg2.Error):
            connection.close()

    closing.callback(close)
    return connection


def _report(verdicts: list[TableVerdict], as_json: bool) -> None:
    identical = all(v.identical for v in verdicts)
    if as_json:
        click.echo(json.dumps({"identical": identical,
                               "tables": [verdict_json(v) for v in verdicts]}, default=str))
    else:
        for verdict in verdicts:
            click.echo(verdict_text(verdict))
        click.echo("identical" if identical else "DIFFERENT")
    if not identical:
        raise click.exceptions.Exit(1)


def verdict_json(v: TableVerdict) -> dict[str, object]:
    return {"table": v.table, "identical": v.identical, "source_rows": v.source_rows,
            "target_rows": v.target_rows, "chunks": v.chunks,
            "differing_key_ranges": v.differing_ranges, "missing_in_target": v.missing,
            "extra_in_target": v.extra, "changed": v.changed, "problems": v.problems}


def verdict_text(v: TableVerdict) -> str:
    head = (f"{v.table}: {'identical' if v.identical else 'DIFFERENT'}: {v.source_rows:,} rows "
            f"in the source, {v.target_rows:,} in the target, {v.chunks} chunks")
    lines = [head]
    lines += [f"  {problem}" for problem in v.problems]
    for low_high in v.differing_ranges:
        lines.append("  differing chunk: " + ("whole table" if low_high is None
                                               else f"keys {low_high[0]} to {low_high[1]}"))
    for label, keys in (("missing in the target", v.missing), ("extra in the target", v.extra),
                        ("changed", v.changed)):
        if keys:
            lines.append(f"  {label}: " + ", ".join(str(k[0] if len(k) == 1 else k)
                                                    for k in keys))
    return "\n".join(lines)
