"""``replayer verify``: prove two copies of the tables hold the same rows."""

from __future__ import annotations

import json

import click

from cdc.config.table_filter import TableFilter
from cdc.dsn import Dsn, Engine, parse_dsn
from cdc.errors import ConfigError
from cdc.progress import ProgressReporter
from replayer.verify_compare import TableVerdict
from replayer.verify_mysql import VerifyRequest, verify_mysql


def _mysql_dsn(option: str, text: str) -> Dsn:
    dsn = parse_dsn(text)
    if dsn.engine is not Engine.MYSQL:
        raise ConfigError(f"{option}: comparing with {dsn.engine.value}:// is not built yet",
                          "verify compares MySQL/MariaDB servers today; give mysql:// DSNs")
    return dsn


@click.command()
@click.option("--source", "source_dsn", required=True, metavar="DSN",
              help="The database copied from, as mysql://user:password@host:port/.")
@click.option("--target", "target_dsn", required=True, metavar="DSN",
              help="The copy to check, as mysql://user:password@host:port/.")
@click.option("--tables", default="*", show_default=True, metavar="PATTERNS",
              help="Comma-separated 'db' or 'db.table' patterns (wildcards allowed).")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="About how many rows one checksummed chunk covers.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def verify(source_dsn: str, target_dsn: str, tables: str, chunk_rows: int,
           as_json: bool) -> None:
    """Compare every included table of the source with the target: row counts and a SHA-256
    per primary-key chunk over type-normalized values (each row as its canonical encoding,
    the changelog's own), each side read inside one consistent read. Chunks that differ are
    read again to name the keys missing in the target, extra in it, or changed. Exit status
    1 on any difference."""
    request = VerifyRequest(
        _mysql_dsn("--source", source_dsn), _mysql_dsn("--target", target_dsn),
        TableFilter.from_patterns([p.strip() for p in tables.split(",") if p.strip()]),
        chunk_rows)
    reporter = ProgressReporter(as_json=as_json)
    try:
        verdicts = verify_mysql(request, reporter.update)
    finally:
        reporter.close()
    identical = all(v.identical for v in verdicts)
    if as_json:
        click.echo(json.dumps({"identical": identical,
                               "tables": [_as_json(v) for v in verdicts]}, default=str))
    else:
        for verdict in verdicts:
            click.echo(_as_text(verdict))
        click.echo("identical" if identical else "DIFFERENT")
    if not identical:
        raise click.exceptions.Exit(1)


def _as_json(v: TableVerdict) -> dict[str, object]:
    return {"table": v.table, "identical": v.identical, "source_rows": v.source_rows,
            "target_rows": v.target_rows, "chunks": v.chunks,
            "differing_key_ranges": v.differing_ranges, "missing_in_target": v.missing,
            "extra_in_target": v.extra, "changed": v.changed, "problems": v.problems}


def _as_text(v: TableVerdict) -> str:
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
