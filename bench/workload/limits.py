"""When a run ends: after a duration, after a number of transactions, or when stopped."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class StopReason(Enum):
    TRANSACTIONS = "transactions"
    DURATION = "duration"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class RunLimits:
    """``None`` for both limits means run until interrupted."""

    duration: float | None = None
    transactions: int | None = None

    def __post_init__(self) -> None:
        if self.duration is not None and self.transactions is not None:
            raise ValueError("give a duration or a number of transactions, not both")
        if self.duration is not None and self.duration <= 0:
            raise ValueError(f"duration must be positive, not {self.duration}")
        if self.transactions is not None and self.transactions < 0:
            raise ValueError(f"transactions must be 0 or more, not {self.transactions}")

    def reached(self, elapsed: float, transactions_done: int) -> StopReason | None:
        if self.transactions is not None and transactions_done >= self.transactions:
            return StopReason.TRANSACTIONS
        if self.duration is not None and elapsed >= self.duration:
            return StopReason.DURATION
        return None
