"""Snapshot throughput beside ``mariadb-dump --single-transaction`` of the same table, and
capture's lag while a snapshot runs.

``python -m bench.snapshot_throughput [--rows N] [--runs R] [--workers W] [--json]`` (or
``make bench-snapshot``) fills a payments table of N rows, then R times, interleaved: dumps it
with ``mariadb-dump --single-transaction`` (output counted, not stored) and snapshots it with
``cdc snapshot`` (compressed, checksummed Avro files in a temporary store). Medians and the
ratio follow. Then, once: capture follows a payments workload while a snapshot of the big
table runs, and the lag of every record captured meanwhile is measured as the Kafka record's
timestamp minus the source commit time (MariaDB stamps commits in whole seconds, so each lag
reads up to a second high).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from bench.harness.kafka_topics import delete_topics
from bench.harness.payments_table import fill_statement, payments_ddl
from bench.harness.stack_env import StackSettings
from bench.harness.stats import median, rate, ratio
from cdc.avro.envelope import decode_envelope
from cdc.dsn import Dsn, parse_dsn
from cdc.kafka.reader import read_committed
from cdc.startup_checks.queries import connect

CDC = [sys.executable, "-m", "cdc"]


@dataclass
class Result:
    rows: int
    runs: int
    workers: int
    dump_seconds: list[float] = field(default_factory=list)
    dump_bytes: int = 0
    snapshot_seconds: list[float] = field(default_factory=list)
    snapshot_bytes: int = 0
    lag_ms: list[int] = field(default_factory=list)
    lag_snapshot_seconds: float = 0.0
    command: str = ""
    date: str = ""


@dataclass(frozen=True)
class Stack:
    admin: Dsn
    source: Dsn
    bootstrap: str
    folder: Path


def say(message: str) -> None:
    click.echo(f"[bench] {message}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--rows", type=click.IntRange(min=1000), default=1_000_000, show_default=True,
              help="Rows in the payments table.")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs of each tool; medians are reported.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="snapshots.workers for cdc snapshot.")
@click.option("--skip-lag", is_flag=True, help="Leave out the capture-lag measurement.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def main(rows: int, runs: int, workers: int, skip_lag: bool, as_json: bool) -> None:
    """Snapshot throughput next to mariadb-dump, and capture lag during a snapshot. Needs
    the local stack ('make up')."""
    settings = StackSettings(os.environ)
    admin = parse_dsn(settings["CDC_SOURCE_ADMIN_DSN"])
    capture = parse_dsn(settings["CDC_SOURCE_CAPTURE_DSN"])
    bootstrap = settings["CDC_KAFKA_BOOTSTRAP"]
    run_id = secrets.token_hex(4)
    database = f"bench_snapshot_{run_id}"
    folder = Path(tempfile.mkdtemp(prefix="cdc-bench-snapshot-"))
    stack = Stack(admin, capture, bootstrap, folder)
    result = Result(rows, runs, workers, command=" ".join(["python -m bench.snapshot_throughput",
                                                           *sys.argv[1:]]),
                    date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    topics: list[str] = []
    try:
        say(f"filling {database}.payments with {rows:,} rows")
        _fill(admin, database, rows)
        config = _config(stack, database, workers, f"{database}.*")
        for number in range(1, runs + 1):
            seconds, size = _dump(admin, database)
            result.dump_seconds.append(seconds)
            result.dump_bytes = size
            seconds, stored = _snapshot(config, capture, rows)
            result.snapshot_seconds.append(seconds)
            result.snapshot_bytes = stored
            say(f"run {number} of {runs}: mariadb-dump {result.dump_seconds[-1]:.2f} s, "
                f"cdc snapshot {seconds:.2f} s")
            shutil.rmtree(folder / "store", ignore_errors=True)
        if not skip_lag:
            _lag(result, stack, database, topics)
    finally:
        _drop(admin, database)
        _drop(admin, f"{database}_w")
        delete_topics(bootstrap, topics)
        shutil.rmtree(folder, ignore_errors=True)
    click.echo(json.dumps(_summary(result)) if as_json else _text(result))


def _fill(admin: Dsn, database: str, rows: int) -> None:
    connection = connect(admin)
    try:
        cursor = connection.cursor()
        cursor.execute(f"CREATE DATABASE `{database}`")
        cursor.execute(f"USE `{database}`")
        cursor.execute(payments_ddl())
        cursor.execute(fill_statement(rows))
        cursor.execute("ANALYZE TABLE payments")
        cursor.fetchall()
    finally:
        connection.close()


def _drop(admin: Dsn, database: str) -> None:
    connection = connect(admin)
    try:
        connection.cursor().execute(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        connection.close()


def _config(stack: Stack, name: str, workers: int, include: str) -> Path:
    folder, source, bootstrap = stack.folder, stack.source, stack.bootstrap
    path = folder / f"{name}.toml"
    path.write_text(
        f'[source]\ndsn = "mysql://{source.user}@{source.host}:{source.port}/"\n'
        f"server_id = {40000 + secrets.randbelow(10000)}\nname = \"{name}\"\n\n"
        f'[kafka]\nbootstrap_servers = "{bootstrap}"\ntopic_prefix = "bench.{name}"\n'
        "commit_interval_ms = 100\n\n"
        f'[capture]\ninclude = ["{include}"]\nmetrics_address = ""\nheartbeat_interval_s = 1\n\n'
        f'[snapshots]\nstore = "{folder / "store"}"\nanchor_wait = "0s"\nworkers = {workers}\n')
    return path


def _env(source: Dsn) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CDC_")},
            "CDC_SOURCE__PASSWORD": source.password}


def _dump(admin: Dsn, database: str) -> tuple[float, int]:
    command = ["mariadb-dump", "-h", admin.host, "-P", str(admin.port), "-u", admin.user,
               f"-p{admin.password}", "--single-transaction", database, "payments"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    size = 0
    while chunk := process.stdout.read(1 << 20):
        size += len(chunk)
    _, errors = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise click.ClickException(f"mariadb-dump failed: {errors.decode()[-500:]}")
    return seconds, size


def _snapshot(config: Path, source: Dsn, rows: int) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([*CDC, "snapshot", "--config", str(config), "--json"],
                          env=_env(source), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise click.ClickException(f"cdc snapshot failed: {done.stderr[-1000:]}")
    summary = json.loads(done.stdout)
    if summary["rows"] != rows:
        raise click.ClickException(f"the snapshot holds {summary['rows']} rows, not {rows}")
    return seconds, int(summary["bytes"])


def _lag(result: Result, stack: Stack, database: str, topics: list[str]) -> None:
    """Capture follows a workload while a snapshot of the big table runs."""
    folder, source, bootstrap = stack.folder, stack.source, stack.bootstrap
    workload_db = f"{database}_w"
    config = _config(stack, workload_db, result.workers, f"{workload_db}.*")
    snapshot_config = _config(stack, database, result.workers, f"{database}.*")
    topics += [f"bench.{workload_db}.changelog", f"bench.{workload_db}.schemas"]
    workload = [sys.executable, "-m", "bench.workload", "--dsn", _dsn_text(stack.admin),
                "--database", workload_db]
    subprocess.run([*workload, "--setup-only"], check=True, capture_output=True)
    log = (folder / "capture.log").open("wb")
    capture = subprocess.Popen([*CDC, "capture", "--config", str(config)], env=_env(source),
                               stdout=log, stderr=subprocess.STDOUT)
    load = subprocess.Popen([*workload, "--rate", "200", "--duration", "600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(8)
        say("snapshot while capture follows a workload of 200 transactions/s")
        window_start = time.time()
        seconds, _ = _snapshot(snapshot_config, source, result.rows)
        window_end = time.time()
        result.lag_snapshot_seconds = seconds
    finally:
        load.terminate()
        load.wait()
        time.sleep(3)
        capture.terminate()
        capture.wait()
    for stored in read_committed(bootstrap, topics[0]):
        if window_start * 1000 <= stored.timestamp_ms <= window_end * 1000:
            commit_us = _commit_time_us(stored.value)
            if commit_us:
                result.lag_ms.append(stored.timestamp_ms - commit_us // 1000)


def _commit_time_us(value: bytes) -> int:
    """The source commit time of a changelog record (0 for a heartbeat); the row images are
    left undecoded."""
    record = decode_envelope(value, lambda *_: (None, None))
    return 0 if record.operation.is_marker else record.commit_time_us


def _dsn_text(dsn: Dsn) -> str:
    return f"mysql://{dsn.user}:{dsn.password}@{dsn.host}:{dsn.port}/"


def _percentile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0


def _summary(result: Result) -> dict[str, object]:
    dump, snap = median(result.dump_seconds), median(result.snapshot_seconds)
    return {
        **asdict(result),
        "dump_rows_per_s": round(rate(result.rows, dump)),
        "dump_mb_per_s": round(result.dump_bytes / dump / 1e6, 1),
        "snapshot_rows_per_s": round(rate(result.rows, snap)),
        "snapshot_mb_per_s_stored": round(result.snapshot_bytes / snap / 1e6, 2),
        "snapshot_mb_per_s_dump_equivalent": round(result.dump_bytes / snap / 1e6, 1),
        "snapshot_over_dump": ratio(rate(result.rows, snap), rate(result.rows, dump)),
        "lag_ms_p50": _percentile(result.lag_ms, 0.5),
        "lag_ms_p99": _percentile(result.lag_ms, 0.99),
        "lag_ms_max": max(result.lag_ms, default=0),
        "lag_records": len(result.lag_ms),
    }


def _text(result: Result) -> str:
    s = _summary(result)
    lines = [
        f"snapshot throughput, {result.date}: payments table of {result.rows:,} rows, "
        f"{result.runs} runs each, cdc snapshot with {result.workers} workers",
        "",
        f"{'measurement':<44} {'median s':>9} {'rows/s':>10} {'MB/s':>8}  runs",
        f"{'mariadb-dump --single-transaction':<44} {median(result.dump_seconds):>9.2f} "
        f"{s['dump_rows_per_s']:>10,} {s['dump_mb_per_s']:>8}  "
        + ", ".join(f"{v:.2f}" for v in result.dump_seconds),
        f"{'cdc snapshot (zstd Avro, SHA-256, manifest)':<44} "
        f"{median(result.snapshot_seconds):>9.2f} {s['snapshot_rows_per_s']:>10,} "
        f"{s['snapshot_mb_per_s_dump_equivalent']:>8}  "
        + ", ".join(f"{v:.2f}" for v in result.snapshot_seconds),
        "",
        f"cdc snapshot / mariadb-dump (rows/s): {s['snapshot_over_dump']:.2f}",
        f"dump output {result.dump_bytes / 1e6:.1f} MB; snapshot files "
        f"{result.snapshot_bytes / 1e6:.1f} MB (MB/s above: the dump's size over each time)",
    ]
    if result.lag_ms:
        lines += ["", f"capture lag while a snapshot ran ({result.lag_snapshot_seconds:.1f} s, "
                  f"{s['lag_records']:,} records): p50 {s['lag_ms_p50']} ms, p99 "
                  f"{s['lag_ms_p99']} ms, max {s['lag_ms_max']} ms (commit times are whole "
                  "seconds: each lag reads up to 1,000 ms high)"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
