"""The restore benchmark's result as a text table (for people and BENCHMARKS.md) and as
JSON. Pure."""

from __future__ import annotations

import json

from bench.harness.restore_result import (
    MARIADB_LOAD,
    POSTGRES_LOAD,
    REPLAY,
    Comparison,
    RestoreBenchResult,
    Side,
)
from bench.harness.text_table import text_table

_HEADER = ("measurement", "runs", "median s", "per second", "slowest - fastest run")
_RATIO_HEADER = ("ours / anchor (rates at the medians)", "ratio", "each round", "target", "met?")


def format_json(result: RestoreBenchResult) -> str:
    return json.dumps(result.to_dict(), sort_keys=False)


def format_text(result: RestoreBenchResult) -> str:
    d, m = result.data, result.machine
    keys = {c.key for c in result.comparisons}
    lines = [f"restore throughput, {result.date}"]
    if keys & {MARIADB_LOAD, POSTGRES_LOAD}:
        sizes = [f"snapshot files {d.snapshot_bytes / 1e6:.1f} MB"]
        if MARIADB_LOAD in keys:
            sizes.insert(0, f"dump {d.dump_bytes / 1e6:.1f} MB")
        if POSTGRES_LOAD in keys:
            sizes.append(f"COPY text {d.copy_bytes / 1e6:.1f} MB")
        lines.append(f"load: {d.database}.payments, {d.rows:,} rows ({', '.join(sizes)})")
    if REPLAY in keys:
        lines.append(
            f"replay: {d.row_changes:,} row changes ({_kinds(d.row_changes_by_kind)}) in "
            f"{d.workload_transactions:,} workload transactions on {d.workload_database}, "
            f"after GTID {d.replay_start} up to {d.replay_end}, on top of a snapshot of "
            f"{d.replay_snapshot_rows:,} rows")
    if keys & {MARIADB_LOAD, REPLAY}:
        lines.append(f"MariaDB target: {d.target}")
    lines += [
        f"machine: {m.cpus} CPUs, {m.cpu_model}; {m.mariadb}; PostgreSQL {result.postgres}; "
        f"Kafka {m.kafka}; Python {m.python}; load average at the end {m.load_average or '-'}",
        "",
        text_table([_HEADER, *(row for c in result.comparisons for row in _rows(c))],
               right=frozenset({1, 2, 3})),
        "",
        text_table([_RATIO_HEADER, *(_ratio_row(c) for c in result.comparisons)],
               right=frozenset({1})),
    ]
    if result.notes:
        lines += ["", *(f"note: {note}" for note in result.notes)]
    return "\n".join(lines)


def _rows(c: Comparison) -> list[tuple[str, ...]]:
    return [_row(c, c.ours), _row(c, c.anchor)]


def _row(c: Comparison, side: Side) -> tuple[str, ...]:
    label = f"{c.title}: {side.label}"
    problem = ""
    if side.problem is not None:
        problem = ("FAILED: " if side.failed else "unavailable: ") + side.problem
    if not side.seconds:
        return (label, "0", "-", "-", problem or "not run")
    spread = side.rate_range(c.count)
    rate = side.rate(c.count)
    spread_text = (f"{_count(spread[0])} - {_count(spread[1])}"
                   if spread and len(side.seconds) > 1 else "")
    return (
        label,
        str(len(side.seconds)),
        f"{side.median_seconds:.2f}",
        f"{_count(rate)} {c.unit}" if rate is not None else "-",
        "; ".join(part for part in (spread_text, problem) if part),
    )


def _ratio_row(c: Comparison) -> tuple[str, ...]:
    met = {None: "-", True: "yes", False: "no"}[c.met]
    each = ", ".join(f"{r:.2f}" for r in c.round_ratios) or "-"
    return (c.title, _ratio(c.ratio), each, f">= {c.target:.2f}", met)


def _kinds(kinds: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {kind}" for kind, count in kinds.items())


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
