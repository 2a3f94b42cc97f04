"""``cdc plan``'s model and optimizer against small chains solved by hand.

Every scenario starts from ``quiet_inputs``: a snapshot takes D = 0.1 h (360 s) and loads in
L = 0.2 h (720,000 rows at 1,000 rows/s); changes come at 100 row changes/s and replay at 200,
so replay takes rho = 0.5 s per second of changes; the restore starts at once (F = 0); the
source is lost a = 0.01 times an hour (87.66 a year); no stalls, no site loss, no corruption;
an hour down costs 100, an hour of snapshot running 5, storage nothing.

Shared formulas (docs/plan.md):
- a loss falls uniformly in the interval, so the newest snapshot's anchor is A old, A uniform
  on [D, D + T]; a restore from it takes RTO = F + L + rho A;
- mean RTO E = F + L + rho (D + T/2), which with the numbers above is 0.25 + T/4 hours;
- with the loss rate the same in every up state, the chain gives pi_down = a E / (1 + a E) and
  losses per hour a / (1 + a E);
- cost a month (730.5 hours) = 730.5 * (downtime cost * pi_down + D / T * snapshot cost
  + losses per hour * p^k * loss cost) + storage.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from cdc.plan.distribution import Distribution, Part
from cdc.plan.errors import NoScheduleError, PlanInputError
from cdc.plan.model import (
    BEHIND,
    HEALTHY,
    HOURS_PER_YEAR,
    SOURCE_LOST,
    Bounds,
    DepthTable,
    PlanInputs,
    Schedule,
    evaluate,
)
from cdc.plan.optimize import make_plan, parse_intervals

MONTH = 730.5
HOUR = 3600


def quiet_inputs(**changes: Any) -> PlanInputs:
    base = PlanInputs(
        change_rate=100, change_bytes_rate=0, snapshot_rows=720_000, snapshot_bytes=0,
        snapshot_duration=360, load_rate=1000, replay_rate=200, verify_rate=None,
        restore_overhead=0, capture_lag=1, source_loss_rate=0.01 * HOURS_PER_YEAR,
        site_loss_rate=0, stall_rate=0, stall_duration=HOUR, corruption=0, storage_cost=0,
        changelog_storage_cost=0, snapshot_cost=5, downtime_cost=100, loss_cost=0)
    return dataclasses.replace(base, **changes)


HOURLY = (HOUR, 2 * HOUR, 4 * HOUR)


# --- chain 1: two states, healthy <-> source_lost ----------------------------------------------

def two_state_cost(interval_h: float, snapshot_cost: float) -> float:
    mean_rto = 0.25 + interval_h / 4
    down = 0.01 * mean_rto / (1 + 0.01 * mean_rto)
    return MONTH * (100 * down + 0.1 / interval_h * snapshot_cost)


@pytest.mark.parametrize(("snapshot_cost", "best_h", "cost"), [
    # Snapshots cost 5 an hour. T = 1 h: E = 0.5 h, pi_down = 0.005/1.005 = 0.0049751,
    # downtime 73,050 * 0.0049751 = 363.43, snapshots 730.5 * 0.1 * 5 = 365.25: 728.68.
    # T = 2 h: E = 0.75 h, pi_down = 0.0075/1.0075, downtime 543.80 + snapshots 182.63 = 726.42.
    # T = 4 h: E = 1.25 h, pi_down = 0.0125/1.0125, downtime 901.85 + 91.31 = 993.16. Best: 2 h.
    (5.0, 2, 726.4215),
    # At 1 an hour snapshots are cheap: 363.43 + 73.05 = 436.48 beats 543.80 + 36.53. 1 h.
    (1.0, 1, 436.4828),
    # At 20 an hour: 1,824.43 (1 h), 1,274.30 (2 h), 1,267.10 (4 h). 4 h.
    (20.0, 4, 1267.1019),
])
def test_two_states_the_interval_trades_snapshots_against_downtime(
        snapshot_cost: float, best_h: int, cost: float) -> None:
    plan = make_plan(quiet_inputs(snapshot_cost=snapshot_cost), Bounds(), HOURLY, max_keep=1)
    assert plan.best.schedule == Schedule(best_h * HOUR, 1)
    assert plan.best.cost == pytest.approx(cost, abs=1e-3)
    assert plan.best.cost == pytest.approx(two_state_cost(best_h, snapshot_cost), rel=1e-9)
    others = [c.schedule.interval // HOUR for c in plan.runners_up]
    costs = {h: two_state_cost(h, snapshot_cost) for h in (1, 2, 4) if h != best_h}
    assert others == sorted(costs, key=costs.__getitem__)
    evaluation = plan.best.evaluation
    assert evaluation.stationary[SOURCE_LOST] == pytest.approx(
        0.01 * (0.25 + best_h / 4) / (1 + 0.01 * (0.25 + best_h / 4)), rel=1e-12)


def test_two_states_the_rto_distribution_is_uniform_over_the_interval() -> None:
    # T = 2 h: RTO = L + rho A, A uniform on [360, 7560] s: uniform on [900, 4500] s.
    # p50 = 2,700, p95 = 900 + 0.95 * 3,600 = 4,320, p99 = 4,464, max 4,500.
    evaluation = evaluate(quiet_inputs(), Schedule(2 * HOUR, 1))
    summary = evaluation.rto.summary((50, 95, 99))
    assert summary == pytest.approx({"mean": 2700, "p50": 2700, "p95": 4320, "p99": 4464,
                                     "max": 4500, "unrecoverable": 0}, abs=1e-6)
    # The RPO is capture's healthy lag, whatever the schedule.
    assert evaluation.rpo.summary((99,)) == pytest.approx(
        {"mean": 1, "p99": 1, "max": 1, "unrecoverable": 0})


def test_two_states_an_rto_bound_moves_the_choice_to_a_shorter_interval() -> None:
    # 2 h is cheapest but its p99 is 4,464 s; 1 h: uniform on [900, 2,700], p99 2,682 s.
    plan = make_plan(quiet_inputs(), Bounds(rto=4000), HOURLY, max_keep=1)
    assert plan.best.schedule == Schedule(HOUR, 1)
    assert plan.best.rto_at == pytest.approx(2682)
    assert plan.best.cost == pytest.approx(two_state_cost(1, 5.0), rel=1e-9)
    # At p50 the 2 h schedule's 2,700 s is within 4,000 s again.
    plan = make_plan(quiet_inputs(), Bounds(rto=4000, percentile=50), HOURLY, max_keep=1)
    assert plan.best.schedule == Schedule(2 * HOUR, 1)


def test_an_rto_below_the_load_alone_is_refused_naming_it() -> None:
    with pytest.raises(NoScheduleError) as refused:
        make_plan(quiet_inputs(), Bounds(rto=600), HOURLY, max_keep=1)
    assert refused.value.constraint == "rto"
    assert refused.value.message == (
        "no schedule meets RTO ≤ 10m at p99: even a snapshot every 1h keeping 1 needs 44m42s "
        "(load alone takes 12m, whatever the interval)")
    assert "--load-rate" in refused.value.hint
    assert refused.value.exit_status == 2


def test_an_rto_the_replay_cannot_meet_is_refused_naming_it() -> None:
    # Shortest interval 1 h: p99 2,682 s = 44m42s > 2,000 s; the replay reaches
    # rho (D + T) = 0.5 * 3,960 = 1,980 s = 33m.
    with pytest.raises(NoScheduleError) as refused:
        make_plan(quiet_inputs(), Bounds(rto=2000), HOURLY, max_keep=1)
    assert refused.value.constraint == "rto"
    assert refused.value.message == (
        "no schedule meets RTO ≤ 33m20s at p99: even a snapshot every 1h keeping 1 needs "
        "44m42s (load 12m, then replaying up to 33m of changes at 200 row changes/s)")
    assert "shorter intervals" in refused.value.hint
    assert "--rto 45m" in refused.value.hint


# --- chain 2: three states, healthy / capture_behind / source_lost ------------------------------

STALLS = {"stall_rate": 0.02 * HOURS_PER_YEAR, "stall_duration": HOUR,
          "source_loss_rate": 0.001 * HOURS_PER_YEAR, "downtime_cost": 1000,
          "snapshot_cost": 6}


def test_three_states_stalls_set_the_rpo_and_the_chain_the_downtime() -> None:
    # b = 0.02/h into capture_behind, mu = 1/h out, a = 0.001/h from either into source_lost.
    # Balance of behind: pi_B (mu + a) = pi_H b. Of source lost: pi_L / E = (pi_H + pi_B) a.
    # So with u = pi_H + pi_B: u (1 + a E) = 1, pi_L = a E / (1 + a E), and a loss comes
    # while behind with probability f = pi_B / u = b / (mu + a + b) = 0.02 / 1.021 = 1.9589%.
    # Cost: T = 1 h: E = 0.5: 730,500 * 0.0005/1.0005 = 365.07 + 730.5 * 0.1 * 6 = 438.30:
    # 803.37. T = 2 h: E = 0.75: 547.4644 + 219.15 = 766.6144. T = 4 h: 912.00 + 109.58.
    plan = make_plan(quiet_inputs(**STALLS), Bounds(rpo=HOUR), HOURLY, max_keep=1)
    assert plan.best.schedule == Schedule(2 * HOUR, 1)
    assert plan.best.cost == pytest.approx(766.6144, abs=1e-3)
    pi = plan.best.evaluation.stationary
    u = 1 / (1 + 0.001 * 0.75)
    assert pi == pytest.approx({HEALTHY: u * 1.001 / 1.021, BEHIND: u * 0.02 / 1.021,
                                SOURCE_LOST: 1 - u, "site_lost": 0}, rel=1e-12)
    assert plan.best.evaluation.behind_share == pytest.approx(0.02 / 1.021, rel=1e-12)
    # RPO: capture's 1 s lag, plus, for the losses during a stall, the stall's age then:
    # exponential with mean 1 / (mu + a) = 3,596.4 s. P(RPO > x) = f exp(-(x - 1) / m), so
    # p99 = 1 + m ln(f / 0.01) = 1 + 3,596.40 * 0.672363 = 2,419.1 s (40m19s).
    m = HOUR / 1.001
    f = 0.02 / 1.021
    assert plan.best.rpo_at == pytest.approx(1 + m * math.log(f / 0.01), rel=1e-9)
    assert plan.best.rpo_at == pytest.approx(2419.1, abs=0.1)
    assert plan.best.evaluation.rpo.mean == pytest.approx(1 + f * m, rel=1e-9)


def test_three_states_an_rpo_the_stalls_break_is_refused_naming_them() -> None:
    # p99 is 40m19s whatever the interval; the message names the cheapest schedule (2 h).
    with pytest.raises(NoScheduleError) as refused:
        make_plan(quiet_inputs(**STALLS), Bounds(rpo=30 * 60), HOURLY, max_keep=1)
    assert refused.value.constraint == "rpo"
    assert refused.value.message.startswith(
        "no schedule meets RPO ≤ 30m at p99: even a snapshot every 2h keeping 1 loses up to "
        "40m19s (capture stalls: 1.96% of losses come while capture is behind (a stall lasts "
        "1h on average), more than the 1.00% p99 leaves out, and no schedule changes that)")
    assert "--stall-duration" in refused.value.hint
    assert "--rpo 41m" in refused.value.hint


# --- chain 3: retention, as corruption and storage price change --------------------------------

def corrupt_cost(keep: int, p: float, storage: float) -> float:
    """One interval (1 h), no replay (rho = 0), 1 GB snapshots at ``storage`` a GB-month,
    losses nobody can restore cost 10,000. Restoring from depth j takes (j + 1) L."""
    mean_rto = sum(p ** j * (1 - p) * (j + 1) * 0.2 for j in range(keep)) / (1 - p ** keep)
    down = 0.01 * mean_rto / (1 + 0.01 * mean_rto)
    losses = 0.01 / (1 + 0.01 * mean_rto)
    return keep * storage + MONTH * (100 * down + losses * p ** keep * 10_000)


@pytest.mark.parametrize(("corruption", "storage", "keep", "cost"), [
    # p = 0: every extra snapshot is storage for nothing. k = 1: E = 0.2 h,
    # 73,050 * 0.002/1.002 = 145.81 + 10 = 155.81.
    (0.0, 10.0, 1, 155.8084),
    # p = 0.01. k = 1: 145.81 downtime + losses 730.5 * (0.01/1.002) * 0.01 * 10,000 = 729.04
    # + 10: 884.85. k = 2: E = (0.99 * 0.2 + 0.0099 * 0.4) / 0.9999 = 0.20198 h, downtime
    # 147.25, losses 7.29, storage 20: 174.54. k = 3: 147.26 + 0.07 + 30 = 177.35. Keep 2.
    (0.01, 10.0, 2, 174.5394),
    # p = 0.1: 7,446.23 (1), 907.94 (2), 264.43 (3), 209.20 (4), 212.70 (5). Keep 4.
    (0.1, 10.0, 4, 209.2040),
    # p = 0.1, storage 100 a snapshot: 569.20 (4) > 534.43 (3) < 1,087.94 (2). Keep 3.
    (0.1, 100.0, 3, 534.4251),
])
def test_retention_flips_with_corruption_and_storage_price(
        corruption: float, storage: float, keep: int, cost: float) -> None:
    inputs = quiet_inputs(change_rate=0, corruption=corruption, snapshot_bytes=10**9,
                          storage_cost=storage, snapshot_cost=0, loss_cost=10_000)
    plan = make_plan(inputs, Bounds(), (HOUR,), max_keep=6)
    assert plan.best.schedule == Schedule(HOUR, keep)
    assert plan.best.cost == pytest.approx(cost, abs=1e-3)
    assert plan.best.cost == pytest.approx(corrupt_cost(keep, corruption, storage), rel=1e-9)
    assert plan.best.evaluation.unrecoverable == pytest.approx(corruption ** keep)


def test_the_fallback_rto_is_a_mixture_over_depth() -> None:
    # T = 1 h, k = 2, p = 0.1. Depth 0 (0.9): L + rho A, uniform [900, 2,700] s. Depth 1
    # (0.09): a wasted load, then 2L + rho (A + T): uniform [3,420, 5,220] s. None (0.01).
    # p50: 900 + 1,800 * 0.5/0.9 = 1,900. p95: 0.9 + 0.09 (x - 3,420)/1,800 = 0.95,
    # x = 4,420. p99: x = 5,220. Mean of the recovered: (0.9 * 1,800 + 0.09 * 4,320) / 0.99.
    evaluation = evaluate(quiet_inputs(corruption=0.1), Schedule(HOUR, 2))
    summary = evaluation.rto.summary((50, 95, 99))
    assert summary == pytest.approx({"mean": (0.9 * 1800 + 0.09 * 4320) / 0.99, "p50": 1900,
                                     "p95": 4420, "p99": 5220, "max": math.inf,
                                     "unrecoverable": 0.01}, abs=1e-6)
    assert evaluation.mean_rto[SOURCE_LOST] == pytest.approx((0.9 * 1800 + 0.09 * 4320) / 0.99)
    # One kept snapshot: 10% of restores find nothing, more than the 1% p99 leaves out.
    with pytest.raises(NoScheduleError) as refused:
        make_plan(quiet_inputs(corruption=0.1), Bounds(rto=HOUR), HOURLY, max_keep=1)
    assert refused.value.constraint == "rto"
    assert "0.1 of restores find none of the 1 kept usable" in refused.value.message
    assert "--max-keep" in refused.value.hint


def test_the_depth_table_is_shared_across_retentions() -> None:
    inputs = quiet_inputs(corruption=0.1)
    table = DepthTable(inputs, HOUR)
    shared = [evaluate(inputs, Schedule(HOUR, k), table) for k in (3, 1, 2)]
    fresh = [evaluate(inputs, Schedule(HOUR, k)) for k in (3, 1, 2)]
    for one, other in zip(shared, fresh, strict=True):
        assert one.costs == other.costs
        assert one.mean_rto == other.mean_rto
    assert [t.depth for t in table.upto(3)] == [0, 1, 2]
    assert [t.reached for t in table.upto(3)] == pytest.approx([1, 0.1, 0.01])


# --- chain 4: site losses, where the RPO depends on the interval -------------------------------

def test_site_losses_make_the_rpo_the_snapshot_age() -> None:
    # Source and changelog lost together: the RPO is the anchor's age A, uniform on
    # [D, D + T], and the restore is the load alone. Cheapest: 1 h (snapshots 365.25 against
    # 730.50 a month; downtime the same). p99 of 1 h: 360 + 0.99 * 3,600 = 3,924 s > 3,600;
    # of 30 m: 360 + 0.99 * 1,800 = 2,142 s.
    inputs = quiet_inputs(source_loss_rate=0, site_loss_rate=0.01 * HOURS_PER_YEAR)
    intervals = (HOUR // 2, HOUR)
    assert make_plan(inputs, Bounds(), intervals, max_keep=1).best.schedule == Schedule(HOUR, 1)
    plan = make_plan(inputs, Bounds(rpo=HOUR), intervals, max_keep=1)
    assert plan.best.schedule == Schedule(HOUR // 2, 1)
    assert plan.best.rpo_at == pytest.approx(2142)
    assert plan.best.rto_at == pytest.approx(720)
    down = 0.01 * 0.2 / (1 + 0.01 * 0.2)
    assert plan.best.cost == pytest.approx(MONTH * (100 * down + 0.1 / 0.5 * 5), rel=1e-9)


# --- the other bounds --------------------------------------------------------------------------

def test_a_window_no_retention_reaches_is_refused_with_the_retention_it_needs() -> None:
    # 3 snapshots every 4 h reach back at least D + 2 * 4 h = 8h6m; 1 d needs
    # ceil((86,400 - 360) / 14,400) + 1 = 7.
    with pytest.raises(NoScheduleError) as refused:
        make_plan(quiet_inputs(), Bounds(window=86400), HOURLY, max_keep=3)
    assert refused.value.constraint == "window"
    assert refused.value.message == ("no schedule keeps 1d restorable: 3 snapshot(s) every 4h "
                                     "reach back only 8h6m")
    assert "--max-keep 7" in refused.value.hint
    plan = make_plan(quiet_inputs(), Bounds(window=86400), HOURLY, max_keep=7)
    assert plan.best.evaluation.shortest_window >= 86400


def test_bounds_each_met_alone_but_not_together_are_named_together() -> None:
    # The RTO bound needs 1 h (p99 2,682 s); keeping 8 h with at most 3 snapshots needs 4 h.
    with pytest.raises(NoScheduleError) as refused:
        make_plan(quiet_inputs(), Bounds(rto=3000, window=8 * HOUR), (HOUR, 4 * HOUR),
                  max_keep=3)
    assert refused.value.constraint == "together"
    assert refused.value.message.startswith(
        "no schedule meets RTO ≤ 50m at p99 and 8h restorable together")


def test_intervals_shorter_than_a_snapshot_are_skipped_or_refused() -> None:
    inputs = quiet_inputs(snapshot_duration=2 * HOUR)
    plan = make_plan(inputs, Bounds(), HOURLY, max_keep=1)
    assert plan.skipped_intervals == (HOUR,)
    assert plan.best.schedule.interval in (2 * HOUR, 4 * HOUR)
    with pytest.raises(NoScheduleError) as refused:
        make_plan(inputs, Bounds(), (HOUR,), max_keep=1)
    assert refused.value.constraint == "interval"
    assert "shorter than a snapshot takes (2h)" in refused.value.message


@pytest.mark.parametrize(("changes", "message"), [
    ({"corruption": 1.0}, "--corruption is 1.0: every snapshot would be unusable"),
    ({"load_rate": 0.0}, "--load-rate is 0: it must be above 0"),
    ({"replay_rate": -5.0}, "--replay-rate is -5.0"),
    ({"source_loss_rate": 0.0}, "--source-loss-rate and --site-loss-rate are both 0"),
    ({"downtime_cost": math.inf}, "--downtime-cost is inf"),
])
def test_inputs_out_of_range_are_refused(changes: dict[str, float], message: str) -> None:
    with pytest.raises(PlanInputError, match=message):
        make_plan(quiet_inputs(**changes), Bounds(), HOURLY)


def test_parse_intervals() -> None:
    assert parse_intervals(["1h,15m", "1h", "2d"]) == (900, 3600, 172800)
    with pytest.raises(PlanInputError, match="is not a duration"):
        parse_intervals(["1h,soon"])
    with pytest.raises(PlanInputError, match="takes no snapshot"):
        parse_intervals(["0"])


# --- the distributions --------------------------------------------------------------------------

def test_distribution_quantiles_of_points_uniforms_and_exponentials() -> None:
    # Half at 10, half uniform on [20, 30]: p50 = 10, p75 = 25, max 30.
    mixed = Distribution((Part.point(0.5, 10), Part.uniform(0.5, 20, 30)))
    assert mixed.quantile(0.5) == pytest.approx(10)
    assert mixed.quantile(0.75) == pytest.approx(25)
    assert mixed.quantile(1.0) == pytest.approx(30)
    assert mixed.mean == pytest.approx(17.5)
    assert mixed.top == 30
    # Exponential from 5 with mean 10: p(1 - e^-1) = 15.
    tail = Distribution((Part.exponential(1.0, 5, 10),))
    assert tail.quantile(1 - math.exp(-1)) == pytest.approx(15)
    assert tail.top == math.inf
    # 2% at infinity: p97 finite, p99 not.
    lossy = Distribution((Part.uniform(0.98, 0, 100),))
    assert lossy.infinite_weight == pytest.approx(0.02)
    assert lossy.quantile(0.49) == pytest.approx(50)
    assert lossy.quantile(0.99) == math.inf
    assert lossy.mean == pytest.approx(50)
    mix = Distribution.mix(((0.5, mixed), (0.5, lossy)))
    assert mix.infinite_weight == pytest.approx(0.01)
    assert mix.cdf(10) == pytest.approx(0.25 + 0.5 * 0.098)
