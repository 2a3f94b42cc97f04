"""The benchmark's result as a text table (for people and BENCHMARKS.md) and as JSON. Pure."""

from __future__ import annotations

import json

from bench.harness.result import BenchResult, Measurement

_HEADER = ("measurement", "runs", "median s", "row changes/s", "slowest - fastest run")


def format_json(result: BenchResult) -> str:
    return json.dumps(result.to_dict(), sort_keys=False)


def format_text(result: BenchResult) -> str:
    r = result.range
    size = f", {r.binlog_bytes / 1e6:.1f} MB of binlog" if r.binlog_bytes is not None else ""
    lines = [
        f"capture throughput, {result.date}",
        f"range: after {r.start_gtid} up to {r.end_gtid} (from {r.first_binlog_file}{size}): "
        f"{_count(r.row_changes)} row changes of {r.database} in "
        f"{_count(r.workload_transactions)} workload transactions "
        f"({_count(r.transactions_in_range)} transactions in the range)",
        f"machine: {result.machine.cpus} CPUs, {result.machine.cpu_model}; "
        f"{result.machine.mariadb}; Kafka {result.machine.kafka}; "
        f"Python {result.machine.python}; mysql-replication {result.machine.mysql_replication}; "
        f"load average at the end {result.machine.load_average or '-'}",
        "",
        format_table(result.measurements),
        "",
        *format_comparisons(result),
    ]
    if result.notes:
        lines += ["", *(f"note: {note}" for note in result.notes)]
    return "\n".join(lines)


def format_table(measurements: tuple[Measurement, ...]) -> str:
    rows = [_HEADER, *(_row(m) for m in measurements)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    text = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), *(cell.rjust(widths[i + 1])
                                            for i, cell in enumerate(row[1:]))]
        text.append("  ".join(cells).rstrip())
        if number == 0:
            text.append("  ".join("-" * width for width in widths))
    return "\n".join(text)


def format_comparisons(result: BenchResult) -> list[str]:
    names = {
        "capture/raw_decode": "capture / library raw decode",
        "capture/raw_decode_cached": "capture / library raw decode, maps cached",
        "capture/mariadb_binlog": "capture / mariadb-binlog",
        "raw_decode/mariadb_binlog": "library raw decode / mariadb-binlog",
    }
    width = max(len(name) for name in names.values())
    lines = [f"{names[key].ljust(width)}  {_ratio(value)}"
             for key, value in result.ratios().items() if value is not None]
    scaling = result.scaling()
    if scaling:
        steps = ", ".join(f"{workers}: {_count(rate)}" for workers, rate in scaling)
        lines.append(f"{'capture by --workers'.ljust(width)}  {steps} row changes/s")
    after = result.capture_after_startup_rate()
    if after is not None:
        lines.append(f"{'capture once started'.ljust(width)}  {_count(after)} row changes/s "
                     "(row changes / (capture - start-up medians))")
    return lines


def _row(m: Measurement) -> tuple[str, str, str, str, str]:
    spread = m.rate_range
    return (
        m.label,
        str(m.runs),
        f"{m.median_seconds:.2f}",
        _count(m.rate) if m.rate is not None else "-",
        f"{_count(spread[0])} - {_count(spread[1])}" if spread and m.runs > 1 else "",
    )


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
