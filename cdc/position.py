"""GTID position arithmetic (MariaDB form: ``domain-server-sequence``, one per domain).

A *position* is the set of last-applied GTIDs, one per replication domain, as in
``@@gtid_binlog_pos``; resuming from it means "send me everything after these". Pure values,
no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdc.errors import ConfigError

_GTID = re.compile(r"^(\d+)-(\d+)-(\d+)$")


@dataclass(frozen=True, order=True)
class Gtid:
    domain: int
    server_id: int
    sequence: int

    def __str__(self) -> str:
        return f"{self.domain}-{self.server_id}-{self.sequence}"


def parse_gtid(text: str) -> Gtid:
    match = _GTID.match(text.strip())
    if match is None:
        raise ConfigError(
            f"{text!r} is not a GTID",
            "write a MariaDB GTID as domain-server-sequence, for example 0-1001-42",
        )
    domain, server_id, sequence = (int(part) for part in match.groups())
    return Gtid(domain, server_id, sequence)


@dataclass(frozen=True)
class GtidPosition:
    """The last GTID applied in each domain."""

    by_domain: tuple[Gtid, ...] = ()

    @staticmethod
    def parse(text: str) -> GtidPosition:
        gtids = [parse_gtid(part) for part in text.split(",") if part.strip()]
        domains = [g.domain for g in gtids]
        if len(set(domains)) != len(domains):
            raise ConfigError(
                f"GTID position {text!r} names a domain twice",
                "a position holds one GTID per replication domain",
            )
        return GtidPosition(tuple(sorted(gtids)))

    def advanced(self, gtid: Gtid) -> GtidPosition:
        """The position once ``gtid`` is applied."""
        others = tuple(g for g in self.by_domain if g.domain != gtid.domain)
        return GtidPosition(tuple(sorted((*others, gtid))))

    def sequence_in(self, domain: int) -> int | None:
        for gtid in self.by_domain:
            if gtid.domain == domain:
                return gtid.sequence
        return None

    def contains(self, gtid: Gtid) -> bool:
        """Whether ``gtid`` is at or before this position (in its domain)."""
        sequence = self.sequence_in(gtid.domain)
        return sequence is not None and gtid.sequence <= sequence

    def at_or_before(self, other: GtidPosition) -> bool:
        """Whether every transaction this position holds, ``other`` holds too: reading on
        from here misses nothing that comes after ``other``."""
        return all(other.contains(g) for g in self.by_domain)

    def meet(self, other: GtidPosition) -> GtidPosition:
        """The latest position at or before both: per domain, the lower of the two (a domain
        one of them lacks holds nothing, so it is left out)."""
        theirs = {g.domain: g for g in other.by_domain}
        return GtidPosition(tuple(
            min(mine, theirs[mine.domain], key=lambda g: g.sequence)
            for mine in self.by_domain if mine.domain in theirs))

    def __str__(self) -> str:
        return ",".join(str(g) for g in self.by_domain)

    def __bool__(self) -> bool:
        return bool(self.by_domain)


def transactions_behind(captured: GtidPosition, source: GtidPosition) -> int:
    """How many of the source's transactions (by GTID sequence, domain by domain) come after
    ``captured``."""
    behind = 0
    for gtid in source.by_domain:
        done = captured.sequence_in(gtid.domain) or 0
        behind += max(0, gtid.sequence - done)
    return behind
