"""Base snapshots on the real servers: the anchor is exact, the types are the binlog's, and
every kind of damage is found and named."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cdc.position import GtidPosition, parse_gtid
from cdc.snapshot.encryption import EncryptionKey
from cdc.snapshot.store import S3Settings
from tests.capture_helpers import (
    capture_env,
    changelog,
    current_gtid_position,
    kill,
    run_capture_until_caught_up,
    start_capture,
    wait_for_changelog_to_reach,
    wait_until_streaming,
    write_capture_config,
)
from tests.compare import changelog_rows, source_rows
from tests.db import mysql_connect, unique_name
from tests.integration.test_capture_crash import WORKLOAD_TABLES, finish, workload
from tests.s3_server import BUCKET
from tests.snapshot_helpers import (
    apply_changes,
    changelog_from,
    newest_manifest,
    run_cdc,
    snapshot_section,
    snapshot_tables,
    take,
)
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


def test_snapshot_during_writes_plus_the_changelog_from_its_anchor_equals_the_source(
        stack_env: StackEnv, tmp_path: Path) -> None:
    database = unique_name("snap")
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    store = tmp_path / "store"
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}",
                                 extra_capture=snapshot_section(store))
    log = tmp_path / "capture.log"
    capture = start_capture(setup, log)
    try:
        wait_until_streaming(log)
        load = workload(stack_env, database, "--rate", "80", "--duration", "25", "--seed", "4")
        time.sleep(6)
        before = GtidPosition.parse(current_gtid_position(stack_env))
        summary = take(setup.config_path)
        after = GtidPosition.parse(current_gtid_position(stack_env))
        finish(load)
        end = current_gtid_position(stack_env)
        wait_for_changelog_to_reach(setup, end)
    finally:
        kill(capture, signal.SIGTERM)

    manifest = newest_manifest(store)
    assert manifest.snapshot_id == summary["snapshot_id"]
    anchor = GtidPosition.parse(manifest.anchor.gtid_position)
    # Taken while the workload wrote: the anchor lies strictly inside the stream of writes.
    [anchor_gtid] = anchor.by_domain
    low, high = before.sequence_in(0), after.sequence_in(0)
    assert low is not None
    assert high is not None
    assert low <= anchor_gtid.sequence <= high
    offset = manifest.anchor.changelog_offset
    assert offset is not None, "the replay start was not recorded though capture ran"

    replayed = changelog_from(setup, offset)
    assert replayed, "nothing to replay: the snapshot was not taken during the writes"
    first = next(r for r in replayed if not r.operation.is_marker)
    assert not anchor.contains(parse_gtid(first.position.gtid))

    tables = snapshot_tables(store, manifest)
    assert sum(len(rows) for rows in tables.values()) == manifest.total_rows > 0
    transactions = apply_changes(tables, replayed)
    assert transactions > 50, "too few transactions after the anchor to prove anything"
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as conn:
        for table in WORKLOAD_TABLES:
            assert changelog_rows(tables.get(table, {})) == source_rows(conn, database, table), \
                table

    verified = run_cdc("backups", "verify", "--config", str(setup.config_path), "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] is True
    [checked] = report["snapshots"]
    assert checked["rows_checked"] == manifest.total_rows
    assert checked["changelog"]["transactions"] >= transactions
    assert checked["changelog"]["problems"] == []


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_snapshot_rows_equal_the_binlogs_images_exactly(stack_env: StackEnv, tmp_path: Path,
                                                        tz: str) -> None:
    """The type-torture rows read by the snapshot's SELECT and decoded from the binlog by
    capture are the same canonical values, in any host time zone."""
    database = unique_name("snaptypes")
    start = current_gtid_position(stack_env)
    finish(workload(stack_env, database, "--setup-only"))
    store = tmp_path / "store"
    setup = write_capture_config(tmp_path, stack_env, database, f"gtid:{start}",
                                 extra_capture=snapshot_section(store, anchor_wait="0s"))
    result = run_capture_until_caught_up(setup, tz=tz)
    assert result.returncode == 0, result.stderr
    env = capture_env(tz)
    take(setup.config_path, "--tables", f"{database}.type_torture", env=env)
    manifest = newest_manifest(store)
    assert [t.table for t in manifest.tables] == ["type_torture"]
    snapshot = snapshot_tables(store, manifest)["type_torture"]
    from_binlog = {}
    for record in changelog(setup):
        if record.table == "type_torture" and record.after is not None:
            from_binlog[(record.after["id"],)] = record.after
    assert snapshot, "the torture table is empty"
    assert snapshot == from_binlog


@pytest.fixture
def small_snapshot(stack_env: StackEnv, tmp_path: Path) -> tuple[Path, Path]:
    """A snapshot of a freshly set-up workload database (no capture needed)."""
    database = unique_name("snapdmg")
    finish(workload(stack_env, database, "--setup-only"))
    store = tmp_path / "store"
    setup = write_capture_config(tmp_path, stack_env, database, "current",
                                 extra_capture=snapshot_section(store, anchor_wait="0s"))
    take(setup.config_path)
    return setup.config_path, store


def _verify_files(config: Path, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = ["backups", "verify", "--config", str(config), "--skip-changelog"]
    env = capture_env()
    if store is not None:
        env["CDC_SNAPSHOTS__STORE"] = str(store)
    return run_cdc(*args, env=env)


def _copy(store: Path, tmp_path: Path, name: str) -> tuple[Path, Path]:
    copy = tmp_path / name
    shutil.copytree(store, copy)
    [snapshot_dir] = [p for p in copy.iterdir() if p.is_dir()]
    return copy, snapshot_dir


def test_an_intact_snapshot_verifies(small_snapshot: tuple[Path, Path]) -> None:
    config, _ = small_snapshot
    result = _verify_files(config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": ok:" in result.stdout


@pytest.mark.parametrize("damage", ["flipped byte", "truncated file", "missing file"])
def test_damaged_files_fail_verification_by_name(small_snapshot: tuple[Path, Path],
                                                 tmp_path: Path, damage: str) -> None:
    config, store = small_snapshot
    copy, snapshot_dir = _copy(store, tmp_path, damage.replace(" ", "-"))
    victim = max((p for p in snapshot_dir.iterdir() if p.suffix == ".avro"),
                 key=lambda p: p.stat().st_size)
    data = victim.read_bytes()
    if damage == "flipped byte":
        victim.write_bytes(data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0x40])
                           + data[len(data) // 2 + 1:])
    elif damage == "truncated file":
        victim.write_bytes(data[:len(data) - 7])
    else:
        victim.unlink()
    result = _verify_files(config, copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert victim.name in result.stdout
    assert "FAILED" in result.stdout


def test_a_truncated_manifest_fails_verification_by_name(small_snapshot: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    config, store = small_snapshot
    copy, snapshot_dir = _copy(store, tmp_path, "manifest")
    manifest = snapshot_dir / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:200])
    result = _verify_files(config, copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "manifest.json" in result.stdout
    assert "DAMAGED" in result.stdout
    listed = run_cdc("backups", "list", "--config", str(config), "--json",
                     env={**capture_env(), "CDC_SNAPSHOTS__STORE": str(copy)})
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["damaged"][0]["snapshot_id"] == snapshot_dir.name


@pytest.fixture
def tmpfs(tmp_path: Path) -> object:
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                       check=True)
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


@pytest.mark.parametrize(("options", "reason"), [("size=96k", "No space left on device"),
                                                 ("size=1m,ro", "Read-only file system")])
def test_a_full_or_read_only_store_fails_the_snapshot_and_leaves_no_manifest(
        stack_env: StackEnv, tmp_path: Path, tmpfs: object, options: str, reason: str) -> None:
    database = unique_name("snapfull")
    finish(workload(stack_env, database, "--setup-only"))
    finish(workload(stack_env, database, "--transactions", "300", "--seed", "2"))
    store = tmpfs("store", options)  # type: ignore[operator]
    setup = write_capture_config(tmp_path, stack_env, database, "current",
                                 extra_capture=snapshot_section(
                                     store, anchor_wait="0s", extra='compression = "null"'))
    result = run_cdc("snapshot", "--config", str(setup.config_path))
    assert result.returncode != 0
    assert reason in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not list(store.rglob("manifest.json"))
    assert not [p for p in store.rglob("*") if p.is_file()], "a failed snapshot left files"


def test_a_wrong_or_missing_encryption_key_is_a_clear_error(
        small_snapshot: tuple[Path, Path], stack_env: StackEnv, tmp_path: Path) -> None:
    config, _ = small_snapshot
    right = tmp_path / "right.key"
    right.write_bytes(bytes(range(32)))
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(bytes(range(1, 33)))
    store = tmp_path / "encrypted"
    env = {**capture_env(), "CDC_SNAPSHOTS__STORE": str(store),
           "CDC_SNAPSHOTS__ENCRYPTION_KEY_FILE": str(right)}
    result = run_cdc("snapshot", "--config", str(config), env=env)
    assert result.returncode == 0, result.stderr
    manifest = newest_manifest(store)
    assert manifest.encryption is not None
    assert manifest.encryption.key_id == EncryptionKey(bytes(range(32))).key_id
    manifest_text = (store / manifest.snapshot_id / "manifest.json").read_text()
    assert bytes(range(32)).hex() not in manifest_text
    ok = run_cdc("backups", "verify", "--config", str(config), "--skip-changelog", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    bad = run_cdc("backups", "verify", "--config", str(config), "--skip-changelog",
                  env={**env, "CDC_SNAPSHOTS__ENCRYPTION_KEY_FILE": str(wrong)})
    assert bad.returncode != 0
    assert EncryptionKey(bytes(range(32))).key_id in bad.stdout + bad.stderr
    assert EncryptionKey(bytes(range(1, 33))).key_id in bad.stdout + bad.stderr
    missing = {k: v for k, v in env.items() if k != "CDC_SNAPSHOTS__ENCRYPTION_KEY_FILE"}
    none = run_cdc("backups", "verify", "--config", str(config), "--skip-changelog",
                   env=missing)
    assert none.returncode != 0
    assert "key" in (none.stdout + none.stderr).lower()
    assert "Traceback" not in none.stderr + bad.stderr


def test_capture_takes_snapshots_on_its_schedule(stack_env: StackEnv, tmp_path: Path) -> None:
    database = unique_name("snapsched")
    finish(workload(stack_env, database, "--setup-only"))
    store = tmp_path / "store"
    setup = write_capture_config(tmp_path, stack_env, database, "current",
                                 extra_capture=snapshot_section(
                                     store, anchor_wait="5s", extra='interval = "4s"'))
    log = tmp_path / "capture.log"
    capture = start_capture(setup, log)
    try:
        wait_until_streaming(log)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(list(store.glob("*/manifest.json"))) < 2:
            time.sleep(0.5)
    finally:
        kill(capture, signal.SIGTERM)
    manifests = sorted(store.glob("*/manifest.json"))
    assert len(manifests) >= 2, log.read_text()[-3000:]
    assert capture.returncode == 0
    assert "taking a scheduled snapshot" in log.read_text()
    newest = newest_manifest(store)
    assert newest.anchor.changelog_offset is not None  # capture ran, so the start was found

    window = run_cdc("window", "--config", str(setup.config_path), "--json")
    assert window.returncode == 0, window.stderr
    shown = json.loads(window.stdout)
    oldest = min(p.parent.name for p in manifests)
    assert shown["earliest"]["snapshot_id"] == oldest
    assert shown["latest"]["gtid_position"]
    assert shown["transactions_behind"] is not None
    assert shown["transactions_behind"] >= 0
    assert shown["rpo_seconds"] is not None

    dry = run_cdc("backups", "prune", "--config", str(setup.config_path), "--keep-last", "1",
                  "--json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True
    assert planned["kept"] == [newest.snapshot_id]
    assert len(planned["would_delete"]) == len(manifests) - 1
    assert len(list(store.glob("*/manifest.json"))) == len(manifests)  # nothing deleted yet
    done = run_cdc("backups", "prune", "--config", str(setup.config_path), "--keep-last", "1",
                   "--confirm")
    assert done.returncode == 0, done.stderr
    assert [p.parent.name for p in store.glob("*/manifest.json")] == [newest.snapshot_id]


def test_a_snapshot_in_an_s3_store_lists_and_verifies(
        small_snapshot: tuple[Path, Path], s3_settings: S3Settings) -> None:
    config, _ = small_snapshot
    env = {**capture_env(),
           "CDC_SNAPSHOTS__STORE": f"s3://{BUCKET}/e2e-{unique_name('p')}",
           "CDC_SNAPSHOTS__S3_ENDPOINT_URL": str(s3_settings.endpoint_url),
           "CDC_SNAPSHOTS__S3_REGION": "us-east-1",
           "CDC_SNAPSHOTS__S3_ACCESS_KEY_ID": "test",
           "CDC_SNAPSHOTS__S3_SECRET_ACCESS_KEY": "test"}
    summary = take(config, env=env)
    listed = run_cdc("backups", "list", "--config", str(config), "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)["snapshots"]
    assert entry["snapshot_id"] == summary["snapshot_id"]
    assert entry["rows"] == summary["rows"] > 0
    verified = run_cdc("backups", "verify", "--config", str(config), "--skip-changelog",
                       "--json", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["snapshots"][0]["rows_checked"] == summary["rows"]
