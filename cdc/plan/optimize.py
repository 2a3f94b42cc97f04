"""The cheapest schedule within the bounds, or the bound no schedule can meet. Pure.

Every candidate interval ``T`` (no shorter than a snapshot takes) and every retention
``k = 1 .. max_keep`` is evaluated. Per interval the fallback-depth terms are computed once
(``DepthTable``) and every retention reads its prefix, so the whole search is
``intervals x max_keep`` evaluations of a four-state chain. The schedules that meet every
bound are ranked by expected cost per month (ties: fewer snapshots kept, then the longer
interval); when none does, the error names the bound that binds, what the best schedule for it
reaches, why, and what to change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cdc.config.models import parse_duration
from cdc.plan.distribution import percentile_name
from cdc.plan.errors import NoScheduleError, PlanInputError
from cdc.plan.model import Bounds, DepthTable, Evaluation, PlanInputs, Schedule, evaluate
from cdc.plan.units import format_duration, interval_label

DEFAULT_INTERVALS = ("15m", "30m", "1h", "2h", "3h", "4h", "6h", "8h", "12h", "1d", "2d", "3d",
                     "7d")
DEFAULT_MAX_KEEP = 30
REPORTED_LEVELS = (50.0, 95.0, 99.0)
_SLACK = 1e-9


@dataclass(frozen=True)
class Violation:
    constraint: str
    """``rto``, ``rpo`` or ``window``."""
    value: float
    bound: float

    @property
    def excess(self) -> float:
        """How far over (under, for the window) the bound, as a ratio."""
        if self.constraint == "window":
            return self.bound / self.value if self.value > 0 else math.inf
        return self.value / self.bound if self.bound > 0 else math.inf

    def describe(self, percentile: float) -> str:
        at = percentile_name(percentile)
        if self.constraint == "window":
            return (f"keeps only {format_duration(self.value)} restorable, not "
                    f"{format_duration(self.bound)}")
        return (f"{self.constraint.upper()} {at} {format_duration(self.value)} > "
                f"{format_duration(self.bound)}")


@dataclass(frozen=True)
class Candidate:
    evaluation: Evaluation
    rto_at: float
    """The RTO at the bounds' percentile."""
    rpo_at: float
    violations: tuple[Violation, ...]

    @property
    def schedule(self) -> Schedule:
        return self.evaluation.schedule

    @property
    def cost(self) -> float:
        return self.evaluation.costs.total

    @property
    def feasible(self) -> bool:
        return not self.violations

    def rank(self) -> tuple[float, int, int]:
        return (self.cost, self.schedule.keep, -self.schedule.interval)


@dataclass(frozen=True)
class Plan:
    best: Candidate
    runners_up: tuple[Candidate, ...]
    """The best schedule of each next-cheapest interval."""
    bounds: Bounds
    considered: int
    skipped_intervals: tuple[int, ...]
    """Candidate intervals shorter than a snapshot takes (the same as back to back)."""


def parse_intervals(texts: Sequence[str]) -> tuple[int, ...]:
    """Seconds, sorted and without repeats; each a ``snapshots.interval`` duration."""
    seconds = set()
    for text in texts:
        for part in text.split(","):
            if not part.strip():
                continue
            try:
                value = parse_duration(part)
            except ValueError as exc:
                raise PlanInputError(f"--intervals: {exc}", "list durations such as "
                                     "'15m,1h,6h,1d'") from None
            if value <= 0:
                raise PlanInputError("--intervals: an interval of 0 takes no snapshot",
                                     "list positive durations such as '15m,1h,6h,1d'")
            seconds.add(value)
    if not seconds:
        raise PlanInputError("--intervals lists no interval", "e.g. --intervals 1h,6h,1d")
    return tuple(sorted(seconds))


def candidates(inputs: PlanInputs, bounds: Bounds, intervals: Sequence[int],
               max_keep: int) -> list[Candidate]:
    """Every (interval, retention) pair, evaluated and checked against the bounds."""
    level = bounds.percentile / 100
    found = []
    for interval in intervals:
        table = DepthTable(inputs, interval)
        for keep in range(1, max_keep + 1):
            evaluation = evaluate(inputs, Schedule(interval, keep), table)
            rto_at = evaluation.rto.quantile(level)
            rpo_at = evaluation.rpo.quantile(level)
            found.append(Candidate(evaluation, rto_at, rpo_at,
                                   _violations(evaluation, bounds, rto_at, rpo_at)))
    return found


