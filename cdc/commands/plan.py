"""``cdc plan``: the snapshot schedule (interval and retention) with the least expected cost
within an RTO and RPO bound, from a Markov model of failures (docs/plan.md)."""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from cdc.config.models import parse_duration
from cdc.errors import CdcError
from cdc.plan.errors import NoScheduleError, PlanInputError
from cdc.plan.measure import Measured
from cdc.plan.model import BEHIND, HEALTHY, SITE_LOST, SOURCE_LOST, Bounds, PlanInputs
from cdc.plan.optimize import (
    DEFAULT_INTERVALS,
    DEFAULT_MAX_KEEP,
    REPORTED_LEVELS,
    Candidate,
    Plan,
    make_plan,
    parse_intervals,
)
from cdc.plan.units import format_duration, interval_label

# BENCHMARKS.md, on this project's 2-core machine: 1,000,000 payments rows snapshot to
# 17.4 MB in 7.07 s (141,515 rows/s); loads run at 40,502 rows/s into MariaDB and 32,873 into
# PostgreSQL beside another benchmark; replay at 2,354 row changes/s.
BENCH_SNAPSHOT_ROWS_PER_S = 141_515
BENCH_SNAPSHOT_BYTES_PER_ROW = 17.4
ASSUMED_CHANGE_BYTES = 300
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kMGT]?)B?\s*$")
_SIZE_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _duration(text: str) -> float:
    return float(parse_duration(text))


def _size(text: str) -> float:
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size; write e.g. 17400000, 17.4MB or 2GB")
    return float(round(float(match.group(1)) * _SIZE_UNITS[match.group(2)]))


