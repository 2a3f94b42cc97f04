"""Whether the source still holds the binlog from a GTID position on. Pure.

MariaDB: the first event after the format description of every binlog file is a Gtid_list,
the last GTID of each (domain, server) written before that file. Everything after the
oldest file's list is still there; a position behind it needs purged events.
"""

from __future__ import annotations

from collections.abc import Iterable

from cdc.position import Gtid, GtidPosition, parse_gtid


def parse_gtid_list(text: str) -> tuple[Gtid, ...]:
    """``[0-1001-17,1-7-3]`` (a Gtid_list event's Info) or ``0-1001-17,1-7-3``
    (@@gtid_binlog_state): several GTIDs of one domain may appear, one per server."""
    inner = text.strip().removeprefix("[").removesuffix("]")
    return tuple(parse_gtid(part) for part in inner.split(",") if part.strip())


def unavailable_reasons(position: GtidPosition, oldest_gtid_list: Iterable[Gtid],
                        binlog_state: Iterable[Gtid]) -> list[str]:
    """Why the binlog after ``position`` cannot be read in full; empty when it can."""
    purged_up_to = _last_sequence_by_domain(oldest_gtid_list)
    state = list(binlog_state)
    reasons = []
    for gtid in position.by_domain:
        seen_in_domain = [g for g in state if g.domain == gtid.domain]
        if not seen_in_domain:
            reasons.append(f"{gtid}: the binlog has never had a transaction in domain "
                           f"{gtid.domain}")
            continue
        if gtid.server_id not in {g.server_id for g in seen_in_domain}:
            servers = ", ".join(str(s) for s in sorted({g.server_id for g in seen_in_domain}))
            reasons.append(f"{gtid}: server {gtid.server_id} never wrote to domain "
                           f"{gtid.domain} of this binlog (servers seen: {servers})")
            continue
        last = max(g.sequence for g in seen_in_domain)
        if gtid.sequence > last:
            reasons.append(f"{gtid}: ahead of the binlog, which ends at sequence {last} in "
                           f"domain {gtid.domain} (was the source reset, or is it another "
                           "server?)")
            continue
        servers_last = max(g.sequence for g in seen_in_domain if g.server_id == gtid.server_id)
        if gtid.sequence > servers_last:
            reasons.append(f"{gtid}: never written; the last transaction of server "
                           f"{gtid.server_id} in domain {gtid.domain} is sequence "
                           f"{servers_last}")
            continue
        purged = purged_up_to.get(gtid.domain)
        if purged is not None and gtid.sequence < purged:
            reasons.append(f"{gtid}: the transactions after it up to sequence {purged} in "
                           f"domain {gtid.domain} were purged")
    for domain, purged in sorted(purged_up_to.items()):
        if position.sequence_in(domain) is None:
            reasons.append(f"domain {domain}: the position has no GTID in it, so capture "
                           f"would need it from its first transaction, but the binlog up to "
                           f"sequence {purged} was purged")
    return reasons


def oldest_available_position(oldest_gtid_list: Iterable[Gtid]) -> GtidPosition:
    """The earliest position the binlog can still be read from in full."""
    gtids: dict[int, Gtid] = {}
    for gtid in oldest_gtid_list:
        if gtid.domain not in gtids or gtid.sequence > gtids[gtid.domain].sequence:
            gtids[gtid.domain] = gtid
    return GtidPosition(tuple(sorted(gtids.values())))


def _last_sequence_by_domain(gtids: Iterable[Gtid]) -> dict[int, int]:
    last: dict[int, int] = {}
    for gtid in gtids:
        last[gtid.domain] = max(last.get(gtid.domain, 0), gtid.sequence)
    return last


def mysql_unavailable_reasons(position: str, contains_purged: bool, within_executed: bool,
                              gtid_purged: str, gtid_executed: str) -> list[str]:
    """The same judgement for MySQL, where the server compares GTID sets itself."""
    reasons = []
    if not contains_purged:
        reasons.append(f"transactions the position lacks were purged (gtid_purged "
                       f"{gtid_purged or '(empty)'})")
    if not within_executed:
        reasons.append(f"it holds transactions this source never executed (gtid_executed "
                       f"{gtid_executed or '(empty)'})")
    return reasons
