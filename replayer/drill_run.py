"""One restore drill: restore a point into a scratch target, compare it with the snapshot plus
the changelog, drop the scratch, record the outcome. Kept apart from the command so that
capture's schedule and tests run the same steps."""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import MySQLdb
import psycopg2

from cdc.config import CaptureConfig
from cdc.config.table_filter import TableFilter
from cdc.drill_history import read_drills, write_drill
from cdc.drill_record import DrillRecord, PhaseTiming
from cdc.dsn import Dsn, Engine, parse_dsn
from cdc.errors import CdcError, ConfigError
from cdc.snapshot.catalog import configured_key, configured_store, read_catalog, table_schema
from cdc.snapshot.changelog import Changelog
from cdc.snapshot.manifest import Manifest
from replayer.apply_mysql import POSITION_DATABASE
from replayer.commands.verify import open_target
from replayer.drill_reference import net_changes, reference_tables
from replayer.drill_scratch import Scratch, scratch_for
from replayer.read_ahead import ReadAhead
from replayer.restore_inputs import plan_restore, records_between
from replayer.restore_point import RestorePoint, parse_restore_point
from replayer.restore_run import restore_into
from replayer.targets import target_engine
from replayer.verify_chunks import verify_tables
from replayer.verify_compare import TableVerdict
from replayer.verify_snapshot import StoredSnapshot

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DrillOutcome:
    record: DrillRecord
    verdicts: tuple[TableVerdict, ...]
    cleaned: tuple[str, ...]
    """Scratch left by earlier drills that were killed, dropped before this one."""


def drill_target(config: CaptureConfig, given: Dsn | None) -> Dsn:
    if given is not None:
        return given
    if config.drills.target is None:
        raise ConfigError("no drill target: give --target, or drills.target in the config",
                          "a PostgreSQL server (each drill gets a scratch database there) or "
                          "a MySQL/MariaDB server kept for drills, e.g. "
                          "postgresql://cdc_admin@127.0.0.1:15432/postgres")
    dsn = parse_dsn(config.drills.target)
    if config.drills.password is not None:
        dsn = dataclasses.replace(dsn, password=config.drills.password.get_secret_value())
    return dsn


def run_drill(config: CaptureConfig, server: Dsn, point_text: str, *, workers: int = 2,
              chunk_rows: int = 100_000, progress: Progress | None = None,
              keep: bool = False, tables: TableFilter | None = None) -> DrillOutcome:
    progress = progress or (lambda _unit, _done, _total: None)
    drill_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    started_at = datetime.now(UTC).isoformat()
    point = _point(config, point_text)
    record = DrillRecord(drill_id=drill_id, source=config.source.name, started_at=started_at,
                         engine=server.engine.value, point=str(point), snapshot_id=None,
                         gtid_position="", verdict="running", rto_seconds=0.0)
    with scratch_for(server, drill_id) as scratch:
        cleaned = tuple(scratch.clean())
        _mark_interrupted(config, drill_id, cleaned)
        record = replace(record, scratch=scratch.name)
        write_drill(config, record)
        verdicts: list[TableVerdict] = []
        # What is known so far (the snapshot and GTID once planned) stays in a failed record.
        known = [record]
        try:
            record, verdicts = _restore_and_verify(
                config, scratch, known, point, workers=workers, chunk_rows=chunk_rows,
                progress=progress, tables=tables or TableFilter.from_patterns(["*"]))
        except CdcError as exc:
            record = replace(known[-1], verdict="failed", detail=str(exc))
        except (MySQLdb.Error, psycopg2.Error) as exc:
            record = replace(known[-1], verdict="failed",
                             detail=f"the target failed: {_first_line(exc)}")
        except Exception as exc:  # a drill's purpose is to report what breaks a restore
            record = replace(known[-1], verdict="failed",
                             detail=f"the restore broke: {type(exc).__name__}: {_first_line(exc)}")
        finally:
            if not keep:
                scratch.drop()
        write_drill(config, record)
    return DrillOutcome(record, tuple(verdicts), cleaned)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


