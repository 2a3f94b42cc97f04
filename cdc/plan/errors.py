"""The errors ``cdc plan`` raises on purpose: inputs that make no sense, and bounds no schedule
can meet."""

from __future__ import annotations

from cdc.errors import CdcError


class PlanError(CdcError):
    """The plan cannot be made as asked; the message says why and the hint what to change."""

    exit_status = 2


class PlanInputError(PlanError):
    """An input out of its range (a negative rate, a probability above 1, ...)."""


class NoScheduleError(PlanError):
    """No candidate schedule meets the bounds. ``constraint`` names the bound that binds:
    ``"rto"``, ``"rpo"``, ``"window"``, ``"interval"`` or ``"together"``."""

    def __init__(self, constraint: str, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.constraint = constraint
