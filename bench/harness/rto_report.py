"""The RTO drill's result as text (for people and BENCHMARKS.md) and as JSON. Pure."""

from __future__ import annotations

import json

from bench.harness.rto_result import PROOF_PHASE, RTO_PHASES, DrillSide, RtoResult
from bench.harness.text_table import text_table

_HEADER = ("restore", "runs", "verdict", "start-up, plan", "load", "indexes", "replay", "RTO",
           "dominant", "verify")


def format_json(result: RtoResult) -> str:
    return json.dumps(result.to_dict())


def format_text(result: RtoResult) -> str:
    d, m = result.data, result.machine
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in d.row_changes_by_kind.items())
    made = ", ".join(f"{step} {seconds:,.0f} s" for step, seconds in d.made_in_s.items())
    lines = [
        f"RTO drill, {result.date}",
        f"data: {d.database}.payments, {d.rows:,} rows in snapshot {d.snapshot_id} "
        f"({d.snapshot_bytes / 1e6:,.0f} MB of files; the dump {d.dump_bytes / 1e6:,.0f} MB), "
        f"then {d.row_changes:,} row changes ({kinds}) in {d.transactions:,} transactions",
        f"data made {d.made_at}" + (" (kept from an earlier run)" if d.reused else "")
        + (f": {made}" if made else ""),
        f"machine: {m.cpus} CPUs, {m.cpu_model}; {m.mariadb}; PostgreSQL {result.postgres}; "
        f"Python {m.python}; load average at the end {m.load_average or '-'}",
        "",
        text_table([_HEADER, *(_row(side) for side in result.sides)],
                   right=frozenset({1, 3, 4, 5, 6, 7, 9})),
        "",
        "seconds, medians over the runs; RTO = start-up and planning + load + indexes + "
        "replay (what is waited for before the copy can serve); verify is the proof after it",
    ]
    lines += [_verdict_line(result)]
    lines += [f"problem: {s.label}: {s.problem}" for s in result.sides if s.problem]
    lines += [f"{s.label}, run {n}: {r.verdict}: {r.detail}" for s in result.sides
              for n, r in enumerate(s.runs, 1) if r.detail]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def _row(side: DrillSide) -> tuple[str, ...]:
    verdicts = sorted({r.verdict for r in side.runs}) or ["not run"]
    cells = [_seconds(side.phase_s(name)) for name in RTO_PHASES]
    return (side.label, str(len(side.runs)), "/".join(verdicts), *cells,
            _seconds(side.rto_s), side.dominant or "-", _seconds(side.phase_s(PROOF_PHASE)))


def _verdict_line(result: RtoResult) -> str:
    met = result.target_met()
    ours = [s for s in result.sides if s.engine == result.target_engine
            and s.label.startswith("replayer")]
    if met is None or not ours or ours[0].rto_s is None:
        return f"RTO into {result.target_engine}: not measured"
    side = ours[0]
    assert side.rto_s is not None
    share = (side.phase_s(side.dominant) or 0.0) / side.rto_s if side.dominant else 0.0
    return (f"RTO into {result.target_engine}: {side.rto_s:,.1f} s against a target of "
            f"{result.target_s:,.0f} s: {'met' if met else 'NOT met'}; {side.dominant} "
            f"dominates ({share:.0%} of it)")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"
