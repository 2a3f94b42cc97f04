"""The distribution of a recovery time or a data loss over loss events. Pure.

A mixture of a few kinds of part, each with a weight:

- a point (``low == high``): e.g. a restore with nothing to replay;
- uniform on ``[low, high]``: the failure falls anywhere in a snapshot interval, so the
  replay, or the changes lost since the anchor, grow linearly with where;
- exponential from ``low`` with mean ``mean``: the age of a capture stall at a random moment
  within it (a stall's length is exponential, and so is its age at a random time);

and the weight left over is at infinity: no retained snapshot could be restored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Part:
    weight: float
    kind: Literal["point", "uniform", "exponential"]
    low: float
    high: float = 0.0
    """Upper end of a uniform part; for an exponential part its mean above ``low``."""

    @classmethod
    def point(cls, weight: float, at: float) -> Part:
        return cls(weight, "point", at, at)

    @classmethod
    def uniform(cls, weight: float, low: float, high: float) -> Part:
        if high <= low:
            return cls.point(weight, low)
        return cls(weight, "uniform", low, high)

    @classmethod
    def exponential(cls, weight: float, low: float, mean: float) -> Part:
        if mean <= 0:
            return cls.point(weight, low)
        return cls(weight, "exponential", low, mean)

    def cdf(self, x: float) -> float:
        """The weight of this part at or below ``x``."""
        if x < self.low:
            return 0.0
        if self.kind == "uniform":
            return self.weight * min(1.0, (x - self.low) / (self.high - self.low))
        if self.kind == "exponential":
            return self.weight * -math.expm1(-(x - self.low) / self.high)
        return self.weight

    @property
    def mean(self) -> float:
        if self.kind == "uniform":
            return (self.low + self.high) / 2
        if self.kind == "exponential":
            return self.low + self.high
        return self.low

    @property
    def top(self) -> float:
        """The largest value the part takes (infinite for an exponential one)."""
        return math.inf if self.kind == "exponential" else self.high

    def scaled(self, factor: float) -> Part:
        return Part(self.weight * factor, self.kind, self.low, self.high)


@dataclass(frozen=True)
class Distribution:
    parts: tuple[Part, ...]

    def __post_init__(self) -> None:
        if any(p.weight < 0 for p in self.parts) or self.finite_weight > 1 + 1e-9:
            raise ValueError(f"the weights of {self.parts} are not a probability")

    @classmethod
    def mix(cls, components: Iterable[tuple[float, Distribution]]) -> Distribution:
        """``sum(w_i * D_i)``; each D_i's weight at infinity carries over, scaled."""
        return cls(tuple(part.scaled(weight) for weight, d in components if weight > 0
                         for part in d.parts if part.weight > 0))

    @property
    def finite_weight(self) -> float:
        return sum(p.weight for p in self.parts)

    @property
    def infinite_weight(self) -> float:
        """The probability of the value being infinite: no restore could succeed."""
        return max(0.0, 1.0 - self.finite_weight)

    def cdf(self, x: float) -> float:
        return sum(p.cdf(x) for p in self.parts)

    @property
    def mean(self) -> float:
        """The mean where finite (given the restore succeeds); infinity with no finite part."""
        weight = self.finite_weight
        if weight <= 0:
            return math.inf
        return sum(p.weight * p.mean for p in self.parts) / weight

    @property
    def top(self) -> float:
        """The largest value taken: infinite with any weight at infinity or any exponential
        part."""
        if self.infinite_weight > _TOLERANCE:
            return math.inf
        return max((p.top for p in self.parts), default=0.0)

    def quantile(self, level: float) -> float:
        """The smallest ``x`` with ``cdf(x) >= level`` (``level`` in (0, 1]); infinity when
        the finite parts weigh less than ``level``."""
        if not 0 < level <= 1:
            raise ValueError(f"a quantile level is in (0, 1], not {level}")
        wanted = level - _TOLERANCE
        if self.finite_weight < wanted or not self.parts:
            return math.inf
        low = min(p.low for p in self.parts)
        if self.cdf(low) >= wanted:
            return low
        high = max(p.low for p in self.parts) + 1.0
        while self.cdf(high) < wanted:
            high = low + 2 * (high - low)
        for _ in range(200):
            middle = (low + high) / 2
            if middle in (low, high):
                break
            if self.cdf(middle) >= wanted:
                high = middle
            else:
                low = middle
        return high

    def summary(self, levels: Sequence[float]) -> dict[str, float]:
        """``mean``, each ``pNN``, ``max`` and ``unrecoverable`` (the weight at infinity)."""
        result = {"mean": self.mean}
        for level in levels:
            result[percentile_name(level)] = self.quantile(level / 100)
        result["max"] = self.top
        result["unrecoverable"] = self.infinite_weight
        return result


def percentile_name(level: float) -> str:
    """``p99``, ``p99.9``."""
    return f"p{level:g}"
