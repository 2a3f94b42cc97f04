"""The migration benchmark's result as text tables (for people and BENCHMARKS.md) and as
JSON. Pure."""

from __future__ import annotations

import json

from bench.harness.migrate_result import (
    LAG_TARGET_P99_S,
    LAG_TARGET_RATE,
    MigrateBenchResult,
    SyncLag,
    TargetResult,
)
from bench.harness.text_table import text_table

_SYNC_HEADER = ("target", "rate asked", "reached tx/s", "row changes/s", "probes seen/sent",
                "p50 s", "p99 s", "max s", "last s", "drain s", "capture behind",
                "migrate behind")
_ASYNC_HEADER = ("target", "row changes", "transactions", "total s", "row changes/s",
                 "following s", "row changes/s following", "lag tx after")


def format_json(result: MigrateBenchResult) -> str:
    return json.dumps(result.to_dict(), sort_keys=False)


def format_text(result: MigrateBenchResult) -> str:
    s, m = result.settings, result.machine
    commit = (f"{s.kafka_commit_interval_ms} ms" if s.kafka_commit_interval_ms is not None
              else "capture's default")
    idle = (f"probes alone for {s.idle_seconds:g} s ('idle'), then " if s.idle_seconds
            else "")
    lines = [
        f"migrate lag and throughput, {result.date}",
        f"sync: {idle}the payments workload at each rate for {s.seconds:g} s (probes from "
        f"{s.settle_s:g} s after its start), plus one probe UPDATE every "
        f"{s.probe_interval_s * 1000:g} ms on the source; the target polled every "
        f"{s.poll_s * 1000:g} ms; Kafka commit interval {commit}",
        f"async: a backlog of about {s.backlog:,} row changes written with the migrate "
        "stopped, then applied by migrate --mode async",
        f"machine: {m.cpus} CPUs, {m.cpu_model}; {m.mariadb}; Kafka {m.kafka}; "
        f"Python {m.python}; load average at the end {m.load_average or '-'}",
    ]
    lines += [f"{t.title} target: {t.description}, {t.version}; tables {t.tables}; snapshot "
              f"{t.snapshot_rows:,} rows, loaded and caught up in "
              f"{_seconds(t.initial_catch_up_s, 1)} s" for t in result.targets]
    sync_rows = [_sync_row(t, run) for t in result.targets for run in t.sync]
    if sync_rows:
        lines += ["", "sync-mode lag: from just before a probe's UPDATE on the source until "
                      "the target showed it", "",
                  text_table([_SYNC_HEADER, *sync_rows], right=frozenset(range(2, 12))),
                  "(capture behind: source transactions not in the changelog yet; "
                  "migrate behind: changelog transactions not in the target yet; "
                  "each the largest and the last of samples every 0.5 s, by GTID "
                  "sequence)"]
    async_rows = [_async_row(t) for t in result.targets if t.async_run is not None]
    if async_rows:
        lines += ["", "async-mode throughput: total from the process start, 'following' from "
                      "its log line 'following the changelog', until the target's applied "
                      "GTID was the backlog's last", "",
                  text_table([_ASYNC_HEADER, *async_rows], right=frozenset(range(1, 8)))]
    lines += [f"{t.title}: replayer status --config took {t.async_run.status_s:.2f} s on a "
              f"changelog of {t.async_run.changelog_records:,} records"
              for t in result.targets if t.async_run is not None
              and t.async_run.status_s is not None and t.async_run.changelog_records is not None]
    lines += ["", f"target: sync-mode lag p99 under {LAG_TARGET_P99_S:g} s at "
                  f"{LAG_TARGET_RATE:,.0f} tx/s"]
    for target in result.targets:
        met, said = target.target_met()
        verdict = {True: "yes", False: "no", None: "untested"}[met]
        lines.append(f"  {target.title}: {verdict} ({said})")
    for target in result.targets:
        if target.problem is not None:
            lines.append(f"FAILED ({target.title}): {target.problem}")
        if target.async_run is not None and not target.async_run.counts_agree:
            a = target.async_run
            lines.append(f"MISMATCH ({target.title}): the async migrate applied "
                         f"{a.row_changes:,} row changes, the workload wrote "
                         f"{a.expected_row_changes:,} in the tables migrated")
        lines += [f"  {target.title} migrate log: {line}"
                  for line in target.migrate_log_problems[:10]]
    if result.notes:
        lines += ["", *(f"note: {note}" for note in result.notes)]
    return "\n".join(lines)


def _sync_row(target: TargetResult, run: SyncLag) -> tuple[str, ...]:
    w, lag = run.workload, run.stats
    return (target.title, run.rate_label, f"{w.achieved_rate:,.1f}",
            f"{w.row_changes_per_s:,.0f}", f"{lag.seen:,}/{lag.sent:,}",
            _seconds(lag.p50_s), _seconds(lag.p99_s), _seconds(lag.max_s), _seconds(lag.last_s),
            _seconds(run.drain_s, 2), *_behind(run))


def _behind(run: SyncLag) -> tuple[str, str]:
    b = run.backlogs
    if b is None:
        return "-", "-"
    return f"{_count(b.capture_max)}/{_count(b.capture_end)}", \
        f"{_count(b.migrate_max)}/{_count(b.migrate_end)}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _async_row(target: TargetResult) -> tuple[str, ...]:
    a = target.async_run
    assert a is not None
    lag = "-" if a.lag_transactions_after is None else str(a.lag_transactions_after)
    return (target.title, f"{a.row_changes:,}", f"{a.workload.transactions:,}",
            f"{a.total_s:.2f}", f"{a.rate:,.0f}", f"{a.following_s:.2f}",
            f"{a.following_rate:,.0f}", lag)


def _seconds(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