def _point(config: CaptureConfig, text: str) -> RestorePoint:
    if text != "random":
        return parse_restore_point(text)
    changelog = Changelog(config)
    starts = [start for manifest in read_catalog(configured_store(config)).manifests
              if (start := changelog.replay_start(manifest)) is not None]
    tail = changelog.tail()
    if not starts or tail is None:
        return parse_restore_point("latest")
    return parse_restore_point(f"offset:{random.randint(min(starts), tail[0])}")


def _mark_interrupted(config: CaptureConfig, drill_id: str, cleaned: tuple[str, ...]) -> None:
    """Drills recorded as running whose scratch this one found and dropped were killed."""
    for earlier in read_drills(config):
        if earlier.verdict == "running" and earlier.drill_id != drill_id:
            write_drill(config, replace(
                earlier, verdict="interrupted",
                detail=f"ended before its result was recorded; drill {drill_id} dropped "
                       f"what it left ({', '.join(cleaned) or 'nothing'})"))


def _restore_and_verify(config: CaptureConfig, scratch: Scratch, known: list[DrillRecord],
                        point: RestorePoint, *, workers: int, chunk_rows: int,
                        progress: Progress, tables: TableFilter
                        ) -> tuple[DrillRecord, list[TableVerdict]]:
    read_ahead = ReadAhead()
    plan, manifest = plan_restore(config, point, read_ahead=read_ahead)
    record = replace(known[-1], snapshot_id=plan.snapshot_id, gtid_position=plan.target_gtid)
    known.append(record)
    databases = {t.database for t in manifest.tables
                 if t.database != POSITION_DATABASE and tables.includes(t.database, t.table)}
    target = scratch.create(databases)
    engine = target_engine(target)
    connection = engine.connect(target)
    try:
        engine.prepare(connection)
        timings = restore_into(engine, connection, config, plan, manifest,
                               include=tables.includes, target=target,
                               workers=workers, progress=progress, read_ahead=read_ahead)
    finally:
        connection.close()
    verify_started = time.monotonic()
    verdicts, reshaped = _verify(config, target, manifest, first=plan.replay_from_offset,
                                 last=plan.replay_to_offset, chunk_rows=chunk_rows,
                                 progress=progress, tables=tables)
    verify_s = time.monotonic() - verify_started
    identical = all(v.identical for v in verdicts)
    differing = [v.table for v in verdicts if not v.identical]
    detail = "" if identical else f"differs from the snapshot plus changelog: " \
                                  f"{', '.join(differing)}"
    if reshaped:
        detail = (detail + "; " if detail else "") + (
            "not compared (their shape changed after the snapshot): " + ", ".join(reshaped))
    phases = (PhaseTiming("load", round(timings.load_s, 3), timings.loaded_rows),
              PhaseTiming("indexes", round(timings.index_s, 3), timings.loaded_rows),
              PhaseTiming("replay", round(timings.replay_s, 3), timings.replayed_rows),
              PhaseTiming("verify", round(verify_s, 3), sum(v.source_rows for v in verdicts)))
    return replace(record, verdict="identical" if identical else "different",
                   rto_seconds=round(timings.rto_s, 3), phases=phases,
                   rows=sum(v.target_rows for v in verdicts), detail=detail), verdicts


def _verify(config: CaptureConfig, target: Dsn, manifest: Manifest, *, first: int | None,
            last: int | None, chunk_rows: int, progress: Progress, tables: TableFilter
            ) -> tuple[list[TableVerdict], list[str]]:
    changelog = Changelog(config)
    store = configured_store(config)
    key = configured_key(config, os.environ) if manifest.encryption is not None else None
    snapshot = StoredSnapshot(store, manifest, key)
    shapes = {(t.database, t.table): table_schema(t) for t in manifest.tables
              if tables.includes(t.database, t.table)}
    records = () if first is None or last is None else (
        record for _offset, record in records_between(changelog.records_from(first), last)
        if tables.includes(record.database, record.table or None))
    net = net_changes(records, shapes, changelog.lookup)
    normalize_json = target.engine is Engine.POSTGRESQL
    with ExitStack() as closing:
        copy = open_target(closing, target)
        verdicts = verify_tables(reference_tables(snapshot, net, shapes, chunk_rows,
                                                  normalize_json=normalize_json), copy, progress)
    return verdicts, sorted(f"{db}.{table}" for db, table in net.reshaped)
