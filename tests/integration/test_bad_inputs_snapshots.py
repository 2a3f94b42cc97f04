"""Wrong or missing encryption keys, damaged snapshot files and manifests, a snapshot of
another source, a changelog that is not there, and the replayer's bad arguments: each refused
with its cause and fix, the target left as it was."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.bad_inputs import Outcome, assert_refused, run, stack_secrets
from tests.bad_inputs_backup import Backup, applied_positions, postgres_schemas, restore
from tests.capture_helpers import capture_env
from tests.stack import StackEnv

pytestmark = pytest.mark.integration


@pytest.fixture
def target(postgres_databases: Callable[[], str]) -> Iterator[str]:
    """An empty PostgreSQL database, checked to be empty still after the case."""
    dsn = postgres_databases()
    yield dsn
    assert postgres_schemas(dsn) == set(), "a refused restore wrote into its target"


KEY_CASES = [
    pytest.param(lambda b: {KEY: "f" * 64}, ("was encrypted with key id",),
                 ("the key snapshot", "was taken with"), id="restore-wrong-key"),
    pytest.param(lambda b: {}, ("is not set or is empty",), ("was taken with",),
                 id="restore-key-variable-unset"),
    pytest.param(lambda b: {KEY: "not-a-key"}, ("does not hold a key",), ("was taken with",),
                 id="restore-key-malformed"),
]
KEY = "BAD_INPUTS_SNAPSHOT_KEY"


@pytest.mark.parametrize(("environ", "cause", "fix"), KEY_CASES)
def test_a_wrong_or_missing_key_stops_a_restore_before_the_target(
        backup: Backup, target: str, stack_env: StackEnv, *,
        environ: Callable[[Backup], dict[str, str]], cause: tuple[str, ...],
        fix: tuple[str, ...]) -> None:
    outcome = restore(backup, "latest", target, config=backup.encrypted_config,
                      env={**capture_env(), **environ(backup)})
    assert_refused(outcome, 2, cause, (*fix, backup.encrypted_id),
                   (*stack_secrets(stack_env), backup.key_hex))


def test_no_key_configured_for_an_encrypted_snapshot(backup: Backup, target: str,
                                                     stack_env: StackEnv, tmp_path: Path) -> None:
    config = backup.variant(tmp_path, f'encryption_key_env = "{KEY}"\n', "", encrypted=True)
    assert_refused(restore(backup, "latest", target, config=config), 2,
                   (backup.encrypted_id, "is encrypted, and no key is configured"),
                   ("snapshots.encryption_key_env", "was taken with"), stack_secrets(stack_env))


def test_backups_verify_with_the_wrong_key(backup: Backup, stack_env: StackEnv) -> None:
    outcome = run("cdc", "backups", "verify", "--config", str(backup.encrypted_config),
                  env={**capture_env(), KEY: "e" * 64})
    assert outcome.status == 1, outcome
    assert "was encrypted with key" in outcome.out
    assert "Traceback" not in outcome.out + outcome.err
    assert not any(s in outcome.out + outcome.err for s in (*stack_secrets(stack_env),
                                                            backup.key_hex))


@pytest.fixture
def store_copy(backup: Backup, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the plain store and a config reading it: (config, the snapshot's folder)."""
    store = backup.config.parent / "store"
    copy = tmp_path / "store-copy"
    shutil.copytree(store, copy)
    config = backup.variant(tmp_path, f'"{store}"', f'"{copy}"')
    return config, copy / backup.snapshot_id


def _data_file(snapshot: Path) -> Path:
    return sorted(snapshot.glob("*.avro"))[0]


def test_a_truncated_data_file_stops_the_restore_by_name(
        backup: Backup, postgres_databases: Callable[[], str], stack_env: StackEnv,
        store_copy: tuple[Path, Path]) -> None:
    config, snapshot = store_copy
    victim = _data_file(snapshot)
    victim.write_bytes(victim.read_bytes()[:100])
    dsn = postgres_databases()
    outcome = restore(backup, "latest", dsn, config=config)
    assert_refused(outcome, 1, (victim.name, "truncated"), ("use another snapshot",),
                   stack_secrets(stack_env))
    # No position is stored: what was loaded counts as unfinished, never as restored.
    assert applied_positions(dsn) == []


def test_a_corrupt_data_file_is_named_by_backups_verify(
        stack_env: StackEnv, store_copy: tuple[Path, Path]) -> None:
    config, snapshot = store_copy
    victim = _data_file(snapshot)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    outcome = run("cdc", "backups", "verify", "--config", str(config))
    assert outcome.status == 1, outcome
    assert victim.name in outcome.out
    assert "FAILED" in outcome.out
    assert "Traceback" not in outcome.out + outcome.err