def make_plan(inputs: PlanInputs, bounds: Bounds, intervals: Sequence[int] | None = None,
              max_keep: int = DEFAULT_MAX_KEEP, runners_up: int = 4) -> Plan:
    inputs.check()
    bounds.check()
    if max_keep < 1:
        raise PlanInputError(f"--max-keep is {max_keep}", "keep at least 1 snapshot")
    wanted = tuple(sorted(set(intervals))) if intervals else parse_intervals(DEFAULT_INTERVALS)
    usable = tuple(t for t in wanted if t >= inputs.snapshot_duration)
    skipped = tuple(t for t in wanted if t < inputs.snapshot_duration)
    if not usable:
        raise NoScheduleError(
            "interval", f"every candidate interval ({', '.join(map(interval_label, wanted))}) "
            f"is shorter than a snapshot takes ({format_duration(inputs.snapshot_duration)})",
            "list longer intervals with --intervals; a snapshot starts only after the last "
            "one finished")
    found = candidates(inputs, bounds, usable, max_keep)
    feasible = sorted((c for c in found if c.feasible), key=Candidate.rank)
    if not feasible:
        raise no_schedule_error(inputs, bounds, found, max_keep)
    best = feasible[0]
    others: list[Candidate] = []
    seen = {best.schedule.interval}
    for candidate in feasible[1:]:
        if candidate.schedule.interval not in seen and len(others) < runners_up:
            seen.add(candidate.schedule.interval)
            others.append(candidate)
    return Plan(best, tuple(others), bounds, len(found), skipped)


def _violations(evaluation: Evaluation, bounds: Bounds, rto_at: float,
                rpo_at: float) -> tuple[Violation, ...]:
    found = []
    if bounds.rto is not None and rto_at > bounds.rto * (1 + _SLACK):
        found.append(Violation("rto", rto_at, bounds.rto))
    if bounds.rpo is not None and rpo_at > bounds.rpo * (1 + _SLACK):
        found.append(Violation("rpo", rpo_at, bounds.rpo))
    if evaluation.shortest_window < bounds.window * (1 - _SLACK):
        found.append(Violation("window", evaluation.shortest_window, bounds.window))
    return tuple(found)


def no_schedule_error(inputs: PlanInputs, bounds: Bounds, found: Sequence[Candidate],
                      max_keep: int) -> NoScheduleError:
    """The bound no candidate meets even alone, with the best it reaches and why; or, when
    each can be met alone, the closest miss of them together."""
    for constraint in ("window", "rto", "rpo"):
        if not any(v.constraint == constraint for c in found for v in c.violations):
            continue
        if any(not any(v.constraint == constraint for v in c.violations) for c in found):
            continue  # some schedule meets this one alone
        if constraint == "window":
            return _window_error(inputs, bounds, found, max_keep)
        if constraint == "rto":
            return _rto_error(inputs, bounds, found, max_keep)
        return _rpo_error(inputs, bounds, found, max_keep)
    closest = min(found, key=lambda c: (len(c.violations),
                                        max(v.excess for v in c.violations), c.rank()))
    asked = _bounds_text(bounds)
    misses = "; ".join(v.describe(bounds.percentile) for v in closest.violations)
    return NoScheduleError(
        "together", f"no schedule meets {asked} together: each can be met alone, but the "
        f"closest, {_schedule_text(closest)}, misses: {misses}",
        "loosen one of the bounds, or make restores faster (--load-rate, --replay-rate) or "
        "snapshots more reliable (--corruption)")


def _rto_error(inputs: PlanInputs, bounds: Bounds, found: Sequence[Candidate],
               max_keep: int) -> NoScheduleError:
    assert bounds.rto is not None
    best = _cheapest_of_best(found, lambda c: c.rto_at)
    at = percentile_name(bounds.percentile)
    head = (f"no schedule meets RTO ≤ {format_duration(bounds.rto)} at {at}: even "
            f"{_schedule_text(best)} needs {format_duration(best.rto_at)}")
    floor = inputs.restore_overhead + inputs.verify_s + inputs.load_s
    if math.isinf(best.rto_at):
        return NoScheduleError("rto", f"{head} ({_unrecoverable_text(inputs, bounds, best)})",
                               _unrecoverable_hint(max_keep))
    if floor >= bounds.rto * (1 - _SLACK):
        if floor == inputs.load_s:
            reason = f"load alone takes {format_duration(inputs.load_s)}"
        else:
            parts = [f"loading the snapshot {format_duration(inputs.load_s)}"]
            if inputs.restore_overhead:
                parts.insert(0, f"the restore's start {format_duration(inputs.restore_overhead)}")
            if inputs.verify_s:
                parts.append(f"verifying {format_duration(inputs.verify_s)}")
            reason = f"{' + '.join(parts)} alone take {format_duration(floor)}"
        return NoScheduleError(
            "rto", f"{head} ({reason}, whatever the interval)",
            f"the load is the floor: load faster (--load-rate), take smaller snapshots, start "
            f"sooner (--restore-overhead), or allow --rto {_at_least(best.rto_at)}")
    replay = inputs.replay_ratio * (inputs.snapshot_duration + best.schedule.interval)
    return NoScheduleError(
        "rto", f"{head} (load {format_duration(inputs.load_s)}, then replaying up to "
        f"{format_duration(replay)} of changes at {inputs.replay_rate:,.0f} row changes/s)",
        "shorter intervals (--intervals; no shorter than a snapshot takes, "
        f"{format_duration(inputs.snapshot_duration)}), faster replay (--replay-rate), or "
        f"allow --rto {_at_least(best.rto_at)}")


