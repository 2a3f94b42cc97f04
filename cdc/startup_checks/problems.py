"""A problem the start-up checks found, and the one error that reports them all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdc.errors import SourceCheckError


@dataclass(frozen=True)
class Problem:
    subject: str
    """What the problem is about: a server variable, a privilege, a config key."""
    what: str
    fix: str


def refusal(about: str, problems: Sequence[Problem]) -> SourceCheckError:
    """One SourceCheckError naming every problem, so an operator fixes them in one round."""
    if len(problems) == 1:
        (only,) = problems
        return SourceCheckError(f"{about}: {only.what}", only.fix)
    whats = "\n".join(f"  - {p.what}" for p in problems)
    fixes = "\n".join(f"  - {p.subject}: {p.fix}" for p in problems)
    return SourceCheckError(f"{about}: {len(problems)} problems\n{whats}",
                            f"fix each, then run 'cdc check' again:\n{fixes}")