def test_a_corrupt_manifest_is_named_by_the_restore(
        backup: Backup, target: str, stack_env: StackEnv,
        store_copy: tuple[Path, Path]) -> None:
    config, snapshot = store_copy
    (snapshot / "manifest.json").write_text('{"format_version": 1, "snapsh')
    assert_refused(restore(backup, "latest", target, config=config), 1,
                   (f"there is no snapshot of source {backup.database!r}",
                    f"a damaged manifest: {backup.snapshot_id}", "is not valid JSON"),
                   ("a damaged manifest must be restored from a copy", "cdc backups list"),
                   stack_secrets(stack_env))


@pytest.mark.parametrize("snapshot", ["auto", "chosen"])
def test_a_snapshot_of_another_source(backup: Backup, target: str, stack_env: StackEnv,
                                      tmp_path: Path, snapshot: str) -> None:
    config = backup.variant(tmp_path, f'name = "{backup.database}"', 'name = "another_source"')
    chosen = () if snapshot == "auto" else ("--snapshot", backup.snapshot_id)
    outcome = restore(backup, "latest", target, *chosen, config=config)
    if snapshot == "auto":
        assert_refused(outcome, 1, ("no snapshot of source 'another_source'",
                                    f"other sources only ({backup.database})"),
                       ("cdc snapshot",), stack_secrets(stack_env))
    else:
        assert_refused(outcome, 2, (f"taken of source {backup.database!r}",
                                    "not of 'another_source'"),
                       ("a snapshot of this source",), stack_secrets(stack_env))


def test_a_changelog_topic_that_is_not_there(backup: Backup, target: str,
                                             stack_env: StackEnv, tmp_path: Path) -> None:
    config = backup.variant(tmp_path, 'topic_prefix = "', 'topic_prefix = "deleted.')
    outcome = restore(backup, "latest", target, config=config)
    assert_refused(outcome, 2, ("Kafka has no topic deleted.",),
                   ("kafka.topic_prefix", "new base snapshot"), stack_secrets(stack_env))


def _verify(*args: str) -> Outcome:
    return run("replayer", "verify", *args)


def test_verify_of_a_table_the_source_does_not_have(
        backup: Backup, target: str, stack_env: StackEnv) -> None:
    outcome = _verify("--source", stack_env["CDC_SOURCE_ADMIN_DSN"], "--target", target,
                      "--tables", f"{backup.database}.no_such_table")
    assert_refused(outcome, 2, ("no table of the source matches --tables",
                                f"{backup.database}.no_such_table"), ("check the patterns",),
                   stack_secrets(stack_env))


def test_verify_of_a_table_the_snapshot_does_not_have(
        backup: Backup, target: str, stack_env: StackEnv) -> None:
    outcome = _verify("--config", str(backup.config), "--snapshot", backup.snapshot_id,
                      "--target", target, "--tables", "elsewhere.*")
    assert_refused(outcome, 2, (f"no table of snapshot {backup.snapshot_id} matches",),
                   ("check the patterns",), stack_secrets(stack_env))


ARGUMENT_CASES = [
    pytest.param(("verify", "--target", "{target}"), ("--source",), ("--help",),
                 id="verify-without-a-source"),
    pytest.param(("migrate", "--config", "{config}", "--target", "{target}", "--mode", "fast"),
                 ("'fast' is not one of 'sync', 'async'",), ("--help",),
                 id="migrate-unknown-mode"),
    pytest.param(("migrate", "--config", "{config}", "--target", "{target}", "--mode",
                  "async", "--delay", "soon"), ("--delay: 'soon' is not a duration",),
                 ("'90s'",), id="migrate-bad-delay"),
    pytest.param(("status", "--config", "{config}"), ("Missing option '--target'",),
                 ("--help",), id="status-without-target"),
    pytest.param(("cutover", "--config", "{config}", "--target", "{target}", "--timeout",
                  "a while"), ("--timeout: 'a while' is not a duration",), ("'90s'",),
                 id="cutover-bad-timeout"),
    pytest.param(("restore", "--config", "{config}", "--to", "latest", "--target", "{target}",
                  "--workers", "0"), ("--workers",), ("--help",), id="restore-zero-workers"),
]


@pytest.mark.parametrize(("argv", "cause", "fix"), ARGUMENT_CASES)
def test_bad_replayer_arguments(backup: Backup, target: str, stack_env: StackEnv, *,
                                argv: tuple[str, ...], cause: tuple[str, ...],
                                fix: tuple[str, ...]) -> None:
    args = [a.format(config=backup.config, target=target) for a in argv]
    assert_refused(run("replayer", *args), 2, cause, fix, stack_secrets(stack_env))
