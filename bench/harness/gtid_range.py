"""The binlog range a benchmark reads: after one GTID position, up to and including another.

``start`` is exclusive and ``end`` inclusive, the way MariaDB reads positions everywhere:
``mariadb-binlog --start-position``/``--stop-position``, a replica's ``slave_connect_state``
and capture's ``start = "gtid:..."`` all mean "everything after these GTIDs". Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdc.errors import ConfigError
from cdc.position import Gtid, GtidPosition


@dataclass(frozen=True)
class GtidRange:
    start: GtidPosition
    end: GtidPosition

    @staticmethod
    def parse(start: str, end: str) -> GtidRange:
        """The range between two ``@@gtid_binlog_pos`` readings; refuses an empty one."""
        found = GtidRange(GtidPosition.parse(start), GtidPosition.parse(end))
        if not found.end:
            raise ConfigError("the end position of the range is empty",
                              "read @@global.gtid_binlog_pos after the workload committed")
        for gtid in found.start.by_domain:
            after = found.end.sequence_in(gtid.domain)
            if after is None or after < gtid.sequence:
                raise ConfigError(
                    f"the end position {found.end} is not after the start {found.start} in "
                    f"domain {gtid.domain}",
                    "the binlog was reset between the two readings; run the benchmark again")
        if found.transactions == 0:
            raise ConfigError(f"the range after {found.start} up to {found.end} is empty",
                              "the workload committed nothing; check that it ran")
        return found

    @property
    def transactions(self) -> int:
        """How many transactions the range holds, whoever committed them (sequence numbers
        are gapless within a domain under gtid_strict_mode)."""
        return sum(gtid.sequence - (self.start.sequence_in(gtid.domain) or 0)
                   for gtid in self.end.by_domain)

    def transactions_beyond(self, position: GtidPosition) -> int:
        """How many transactions ``position`` (where a reader stopped) lies past the end."""
        return sum(max(0, gtid.sequence - (self.end.sequence_in(gtid.domain) or 0))
                   for gtid in position.by_domain)

    def watch(self) -> EndWatch:
        return EndWatch(self)


@dataclass
class EndWatch:
    """Follows the GTIDs of a stream read from ``range.start`` and tells when the last
    transaction of the range has begun (its rows and commit follow its GTID event)."""

    range: GtidRange
    position: GtidPosition = field(init=False)

    def __post_init__(self) -> None:
        self.position = self.range.start

    def saw(self, gtid: Gtid) -> None:
        self.position = self.position.advanced(gtid)

    @property
    def in_last_transaction(self) -> bool:
        return all(self.position.contains(gtid) for gtid in self.range.end.by_domain)
