"""Measures what ``cdc.health`` judges: the changelog's tail against the source, the newest
usable snapshot, the last restore drill and the binlog retention left. A part that cannot be
read makes its facts unknown (with why) rather than failing the whole check."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

from pymysql.connections import Connection

from cdc.config import CaptureConfig
from cdc.drill_history import read_drills
from cdc.errors import CdcError, SourceCheckError
from cdc.health import HealthFacts, LastDrill
from cdc.position import GtidPosition, transactions_behind
from cdc.snapshot.catalog import configured_store, read_catalog_if_any
from cdc.snapshot.changelog import Changelog
from cdc.start_status import ChangelogBeginning, changelog_beginning, split_by_beginning
from cdc.startup_checks import check_position_available, connect_source
from cdc.startup_checks.queries import gtid_binlog_pos, server_variables


def gather_health(config: CaptureConfig, now: float | None = None) -> HealthFacts:
    now = time.time() if now is None else now
    facts = HealthFacts()
    beginning = None
    try:
        beginning = changelog_beginning(config)
        facts = _capture_facts(config, beginning, facts, now)
    except CdcError as exc:
        facts = _unknown(facts, ("rpo", "behind", "binlog_retention"), exc)
    try:
        facts = _snapshot_facts(config, beginning, facts, now)
    except CdcError as exc:
        facts = _unknown(facts, ("snapshot_age",), exc)
    try:
        facts = _drill_facts(config, facts, now)
    except CdcError as exc:
        facts = _unknown(facts, ("drill_age",), exc)
    return facts


def _unknown(facts: HealthFacts, names: tuple[str, ...], exc: CdcError) -> HealthFacts:
    return replace(facts, unknown=(*facts.unknown, *((name, exc.message) for name in names)))


def _capture_facts(config: CaptureConfig, beginning: ChangelogBeginning | None,
                   facts: HealthFacts, now: float) -> HealthFacts:
    tail = None if beginning is None else Changelog(config).tail()
    if tail is None:
        return replace(facts, changelog_started=False)
    record = tail[1]
    captured = GtidPosition.parse(record.position.gtid_position)
    captured_at_s = record.commit_time_us / 1e6
    with connect_source(config) as conn:
        behind = transactions_behind(captured, GtidPosition.parse(gtid_binlog_pos(conn)))
        # Measured from here: the tail read above may be a heartbeat newer than the call.
        now = max(now, time.time())
        purged = None
        try:
            check_position_available(conn, str(captured))
        except SourceCheckError as exc:
            purged = exc.message
        left = _retention_left(conn, captured_at_s, now)
    return replace(facts, transactions_behind=behind,
                   rpo_s=0.0 if behind == 0 else max(0.0, now - captured_at_s),
                   binlog_purged=purged, binlog_retention_left_s=left)


def _retention_left(conn: Connection, captured_at_s: float, now: float) -> float | None:
    """A lower bound of the time before the source may purge binlog capture still needs:
    the file holding the next transaction after the capture position was last written no
    earlier than that position was captured, and age-based purging counts from a file's last
    write. None when the source purges nothing by age."""
    values = server_variables(conn, ["binlog_expire_logs_seconds", "expire_logs_days"])
    expire_s = float(values.get("binlog_expire_logs_seconds") or 0)
    if not expire_s:
        expire_s = float(values.get("expire_logs_days") or 0) * 86400
    if not expire_s:
        return None
    return captured_at_s + expire_s - now


def _snapshot_facts(config: CaptureConfig, beginning: ChangelogBeginning | None,
                    facts: HealthFacts, now: float) -> HealthFacts:
    catalog = read_catalog_if_any(configured_store(config))
    usable, _unusable = split_by_beginning(catalog.manifests, beginning)
    if not usable:
        return facts
    newest = max(manifest.created_at for manifest in usable)
    return replace(facts, newest_snapshot_age_s=max(0.0, now - newest.timestamp()))


def _drill_facts(config: CaptureConfig, facts: HealthFacts, now: float) -> HealthFacts:
    finished = [drill for drill in read_drills(config) if drill.verdict != "running"]
    if not finished:
        return facts
    last = finished[-1]
    ended = datetime.fromisoformat(last.started_at).timestamp() + last.rto_seconds
    return replace(facts, last_drill=LastDrill(last.verdict, max(0.0, now - ended),
                                               last.drill_id))
