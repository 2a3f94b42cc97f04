"""The Markov chain solver against chains solved by hand, and the chain ``cdc plan`` builds."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cdc.plan.markov import Chain, ChainError, solve
from cdc.plan.model import (
    BEHIND,
    HEALTHY,
    HOURS_PER_YEAR,
    SITE_LOST,
    SOURCE_LOST,
    operating_chain,
)
from tests.unit.test_plan_optimize import quiet_inputs


def test_two_states_up_and_down() -> None:
    # up -> down at lambda, down -> up at mu. Balance: pi_up lambda = pi_down mu, so
    # pi_down = lambda / (lambda + mu). lambda = 1/4, mu = 15/4: pi_down = (1/4) / 4 = 1/16.
    chain = Chain(("up", "down"), {("up", "down"): 0.25, ("down", "up"): 3.75})
    assert chain.stationary_exact() == {"up": Fraction(15, 16), "down": Fraction(1, 16)}
    # The mean time to go down is 1 / lambda = 4 hours; to come back, 1 / mu.
    assert chain.mean_time_to({"down"}) == {"up": 4.0, "down": 0.0}
    assert chain.mean_time_to({"up"})["down"] == pytest.approx(1 / 3.75)


def test_a_three_state_cycle() -> None:
    # a -> b -> c -> a at rates 1, 2, 4: the flow round the cycle is the same through each
    # state, pi_i * rate_i = constant, so pi is proportional to (1, 1/2, 1/4) = (4, 2, 1) / 7.
    chain = Chain(("a", "b", "c"), {("a", "b"): 1, ("b", "c"): 2, ("c", "a"): 4})
    assert chain.stationary_exact() == {"a": Fraction(4, 7), "b": Fraction(2, 7),
                                        "c": Fraction(1, 7)}
    # Hitting c from a: 1/1 (a to b) + 1/2 (b to c) = 3/2 hours.
    assert chain.mean_time_to({"c"})["a"] == pytest.approx(1.5)


def test_a_three_state_birth_death_chain() -> None:
    # 0 <-> 1 <-> 2 with 0->1 at 1, 1->0 at 2, 1->2 at 1, 2->1 at 4. Detailed balance:
    # pi_1 = pi_0 * 1/2, pi_2 = pi_1 * 1/4 = pi_0 / 8; pi_0 (1 + 1/2 + 1/8) = 1: pi_0 = 8/13.
    chain = Chain(("0", "1", "2"),
                  {("0", "1"): 1, ("1", "0"): 2, ("1", "2"): 1, ("2", "1"): 4})
    assert chain.stationary_exact() == {"0": Fraction(8, 13), "1": Fraction(4, 13),
                                        "2": Fraction(1, 13)}
    # Hitting 2: h0 = 1 + h1 (0 always moves to 1 after 1 hour on average);
    # h1 = 1/3 + (2/3) h0 (1 leaves at rate 3, to 0 with 2/3). So h0 = 4/3 + (2/3) h0: h0 = 4,
    # h1 = 3.
    assert chain.mean_time_to({"2"}) == pytest.approx({"0": 4.0, "1": 3.0, "2": 0.0})


def test_the_four_state_operating_chain_solved_by_hand() -> None:
    # healthy -> behind at b = 1, behind -> healthy at mu = 2, healthy and behind -> source
    # lost at a = 1, source lost -> healthy at r = 4; site lost is never entered.
    # Balance of behind: pi_B (mu + a) = pi_H b, so pi_B = pi_H / 3. Of source lost:
    # pi_L r = (pi_H + pi_B) a, so pi_L = (4/3 pi_H) / 4 = pi_H / 3. Sum: pi_H (5/3) = 1.
    chain = Chain((HEALTHY, BEHIND, SOURCE_LOST, SITE_LOST), {
        (HEALTHY, BEHIND): 1, (BEHIND, HEALTHY): 2, (HEALTHY, SOURCE_LOST): 1,
        (BEHIND, SOURCE_LOST): 1, (SOURCE_LOST, HEALTHY): 4, (SITE_LOST, HEALTHY): 1})
    assert chain.stationary_exact() == {HEALTHY: Fraction(3, 5), BEHIND: Fraction(1, 5),
                                        SOURCE_LOST: Fraction(1, 5), SITE_LOST: 0}
    # Losses per hour in the long run: (pi_H + pi_B) a = 4/5.
    assert chain.flow(chain.stationary(), SOURCE_LOST) == pytest.approx(0.8)


def test_the_chain_the_model_builds_has_the_rates_per_hour() -> None:
    inputs = quiet_inputs(stall_rate=HOURS_PER_YEAR * 2, stall_duration=1800,
                          source_loss_rate=HOURS_PER_YEAR, site_loss_rate=HOURS_PER_YEAR / 2)
    chain = operating_chain(inputs, mean_rto_source=900, mean_rto_site=7200)
    assert chain.rate(HEALTHY, BEHIND) == pytest.approx(2)
    assert chain.rate(BEHIND, HEALTHY) == pytest.approx(2)  # a 30-minute stall
    for state in (HEALTHY, BEHIND):
        assert chain.rate(state, SOURCE_LOST) == pytest.approx(1)
        assert chain.rate(state, SITE_LOST) == pytest.approx(0.5)
    assert chain.rate(SOURCE_LOST, HEALTHY) == pytest.approx(4)  # a 15-minute restore
    assert chain.rate(SITE_LOST, HEALTHY) == pytest.approx(0.5)
    assert chain.rate(SOURCE_LOST, SITE_LOST) == 0


def test_two_closed_classes_have_no_unique_stationary_distribution() -> None:
    chain = Chain(("a", "b", "c"), {("a", "b"): 1, ("a", "c"): 1})
    with pytest.raises(ChainError, match="more than one closed set"):
        chain.stationary()
    with pytest.raises(ChainError, match="never reaches"):
        Chain(("a", "b"), {("b", "a"): 1}).mean_time_to({"b"})


@pytest.mark.parametrize(("states", "rates", "message"), [
    ((), {}, "at least one state"),
    (("a", "a"), {}, "listed twice"),
    (("a",), {("a", "b"): 1.0}, "unknown state"),
    (("a", "b"), {("a", "a"): 1.0}, "goes nowhere"),
    (("a", "b"), {("a", "b"): -1.0}, "not a finite number"),
    (("a", "b"), {("a", "b"): float("nan")}, "not a finite number"),
])
def test_a_malformed_chain_is_refused(states: tuple[str, ...],
                                      rates: dict[tuple[str, str], float], message: str) -> None:
    with pytest.raises(ChainError, match=message):
        Chain(states, rates)


def test_the_elimination_pivots_past_a_zero() -> None:
    # y = 2 and 2x = 2: the first column's first entry is 0, so the rows swap. x = 1, y = 2.
    matrix = [[Fraction(0), Fraction(1)], [Fraction(2), Fraction(0)]]
    assert solve(matrix, [Fraction(2), Fraction(2)]) == [Fraction(1), Fraction(2)]
    with pytest.raises(ChainError, match="singular"):
        solve([[Fraction(1), Fraction(2)], [Fraction(2), Fraction(4)]], [Fraction(1)] * 2)
