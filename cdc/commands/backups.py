"""``cdc backups list | verify | prune``: the snapshots in the configured store."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from cdc.config import CaptureConfig, load_config
from cdc.config.models import parse_duration
from cdc.config.problems import InvalidValueError
from cdc.errors import CdcError, ConfigError
from cdc.progress import ProgressReporter
from cdc.snapshot.catalog import Catalog, configured_key, configured_store, read_catalog
from cdc.snapshot.changelog import Changelog
from cdc.snapshot.manifest import Manifest, manifest_summary
from cdc.snapshot.retention import plan_prune
from cdc.snapshot.verify import SnapshotVerdict, verify_coverage, verify_files
from cdc.start_status import changelog_beginning

_CONFIG = click.option("--config", "config_path", required=True,
                       type=click.Path(path_type=Path),
                       help="The capture configuration (TOML) naming the snapshot store.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group()
def backups() -> None:
    """List, verify and prune the base snapshots in the store of snapshots.store."""


def _catalog(config_path: Path) -> tuple[CaptureConfig, Catalog]:
    config = load_config(config_path, os.environ)
    return config, read_catalog(configured_store(config))


@backups.command(name="list")
@_CONFIG
@_JSON
def list_(config_path: Path, as_json: bool) -> None:
    """The complete snapshots, oldest first: id, anchor, time, tables, rows, bytes.
    Snapshots whose manifest cannot be read are listed as damaged."""
    _, catalog = _catalog(config_path)
    if as_json:
        click.echo(json.dumps({
            "snapshots": [manifest_summary(m) for m in catalog.manifests],
            "damaged": [{"snapshot_id": sid, "error": exc.message}
                        for sid, exc in catalog.damaged]}))
        return
    if not catalog.manifests and not catalog.damaged:
        click.echo(f"no snapshots in {catalog.store.url} yet; take one with 'cdc snapshot'")
        return
    click.echo(f"{'snapshot':<26} {'created (UTC)':<20} {'anchor GTID':<22} {'offset':>8} "
               f"{'tables':>6} {'rows':>12} {'bytes':>14}")
    for m in catalog.manifests:
        offset = "-" if m.anchor.changelog_offset is None else str(m.anchor.changelog_offset)
        click.echo(f"{m.snapshot_id:<26} {m.created_at:%Y-%m-%d %H:%M:%S} "
                   f"{m.anchor.gtid_position or '(none)':<22} {offset:>8} {len(m.tables):>6} "
                   f"{m.total_rows:>12,} {m.total_bytes:>14,}"
                   + ("  encrypted" if m.encryption else ""))
    for snapshot_id, exc in catalog.damaged:
        click.echo(f"{snapshot_id:<26} DAMAGED: {exc.message}")


@backups.command()
@_CONFIG
@click.argument("snapshot_id", required=False)
@click.option("--all", "all_", is_flag=True, help="Verify every snapshot.")
@click.option("--skip-changelog", is_flag=True,
              help="Check only the files, not that the changelog continues the snapshot.")
@_JSON
def verify(config_path: Path, snapshot_id: str | None, all_: bool, skip_changelog: bool,
           as_json: bool) -> None:
    """Re-hash every file of a snapshot (the newest when no ID is given), decode every record,
    and check that the changelog covers the gap from its anchor to now: no transaction
    missing at the start, repeated, out of order or cut short. Exit status 1 names every
    file or record that is wrong."""
    config, catalog = _catalog(config_path)
    if snapshot_id and all_:
        raise ConfigError("give a snapshot id or --all, not both")
    failures = [(sid, exc.message) for sid, exc in catalog.damaged
                if all_ or snapshot_id in (None, sid)]
    chosen = _chosen(catalog, snapshot_id, all_)
    if not chosen and not failures:
        raise CdcError(f"there are no snapshots in {catalog.store.url} to verify",
                       "take one with 'cdc snapshot'")
    key = configured_key(config, os.environ) if any(m.encryption for m in chosen) else None
    changelog = None if skip_changelog else Changelog(config)
    unchecked = None
    if changelog is not None and changelog_beginning(config) is None:
        # The files can still be checked; only the changelog's part cannot.
        unchecked = (f"the changelog {config.changelog_topic} holds nothing yet: capture has "
                     f"not started for source {config.source.name!r}, so whether the changelog "
                     "continues the snapshots was not checked; start it with 'cdc capture "
                     f"--config {config_path}' (its first start begins at the oldest "
                     "snapshot's anchor)")
        changelog = None
    reporter = ProgressReporter(as_json=as_json)
    verdicts = []
    try:
        for manifest in chosen:
            verdict = SnapshotVerdict(manifest.snapshot_id)
            verify_files(catalog.store, manifest, key, verdict, reporter.update)
            if changelog is not None:
                start = changelog.replay_start(manifest)
                before = changelog.record_before(start) if start else None
                verify_coverage(manifest, start, before, changelog.records_from, verdict)
            verdicts.append(verdict)
    finally:
        reporter.close()
    _report(verdicts, failures, as_json, unchecked)
    if failures or not all(v.ok for v in verdicts):
        raise click.exceptions.Exit(1)


def _chosen(catalog: Catalog, snapshot_id: str | None, all_: bool) -> list[Manifest]:
    if all_:
        return list(catalog.manifests)
    if snapshot_id:
        if any(sid == snapshot_id for sid, _ in catalog.damaged):
            return []
        return [catalog.find(snapshot_id)]
    return list(catalog.manifests[-1:])


def _report(verdicts: list[SnapshotVerdict], failures: list[tuple[str, str]],
            as_json: bool, changelog_unchecked: str | None) -> None:
    if as_json:
        click.echo(json.dumps({"snapshots": [_verdict_json(v) for v in verdicts],
                               "damaged": [{"snapshot_id": s, "error": e}
                                           for s, e in failures],
                               "changelog_unchecked": changelog_unchecked,
                               "ok": not failures and all(v.ok for v in verdicts)}))
        return
    if changelog_unchecked is not None:
        click.echo(f"note: {changelog_unchecked}")
    for snapshot_id, error in failures:
        click.echo(f"{snapshot_id}: DAMAGED: {error}")
    for v in verdicts:
        state = "ok" if v.ok else "FAILED"
        click.echo(f"{v.snapshot_id}: {state}: {v.files_checked} files and "
                   f"{v.rows_checked:,} rows checked")
        if v.coverage is not None:
            c = v.coverage
            click.echo(f"  changelog after the anchor: {c.transactions:,} transactions in "
                       f"{c.records:,} records, up to {c.last_gtid or '(none yet)'}")
            for problem in c.problems:
                click.echo(f"  changelog: {problem}")
        for problem in v.problems:
            click.echo(f"  {problem}")


def _verdict_json(v: SnapshotVerdict) -> dict[str, object]:
    coverage = None
    if v.coverage is not None:
        c = v.coverage
        coverage = {"records": c.records, "transactions": c.transactions,
                    "first_gtid": c.first_gtid, "last_gtid": c.last_gtid,
                    "problems": c.problems}
    return {"snapshot_id": v.snapshot_id, "ok": v.ok, "files_checked": v.files_checked,
            "rows_checked": v.rows_checked, "problems": v.problems, "changelog": coverage}


@backups.command()
@_CONFIG
@click.option("--keep-last", type=click.IntRange(min=1), default=None,
              help="Keep the newest N snapshots.")
@click.option("--keep-within", default=None, metavar="DURATION",
              help="Keep every point of the last DURATION restorable, e.g. '7d' or '36h'.")
@click.option("--confirm", is_flag=True, help="Delete for real; without it, only show what "
                                              "would be deleted.")
@_JSON
def prune(config_path: Path, keep_last: int | None, keep_within: str | None, confirm: bool,
          as_json: bool) -> None:
    """Delete old snapshots. A dry run unless --confirm. The snapshot that anchors the oldest
    point --keep-within asks for is always kept, even when it is older than that point."""
    if keep_last is None and keep_within is None:
        raise ConfigError("say what to keep", "give --keep-last N and/or --keep-within "
                                              "DURATION")
    within = None
    if keep_within is not None:
        try:
            within = timedelta(seconds=parse_duration(keep_within))
        except InvalidValueError as exc:
            raise ConfigError(f"--keep-within: {exc}", exc.hint) from None
    _, catalog = _catalog(config_path)
    plan = plan_prune(catalog.manifests, keep_last=keep_last, keep_within=within,
                      now=datetime.now(UTC))
    if confirm:
        for manifest in plan.delete:
            catalog.store.delete_snapshot(manifest.snapshot_id)
    if as_json:
        click.echo(json.dumps({"deleted" if confirm else "would_delete":
                               [m.snapshot_id for m in plan.delete],
                               "kept": [m.snapshot_id for m in plan.keep],
                               "dry_run": not confirm}))
        return
    verb = "deleted" if confirm else "would delete"
    for manifest in plan.delete:
        taken = manifest.created_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{verb} {manifest.snapshot_id} (taken {taken} UTC)")
    click.echo(f"kept {len(plan.keep)} snapshot(s)"
               + ("" if confirm else "; nothing was deleted: add --confirm to delete"))
