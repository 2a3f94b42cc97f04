"""The reference RTO drill: how long a restore of a large payments database takes, per phase,
beside the servers' own tools on the same data.

``python -m bench.rto_drill [--rows N] [--changes M] [--runs R] [--only SIDE] [--json]`` (or
``make bench-rto``: 10,000,000 rows and 1,000,000 row changes) makes the data once and keeps
it under ``.stack/rto/`` (see ``bench/harness/rto_data.py``): a payments table of N rows, its
snapshot and its ``mariadb-dump``, then M row changes in small transactions committed after
the snapshot and captured. Then, R times each:

- ``replayer drill --to latest`` into PostgreSQL (a scratch database on the stack's server);
- ``replayer drill --to latest`` into MariaDB (a throwaway server set up like the stack's
  target);
- ``mariadb < dump.sql`` then ``mariadb-binlog | mariadb`` of the same changes, into the same
  throwaway server, then CHECKSUM TABLE against the source.

Each is timed per phase (start-up and planning, load, indexes, replay, verify); the RTO is all
but the verify. The report names the phase that dominates and whether the restore into
PostgreSQL came in under the target. ``--forget`` drops the kept data.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import click

from bench.harness import machine
from bench.harness.mariadb_binlog import find_binary
from bench.harness.postgres_target import server_version
from bench.harness.rto_data import DrillData, Servers, data_folder, drill_data, forget
from bench.harness.rto_report import format_json, format_text
from bench.harness.rto_result import DrillData as DataFacts
from bench.harness.rto_result import DrillRun, DrillSide, RtoResult
from bench.harness.rto_sides import anchor_run, replayer_run
from bench.harness.stack_env import StackSettings
from bench.harness.throwaway_target import throwaway_target
from bench.workload.connection import server_version_at
from cdc.cli_errors import run_reporting_errors
from cdc.dsn import Dsn, parse_dsn
from cdc.errors import CdcError

TARGET_ENGINE = "postgresql"
TARGET_S = 240.0  # four minutes into PostgreSQL on a 2-core machine
SIDES = {
    "postgresql": ("replayer drill into PostgreSQL", "postgresql"),
    "mariadb": ("replayer drill into MariaDB", "mariadb"),
    "anchor": ("mariadb < dump.sql, then mariadb-binlog | mariadb", "mariadb"),
}


def say(message: str) -> None:
    click.echo(f"[bench] {message}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"],
                                 "max_content_width": 100})
@click.option("--rows", type=click.IntRange(min=1000), default=10_000_000, show_default=True,
              help="Rows of the payments table in the snapshot.")
@click.option("--changes", type=click.IntRange(min=100), default=1_000_000, show_default=True,
              help="Row changes committed after the snapshot (4.5 per transaction).")
@click.option("--runs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs of each way of restoring; medians are reported.")
@click.option("--only", "only", type=click.Choice(sorted(SIDES)), multiple=True,
              help="Run only this way of restoring (repeatable); all three by default.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="The replayer's load workers.")
@click.option("--forget", "forget_kept", is_flag=True,
              help="Drop the data kept for these --rows and --changes (the source database, "
                   "the topics, the files) and stop.")
@click.option("--data-only", is_flag=True,
              help="Make the data (or check the kept data is whole) and stop.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def main(*, rows: int, changes: int, runs: int, only: tuple[str, ...], workers: int,
         forget_kept: bool, data_only: bool, as_json: bool) -> None:
    """Time a restore of N rows plus M later row changes to 'latest', per phase, into
    PostgreSQL and MariaDB, beside mariadb < dump.sql and mariadb-binlog | mariadb on the same
    data. Needs the local stack ('make up'); the data is made once and kept under
    .stack/rto/."""
    settings = StackSettings(os.environ)
    servers = Servers(parse_dsn(settings["CDC_SOURCE_ADMIN_DSN"]),
                      parse_dsn(settings["CDC_SOURCE_CAPTURE_DSN"]),
                      settings["CDC_KAFKA_BOOTSTRAP"])
    postgres = parse_dsn(settings["CDC_POSTGRES_DSN"])
    folder = data_folder(settings.stack_dir, rows, changes)
    if forget_kept:
        forget(servers, folder, say)
        say(f"dropped the data kept in {folder}")
        return
    try:
        data = drill_data(servers, folder, rows, changes, say)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--changes") from None
    if data_only:
        say(f"the data is ready in {folder}")
        return
    chosen = [name for name in SIDES if not only or name in only]
    sides = _run_sides(chosen, runs, data, servers, postgres=postgres, workers=workers)
    command = shlex.join(["python", "-m", "bench.rto_drill", *sys.argv[1:]])
    result = RtoResult(
        command, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine.collect(server_version_at(servers.admin), settings.stack_dir, find_binary()),
        server_version(postgres), _facts(data), sides, TARGET_ENGINE, TARGET_S,
        notes=(f"data kept in {folder}; 'python -m bench.rto_drill --rows {rows} --changes "
               f"{changes} --forget' drops it",))
    click.echo(format_json(result) if as_json else format_text(result))
    if result.failed:
        sys.exit(1)


def _run_sides(chosen: list[str], runs: int, data: DrillData, servers: Servers, *,
               postgres: Dsn, workers: int) -> tuple[DrillSide, ...]:
    found: dict[str, tuple[list[DrillRun], list[str]]] = {name: ([], []) for name in chosen}

    def run(name: str, once: Callable[[], DrillRun], number: int) -> None:
        done, problems = found[name]
        if problems:
            return
        label = SIDES[name][0]
        say(f"run {number} of {runs}: {label}")
        try:
            outcome = once()
        except CdcError as exc:
            problems.append(exc.message)
            say(f"  FAILED: {exc.message}")
            return
        done.append(outcome)
        say(f"  {outcome.verdict}: RTO {outcome.rto_s:,.1f} s ("
            + ", ".join(f"{p.name} {p.seconds:,.1f} s" for p in outcome.phases) + ")")

    mariadb_needed = {"mariadb", "anchor"} & set(chosen)
    for number in range(1, runs + 1):
        if "postgresql" in chosen:
            run("postgresql", lambda: replayer_run(data, postgres, workers=workers), number)
        if mariadb_needed:
            say("starting a throwaway MariaDB target")
            with throwaway_target(f"bench-rto-{secrets.token_hex(3)}") as target:
                if "mariadb" in chosen:
                    run("mariadb", lambda: replayer_run(data, target, workers=workers), number)
                if "anchor" in chosen:
                    run("anchor", lambda: anchor_run(data, servers, target), number)
    return tuple(DrillSide(SIDES[name][0], SIDES[name][1], tuple(found[name][0]),
                           found[name][1][0] if found[name][1] else None) for name in chosen)


def _facts(data: DrillData) -> DataFacts:
    kept = data.kept
    plan = kept.plan
    return DataFacts(
        database=kept.database, rows=kept.rows, transactions=kept.transactions,
        row_changes=kept.row_changes,
        row_changes_by_kind={"inserts": plan.inserts, "updates": plan.updates,
                             "deletes": plan.deletes},
        snapshot_id=kept.snapshot.snapshot_id, snapshot_bytes=kept.snapshot.bytes,
        dump_bytes=kept.dump_bytes, made_at=kept.made_at, made_in_s=dict(kept.made_in_s),
        reused=data.reused)


if __name__ == "__main__":
    run_reporting_errors(main)