def _converting(convert: Callable[[str], float]
                ) -> Callable[[click.Context, click.Parameter, str | None], float | None]:
    """A click callback: the option's text through ``convert``, None when not given."""
    def callback(_ctx: click.Context, _param: click.Parameter, value: str | None
                 ) -> float | None:
        if value is None:
            return None
        try:
            return convert(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return callback


Values = Mapping[str, float | None]


@dataclass(frozen=True)
class InputSpec:
    name: str
    """A PlanInputs field; the option is ``--`` and the name with dashes."""
    convert: Callable[[str], float]
    unit: str
    default: Callable[[Values], float | None]
    """From the inputs resolved before this one."""
    default_note: str
    help: str

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def metavar(self) -> str:
        return {_duration: "DURATION", _size: "SIZE", int: "N"}.get(self.convert, "NUMBER")

    def show(self, value: float | None) -> str:
        if value is None:
            return "none"
        if self.convert is _duration:
            return format_duration(value)
        if value >= 1000 or value == round(value):
            return f"{value:,.0f} {self.unit}"
        return f"{value:.3g} {self.unit}"


def _fixed(value: float | None) -> Callable[[Values], float | None]:
    return lambda _values: value


def _rows(values: Values) -> float:
    return values["snapshot_rows"] or 0.0


INPUTS = (
    InputSpec("change_rate", float, "row changes/s", _fixed(100.0),
              "assumed; measure it with --from-metrics", "Row changes a second the source writes"),
    InputSpec("change_bytes_rate", float, "bytes/s",
              lambda v: (v["change_rate"] or 0.0) * ASSUMED_CHANGE_BYTES,
              f"assumed {ASSUMED_CHANGE_BYTES} bytes a row change",
              "Bytes a second the changelog grows by"),
    InputSpec("snapshot_rows", int, "rows", _fixed(1_000_000),
              "BENCHMARKS.md's snapshot table", "Rows in a snapshot"),
    InputSpec("snapshot_bytes", _size, "bytes",
              lambda v: round(_rows(v) * BENCH_SNAPSHOT_BYTES_PER_ROW),
              f"{BENCH_SNAPSHOT_BYTES_PER_ROW} bytes a row stored (BENCHMARKS.md)",
              "A snapshot's size as stored, e.g. 17400000, 17.4MB or 2GB"),
    InputSpec("snapshot_duration", _duration, "s",
              lambda v: _rows(v) / BENCH_SNAPSHOT_ROWS_PER_S,
              f"the rows at {BENCH_SNAPSHOT_ROWS_PER_S:,} rows/s (BENCHMARKS.md)",
              "How long a snapshot takes"),
    InputSpec("load_rate", float, "rows/s", _fixed(30_000.0),
              "BENCHMARKS.md: 40,502 into MariaDB, 32,873 into PostgreSQL; rounded down",
              "Rows a second a restore loads"),
    InputSpec("replay_rate", float, "row changes/s", _fixed(2_350.0),
              "BENCHMARKS.md: replayer restore --resume, 2,354",
              "Row changes a second a restore replays"),
    InputSpec("verify_rate", float, "rows/s", _fixed(None),
              "the RTO leaves verifying out",
              "Rows a second a restore is verified at; when known, the RTO includes verifying"),
    InputSpec("restore_overhead", _duration, "s", _fixed(60.0), "assumed",
              "From the loss to the restore starting: noticing, deciding, a target"),
    InputSpec("capture_lag", _duration, "s", _fixed(1.0),
              "BENCHMARKS.md: capture lag p99 1.0 s", "Capture's lag while healthy"),
    InputSpec("source_loss_rate", float, "per year", _fixed(1.0), "assumed",
              "Losses of the source a year (the changelog survives)"),
    InputSpec("site_loss_rate", float, "per year", _fixed(0.0), "assumed",
              "Losses of source and changelog together a year (the snapshot store survives)"),
    InputSpec("stall_rate", float, "per year", _fixed(12.0), "assumed",
              "Capture stalls a year"),
    InputSpec("stall_duration", _duration, "s", _fixed(1800.0), "assumed",
              "How long a capture stall lasts on average"),
    InputSpec("corruption", float, "per snapshot", _fixed(0.001), "assumed",
              "The probability that a snapshot turns out unusable when restored"),
    InputSpec("storage_cost", float, "per GB-month", _fixed(0.023),
              "S3 Standard list price", "Price of the snapshot store"),
    InputSpec("changelog_storage_cost", float, "per GB-month", _fixed(0.08),
              "block storage list price",
              "Price of the changelog's Kafka disks, replicas included"),
    InputSpec("snapshot_cost", float, "per snapshot-hour", _fixed(1.0), "assumed",
              "Cost of an hour of a snapshot running: source load, machine"),
    InputSpec("downtime_cost", float, "per hour", _fixed(1000.0), "assumed",
              "Cost of an hour of the database down"),
    InputSpec("loss_cost", float, "per loss", _fixed(1_000_000.0), "assumed",
              "Cost of a loss no kept snapshot can restore: the data is gone"),
)


def _input_options(command: Callable[..., None]) -> Callable[..., None]:
    for spec in reversed(INPUTS):
        shown = spec.show(spec.default({"change_rate": 100.0, "snapshot_rows": 1_000_000}))
        command = click.option(
            spec.option, spec.name, callback=_converting(spec.convert),
            metavar=spec.metavar,
            help=f"{spec.help}; default {shown} ({spec.default_note}).")(command)
    return command


@click.command(short_help="Recommend a snapshot interval and retention for an RTO and RPO.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="The capture configuration (TOML); needed by --from-metrics.")
@click.option("--from-metrics", is_flag=True,
              help="Measure what the running system can tell: snapshot size and duration "
                   "(the catalog), the change rate (the changelog), load/replay/verify rates "
                   "(past drills). Options given still win.")
@click.option("--rto", callback=_converting(_duration), metavar="DURATION",
              help="The longest acceptable restore, e.g. 15m.")
@click.option("--rpo", callback=_converting(_duration), metavar="DURATION",
              help="The most acceptable data loss, e.g. 1m.")
@click.option("--window", callback=_converting(_duration), metavar="DURATION",
              help="Restorable history to keep at all times, e.g. 7d (default none).")
@click.option("--percentile", type=click.FloatRange(0, 100, min_open=True), default=99.0,
              show_default=True, help="Where --rto and --rpo are checked, over loss events.")
@click.option("--intervals", multiple=True,
              help=f"Candidate intervals, comma-separated (default {','.join(DEFAULT_INTERVALS)}).")
@click.option("--max-keep", type=click.IntRange(1, 1000), default=DEFAULT_MAX_KEEP,
              show_default=True, help="The most snapshots to consider keeping.")
@_input_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def plan(*, config_path: Path | None, from_metrics: bool, rto: float | None,
         rpo: float | None, window: float | None, percentile: float,
         intervals: tuple[str, ...], max_keep: int, as_json: bool,
         **given: float | None) -> None:
    """Recommend a snapshot schedule: how often to take snapshots (snapshots.interval) and how
    many to keep, the one with the least expected cost per month whose RTO and RPO stay
    within --rto and --rpo at --percentile of losses.

    The model (docs/plan.md): a Markov chain of the system's states (healthy, capture
    behind, source lost, site lost) with the given failure and repair rates; a loss falls
    anywhere in a snapshot interval, so a restore loads the newest usable snapshot and replays
    what changed since its anchor; each snapshot is unusable with probability --corruption,
    and the restore then falls back to the next older one. Cost: snapshot and changelog
    storage, taking snapshots, expected downtime and expected unrecoverable losses.

    Each input is given, measured (--from-metrics) or a default, and the output says which.
    Exits 2 when no schedule meets the bounds, naming the bound that binds.
    """
    try:
        measured, current = _measure(config_path, from_metrics)
        inputs, origins = resolve_inputs(given, measured)
        bounds = Bounds(rto=rto, rpo=rpo, window=window or 0.0, percentile=percentile)
        candidates = parse_intervals(intervals) if intervals else None
        result = make_plan(inputs, bounds, candidates, max_keep)
    except CdcError as exc:
        if not as_json:
            raise
        error: dict[str, object] = {"ok": False, "error": exc.message, "hint": exc.hint,
                                    "exit_status": exc.exit_status}
        if isinstance(exc, NoScheduleError):
            error["constraint"] = exc.constraint
        click.echo(json.dumps(error))
        sys.exit(exc.exit_status)
    warnings = list(measured.warnings) if measured else []
    if as_json:
        click.echo(json.dumps(report(result, inputs, origins, warnings, current)))
    else:
        click.echo(render(result, inputs, origins, warnings, current))


def _measure(config_path: Path | None, from_metrics: bool) -> tuple[Measured | None, str | None]:
    if config_path is None:
        if from_metrics:
            raise PlanInputError("--from-metrics needs --config",
                                 "pass the capture configuration: --config cdc.toml")
        return None, None
    from cdc.config import load_config  # noqa: PLC0415

    config = load_config(config_path, os.environ)
    if not from_metrics:
        return None, config.snapshots.interval
    from cdc.plan.measure import measure  # noqa: PLC0415

    return measure(config), config.snapshots.interval


def resolve_inputs(given: Mapping[str, float | None], measured: Measured | None
                   ) -> tuple[PlanInputs, dict[str, tuple[str, str]]]:
    """Each input: given, else measured, else its default; with where it came from."""
    values: dict[str, float | None] = {}
    origins: dict[str, tuple[str, str]] = {}
    for spec in INPUTS:
        value = given.get(spec.name)
        if value is not None:
            values[spec.name], origins[spec.name] = float(value), ("given", "")
        elif measured is not None and spec.name in measured.values:
            values[spec.name] = measured.values[spec.name]
            origins[spec.name] = ("measured", measured.notes[spec.name])
        else:
            values[spec.name] = spec.default(values)
            origins[spec.name] = ("default", spec.default_note)
    rows, size = values.pop("snapshot_rows"), values.pop("snapshot_bytes")
    verify = values.pop("verify_rate")
    numbers = {name: float(value or 0.0) for name, value in values.items()}
    inputs = PlanInputs(snapshot_rows=round(rows or 0), snapshot_bytes=round(size or 0),
                        verify_rate=verify, **numbers)
    return inputs, origins


def _number(value: float) -> float | None:
    return None if math.isinf(value) or math.isnan(value) else value


def _summary(candidate: Candidate, which: str) -> dict[str, float | None]:
    evaluation = candidate.evaluation
    distribution = evaluation.rto if which == "rto" else evaluation.rpo
    summary = distribution.summary(REPORTED_LEVELS)
    summary["unrecoverable"] = evaluation.unrecoverable  # exact, not 1 - the finite parts
    return {name: _number(value) for name, value in summary.items()}


def schedule_report(candidate: Candidate) -> dict[str, object]:
    evaluation, schedule = candidate.evaluation, candidate.schedule
    return {
        "interval": interval_label(schedule.interval), "interval_s": schedule.interval,
        "keep": schedule.keep, "prune": f"cdc backups prune --keep-last {schedule.keep}",
        "shortest_window_s": evaluation.shortest_window,
        "changelog_needed_s": evaluation.changelog_needed,
        "changelog_retention_ms": math.ceil(evaluation.changelog_needed * 1000),
        "cost_per_month": evaluation.costs.as_dict(),
        "rto_s": _summary(candidate, "rto"), "rpo_s": _summary(candidate, "rpo"),
        "rto_at_percentile_s": _number(candidate.rto_at),
        "rpo_at_percentile_s": _number(candidate.rpo_at),
        "mean_rto_s": evaluation.mean_rto, "states": evaluation.stationary,
        "losses_per_year": evaluation.losses_per_year,
        "losses_during_stall": evaluation.behind_share,
        "unrecoverable": evaluation.unrecoverable,
    }


def report(result: Plan, inputs: PlanInputs, origins: Mapping[str, tuple[str, str]],
           warnings: list[str], current: str | None) -> dict[str, object]:
    bounds = result.bounds
    return {
        "ok": True,
        "recommended": schedule_report(result.best),
        "bounds": {"rto_s": bounds.rto, "rpo_s": bounds.rpo, "window_s": bounds.window,
                   "percentile": bounds.percentile},
        "runners_up": [schedule_report(c) for c in result.runners_up],
        "inputs": {spec.name: {"value": getattr(inputs, spec.name), "unit": spec.unit,
                               "origin": origins[spec.name][0], "note": origins[spec.name][1]}
                   for spec in INPUTS},
        "evaluated": result.considered,
        "skipped_intervals": [interval_label(t) for t in result.skipped_intervals],
        "current_interval": current,
        "warnings": warnings,
    }


def render(result: Plan, inputs: PlanInputs, origins: Mapping[str, tuple[str, str]],
           warnings: list[str], current: str | None) -> str:
    best, bounds = result.best, result.bounds
    evaluation, schedule = best.evaluation, best.schedule
    asked = [f"{name} ≤ {format_duration(value)}" for name, value in
             (("RTO", bounds.rto), ("RPO", bounds.rpo)) if value is not None]
    within = (f"that meets {' and '.join(asked)} at p{bounds.percentile:g} of losses"
              if asked else "(no RTO or RPO bound given)")
    if bounds.window:
        within += f", keeping {format_duration(bounds.window)} restorable"
    lines = [f"the cheapest snapshot schedule {within}:", "",
             "  [snapshots]", f'  interval = "{interval_label(schedule.interval)}"', ""]
    if current is not None:
        never = " (no scheduled snapshots)" if current.strip() == "0" else ""
        lines.append(f'now:         interval = "{current}" in the configuration{never}')
    lines += [
        f"keep:        {schedule.keep} snapshot(s): cdc backups prune --keep-last "
        f"{schedule.keep} after each one",
        f"restorable:  at least {format_duration(evaluation.shortest_window)} back (the oldest "
        "kept snapshot's anchor)",
        f"changelog:   restores need the last {format_duration(evaluation.changelog_needed)} "
        f"(retention.ms = {math.ceil(evaluation.changelog_needed * 1000)}); capture keeps all "
        "of it (retention.ms = -1) and refuses less", ""]
    lines.append(f"{'':12}{'mean':>10}{'p50':>10}{'p95':>10}{'p99':>10}{'max':>11}")
    for name in ("rto", "rpo"):
        summary = _summary(best, name)
        cells = [format_duration(math.inf if v is None else v) for key, v in summary.items()
                 if key in ("mean", "p50", "p95", "p99", "max")]
        lines.append(f"{name.upper():12}" + "".join(f"{cell:>10}" for cell in cells[:-1])
                     + f"{cells[-1]:>11}")
    if bounds.percentile not in REPORTED_LEVELS and asked:
        lines.append(f"at p{bounds.percentile:g}: RTO {format_duration(best.rto_at)}, RPO "
                     f"{format_duration(best.rpo_at)}")
    if evaluation.unrecoverable > 0:
        lines.append(f"(over loss events, the mean over recovered ones; in "
                     f"{evaluation.unrecoverable:.3g} of losses all {schedule.keep} kept "
                     "snapshot(s) are unusable, and RTO and RPO are unbounded)")
    else:
        lines.append("(over loss events)")
    costs = evaluation.costs
    lines += ["", f"cost/month:  {costs.total:,.2f} = downtime {costs.downtime:,.2f} + taking "
              f"snapshots {costs.snapshots_taken:,.2f} + snapshot storage "
              f"{costs.snapshot_storage:,.2f} + changelog storage "
              f"{costs.changelog_storage:,.2f} + unrecoverable losses {costs.data_loss:,.2f}"]
    pi = evaluation.stationary
    lines.append("states:      " + ", ".join(f"{state} {pi[state]:.4%}" for state in
                                             (HEALTHY, BEHIND, SOURCE_LOST, SITE_LOST)))
    losses = evaluation.losses_per_year
    lines.append(f"losses:      {sum(losses.values()):.3g} a year (source {losses[SOURCE_LOST]:.3g}"
                 f", site {losses[SITE_LOST]:.3g}); {evaluation.behind_share:.3%} of source "
                 "losses come while capture is behind")
    if result.runners_up:
        at = f"p{bounds.percentile:g}"
        lines += ["", f"runners-up:  interval  keep  cost/month  RTO {at:<5} RPO {at}"]
        for other in result.runners_up:
            lines.append(
                f"{'':13}{interval_label(other.schedule.interval):<10}{other.schedule.keep:>4}"
                f"{other.cost:>12,.2f}  {format_duration(other.rto_at):>9} "
                f"{format_duration(other.rpo_at):>9}")
    lines += ["", "inputs:"]
    for spec in INPUTS:
        shown = spec.show(getattr(inputs, spec.name))
        origin, note = origins[spec.name]
        lines.append(f"  {spec.option:<26}{shown:<30}{origin}{': ' + note if note else ''}")
    lines.append(f"evaluated {result.considered} schedules"
                 + (f"; skipped intervals shorter than a snapshot takes: "
                    f"{', '.join(map(interval_label, result.skipped_intervals))}"
                    if result.skipped_intervals else ""))
    lines += [f"warning: {warning}" for warning in warnings]
    return "\n".join(lines)
