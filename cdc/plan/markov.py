"""Small continuous-time Markov chains, solved exactly. Pure.

A chain is its states and the rate of each transition (per hour). Its generator ``Q`` has the
rates off the diagonal and minus each row's total on it. The stationary distribution solves
``pi Q = 0`` with ``sum(pi) = 1``; the mean time to reach a set of states solves
``sum_j Q[i][j] h[j] = -1`` for the states outside it. Both by Gauss-Jordan elimination over
``Fraction``s (a float converts to a Fraction exactly), so no pivot is lost to rounding; the
chains here have a handful of states.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction


class ChainError(ValueError):
    """A chain that is malformed, or has no unique answer (more than one closed class, a
    target that cannot be reached)."""


@dataclass(frozen=True)
class Chain:
    states: tuple[str, ...]
    rates: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """``(from, to) -> rate``, per hour; a missing pair is rate 0."""

    def __post_init__(self) -> None:
        if not self.states:
            raise ChainError("a chain needs at least one state")
        if len(set(self.states)) != len(self.states):
            raise ChainError(f"a state is listed twice in {self.states}")
        for (source, target), rate in self.rates.items():
            if source not in self.states or target not in self.states:
                raise ChainError(f"the transition {source} -> {target} names an unknown state")
            if source == target:
                raise ChainError(f"the transition {source} -> {target} goes nowhere")
            if not math.isfinite(rate) or rate < 0:
                raise ChainError(f"the rate of {source} -> {target} is {rate}, not a finite "
                                 "number at or above 0")

    def rate(self, source: str, target: str) -> float:
        return self.rates.get((source, target), 0.0)

    def generator(self) -> list[list[Fraction]]:
        """``Q`` as exact fractions, rows and columns in the order of ``states``."""
        index = {state: i for i, state in enumerate(self.states)}
        size = len(self.states)
        q = [[Fraction(0)] * size for _ in range(size)]
        for (source, target), rate in self.rates.items():
            q[index[source]][index[target]] += Fraction(rate)
            q[index[source]][index[source]] -= Fraction(rate)
        return q

    def stationary_exact(self) -> dict[str, Fraction]:
        """The long-run share of time in each state: ``pi Q = 0``, ``sum(pi) = 1``."""
        q = self.generator()
        size = len(self.states)
        # pi Q = 0 is Q^T pi^T = 0; one of its equations is redundant (each row of Q sums to 0),
        # so the last is replaced by the normalisation.
        matrix = [[q[j][i] for j in range(size)] for i in range(size)]
        matrix[-1] = [Fraction(1)] * size
        rhs = [Fraction(0)] * (size - 1) + [Fraction(1)]
        try:
            solution = solve(matrix, rhs)
        except ChainError:
            raise ChainError("the chain has no unique stationary distribution: more than one "
                             "closed set of states") from None
        return dict(zip(self.states, solution, strict=True))

    def stationary(self) -> dict[str, float]:
        return {state: float(value) for state, value in self.stationary_exact().items()}

    def mean_time_to(self, targets: Iterable[str]) -> dict[str, float]:
        """The expected hours from each state until the chain first enters ``targets`` (0 for
        the targets themselves)."""
        goal = set(targets)
        unknown = [s for s in goal if s not in self.states]
        if not goal or unknown:
            raise ChainError(f"the targets {sorted(goal)} are not states of the chain")
        q = self.generator()
        rest = [i for i, state in enumerate(self.states) if state not in goal]
        matrix = [[q[i][j] for j in rest] for i in rest]
        try:
            hours = solve(matrix, [Fraction(-1)] * len(rest)) if rest else []
        except ChainError:
            raise ChainError(f"some state never reaches {sorted(goal)}") from None
        times = dict.fromkeys(goal, 0.0)
        times.update({self.states[i]: float(h) for i, h in zip(rest, hours, strict=True)})
        if any(h < 0 for h in times.values()):
            raise ChainError(f"some state never reaches {sorted(goal)}")
        return {state: times[state] for state in self.states}

    def flow(self, pi: Mapping[str, float], into: str) -> float:
        """Transitions per hour into ``into`` in the long run: ``sum_i pi_i q_i,into``."""
        return sum(pi[source] * self.rate(source, into) for source in self.states
                   if source != into)


def solve(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """``x`` with ``matrix x = rhs``, by Gauss-Jordan elimination; ChainError when singular."""
    size = len(matrix)
    rows = [[*row, value] for row, value in zip(matrix, rhs, strict=True)]
    for column in range(size):
        pivot = next((r for r in range(column, size) if rows[r][column] != 0), None)
        if pivot is None:
            raise ChainError("the system is singular")
        rows[column], rows[pivot] = rows[pivot], rows[column]
        lead = rows[column][column]
        rows[column] = [value / lead for value in rows[column]]
        for r in range(size):
            factor = rows[r][column]
            if r != column and factor != 0:
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[column], strict=True)]
    return [row[size] for row in rows]