def _rpo_error(inputs: PlanInputs, bounds: Bounds, found: Sequence[Candidate],
               max_keep: int) -> NoScheduleError:
    assert bounds.rpo is not None
    best = _cheapest_of_best(found, lambda c: c.rpo_at)
    at = percentile_name(bounds.percentile)
    head = (f"no schedule meets RPO ≤ {format_duration(bounds.rpo)} at {at}: even "
            f"{_schedule_text(best)} loses up to {format_duration(best.rpo_at)}")
    if math.isinf(best.rpo_at):
        return NoScheduleError("rpo", f"{head} ({_unrecoverable_text(inputs, bounds, best)})",
                               _unrecoverable_hint(max_keep))
    evaluation = best.evaluation
    tail = 1 - bounds.percentile / 100
    share = _loss_shares(evaluation)
    reasons, hints = [], []
    if share["behind"] > tail:
        reasons.append(
            f"capture stalls: {share['behind']:.2%} of losses come while capture is behind "
            f"(a stall lasts {format_duration(inputs.stall_duration)} on average), more than "
            f"the {tail:.2%} {at} leaves out, and no schedule changes that")
        hints.append("shorter stalls (alert on 'cdc window' RPO; --stall-duration) or fewer "
                     "(--stall-rate)")
    if share["site"] > tail:
        reasons.append(
            f"site losses: {share['site']:.2%} of losses take the changelog too, and lose "
            "everything after the newest usable snapshot's anchor, at least "
            f"{format_duration(inputs.snapshot_duration)} (a snapshot's duration)")
        hints.append("a changelog that survives the site (a replica elsewhere) or faster "
                     "snapshots with shorter --intervals")
    if inputs.capture_lag >= bounds.rpo * (1 - _SLACK):
        reasons.append(f"capture is {format_duration(inputs.capture_lag)} behind even when "
                       "healthy (--capture-lag)")
        hints.append("less capture lag")
    reason = "; ".join(reasons) or "the losses' mixture puts it there"
    return NoScheduleError("rpo", f"{head} ({reason})",
                           f"{'; '.join(hints) or 'look at the inputs'}; or allow "
                           f"--rpo {_at_least(best.rpo_at)}")


def _window_error(inputs: PlanInputs, bounds: Bounds, found: Sequence[Candidate],
                  max_keep: int) -> NoScheduleError:
    best = max(found, key=lambda c: (c.evaluation.shortest_window, -c.cost))
    interval = best.schedule.interval
    needed = math.ceil((bounds.window - inputs.snapshot_duration) / interval) + 1
    return NoScheduleError(
        "window", f"no schedule keeps {format_duration(bounds.window)} restorable: "
        f"{max_keep} snapshot(s) every {interval_label(interval)} reach back only "
        f"{format_duration(best.evaluation.shortest_window)}",
        f"allow --max-keep {needed} or more, longer --intervals, or a shorter --window")


def _cheapest_of_best(found: Sequence[Candidate],
                      metric: Callable[[Candidate], float]) -> Candidate:
    """The cheapest of the candidates whose ``metric`` is the lowest (to rounding)."""
    lowest = min(metric(c) for c in found)
    near = [c for c in found if metric(c) <= lowest * (1 + _SLACK) or metric(c) == lowest]
    return min(near, key=Candidate.rank)


def _loss_shares(evaluation: Evaluation) -> dict[str, float]:
    losses = evaluation.losses_per_year
    total = sum(losses.values())
    source = losses["source_lost"] / total
    return {"behind": source * evaluation.behind_share * (1 - evaluation.unrecoverable),
            "site": losses["site_lost"] / total}


def _unrecoverable_text(inputs: PlanInputs, bounds: Bounds, best: Candidate) -> str:
    tail = 1 - bounds.percentile / 100
    return (f"each snapshot is unusable with probability {inputs.corruption:g}, so "
            f"{best.evaluation.unrecoverable:.3g} of restores find none of the "
            f"{best.schedule.keep} kept usable, more than the {tail:.3g} "
            f"{percentile_name(bounds.percentile)} leaves out")


def _unrecoverable_hint(max_keep: int) -> str:
    return (f"keep more snapshots (--max-keep, now {max_keep}), check them with "
            "'cdc backups verify' so that fewer turn out unusable (--corruption), or a lower "
            "--percentile")


def _schedule_text(candidate: Candidate) -> str:
    schedule = candidate.schedule
    return (f"a snapshot every {interval_label(schedule.interval)} keeping {schedule.keep}")


def _bounds_text(bounds: Bounds) -> str:
    at = percentile_name(bounds.percentile)
    asked = []
    if bounds.rto is not None:
        asked.append(f"RTO ≤ {format_duration(bounds.rto)}")
    if bounds.rpo is not None:
        asked.append(f"RPO ≤ {format_duration(bounds.rpo)}")
    text = " and ".join(asked) + f" at {at}" if asked else ""
    if bounds.window:
        text = f"{text} and " if text else ""
        text += f"{format_duration(bounds.window)} restorable"
    return text


def _at_least(seconds: float) -> str:
    """A duration ``--rto``/``--rpo`` accepts, at or above ``seconds``."""
    for size in (1, 60, 3600, 86400):
        if seconds <= 100 * size or size == 86400:
            return interval_label(max(size, math.ceil(seconds / size) * size))
    raise AssertionError("unreachable")
