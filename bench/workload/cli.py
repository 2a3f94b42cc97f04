"""``cdc-workload``: set up the payments database and run the workload against it."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click
import pymysql

from bench.workload.connection import connect, translate_error
from bench.workload.parallel import run_parallel
from bench.workload.provision import check_database_name, setup_database
from bench.workload.report import format_json, format_run, format_setup
from bench.workload.runner import RunOptions, run_workload
from bench.workload.summary import RunSummary
from cdc.dsn import parse_dsn
from cdc.errors import CdcError, ConfigError

DSN_ENV = "CDC_SOURCE_ADMIN_DSN"
DEFAULT_DATABASE = "payments"


@click.command(context_settings={"help_option_names": ["-h", "--help"],
                                 "max_content_width": 100})
@click.option("--dsn", metavar="DSN",
              help=f"Source server as mysql://user:password@host:port/[database]. "
                   f"Default: ${DSN_ENV}. The user must be able to create databases.")
@click.option("--database", metavar="NAME",
              help=f"Database to create and write (letters, digits, _). Default: the DSN's "
                   f"database, else {DEFAULT_DATABASE}.")
@click.option("--setup-only", is_flag=True,
              help="Create the database, tables and type-torture rows, then stop.")
@click.option("--reset", is_flag=True,
              help="Drop and recreate the database first. Refused if it holds tables the "
                   "workload did not create.")
@click.option("--rate", type=click.FloatRange(min=0), default=0.0, show_default=True,
              metavar="TX/S", help="Target transactions per second; 0 = as fast as possible.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after this many seconds.")
@click.option("--transactions", type=click.IntRange(min=0), metavar="N",
              help="Stop after N transactions. Without this or --duration the workload "
                   "runs until interrupted (Ctrl-C or SIGTERM), then finishes cleanly.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the random choices: the same seed on the same starting database "
                   "gives the same sequence of transactions.")
@click.option("--marks-file", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Append marks (JSON lines: label, time, gtid, transactions) here: "
                   "'start' before the first transaction and 'end' after the last.")
@click.option("--mark-every", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Also write a mark 'mark-N' every SECONDS (needs --marks-file).")
@click.option("--connections", type=click.IntRange(min=1), default=1, show_default=True,
              metavar="N",
              help="Write over N connections, one process each, each on rows of its own "
                   "(so they never wait for each other's locks) at TX/S / N. The marks "
                   "file then gets only 'start' and 'end'.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary as one JSON object instead of text.")
def main(*, dsn: str | None, database: str | None, setup_only: bool, reset: bool, rate: float,
         duration: float | None, transactions: int | None, seed: int,
         marks_file: Path | None, mark_every: float | None, connections: int,
         as_json: bool) -> None:
    """Generate a realistic payments workload on a MySQL/MariaDB source.

    Each transaction is one of: open an account, a settled payment (payment row, two ledger
    entries, two balance updates), a failed payment, a full refund, purging an old failed
    payment, an account status change, or rewriting/reinserting a row of the type_torture
    table, which holds edge values of every common column type. Every balance starts at
    zero and money only moves in pairs, so the sum of all balances is always zero.

    Setup is idempotent and runs every time. Errors print one line with a hint and exit 2
    (bad options, DSN, unreachable server, access denied) or 1 (a failed transaction).
    """
    if duration is not None and transactions is not None:
        raise click.UsageError("give --duration or --transactions, not both")
    if mark_every is not None and marks_file is None:
        raise click.UsageError("--mark-every needs --marks-file")
    if mark_every is not None and connections > 1:
        raise click.UsageError(
            "--mark-every needs --connections 1: a mark is one consistent point (everything "
            "committed so far and nothing in flight), and while several connections write "
            "there is none; 'start' and 'end' are still written")
    try:
        source = parse_dsn(_dsn_text(dsn))
        name = check_database_name(database or source.database or DEFAULT_DATABASE)
        connection = connect(source)
        try:
            report = setup_database(connection, name, reset=reset)
            summary: RunSummary | None = None
            if not setup_only:
                options = RunOptions(database=name, seed=seed, rate=rate, duration=duration,
                                     transactions=transactions, marks_file=marks_file,
                                     mark_every=mark_every)
                if duration is None and transactions is None and not as_json:
                    click.echo("running until interrupted (Ctrl-C to stop)...", err=True)
                with _stop_on_signals() as stop:
                    if connections == 1:
                        summary = run_workload(connection, options, stop=stop)
                    else:
                        summary = run_parallel(connection, source, options, connections,
                                               stop=stop)
        finally:
            connection.close()
    except pymysql.MySQLError as exc:
        _fail(translate_error(exc, "the workload"))
    except CdcError as exc:
        _fail(exc)
    if as_json:
        click.echo(format_json(report, summary))
    else:
        click.echo(format_setup(report))
        if summary is not None:
            click.echo(format_run(summary))


def _dsn_text(dsn: str | None) -> str:
    text = dsn if dsn is not None else os.environ.get(DSN_ENV)
    if not text:
        raise ConfigError("no source DSN given",
                          f"pass --dsn mysql://user:password@host:port/ or set {DSN_ENV}")
    return text


def _fail(exc: CdcError) -> NoReturn:
    hint = f" (hint: {exc.hint})" if exc.hint else ""
    click.echo(f"cdc-workload: error: {exc.message}{hint}", err=True)
    sys.exit(exc.exit_status)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Turn the first SIGINT/SIGTERM into a stop request; a second one acts as usual.

    The workload then finishes its transaction, writes the end mark and prints the summary,
    so stopping an open-ended run with Ctrl-C is the normal way to end it.
    """
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def request_stop(number: int, frame: FrameType | None) -> None:
        stop.set()
        signal.signal(number, previous[number])

    for handled in (signal.SIGINT, signal.SIGTERM):
        previous[handled] = signal.signal(handled, request_stop)
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
