"""Bad configuration, DSNs, passwords, grants and keys, command by command: each is refused
before anything is written (no topic created, no snapshot stored), with its cause and fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cdc.dsn import parse_dsn
from cdc.kafka.topics import topic_exists
from tests.bad_inputs import Outcome, assert_refused, run, stack_secrets
from tests.capture_helpers import CaptureSetup, capture_env, write_capture_config
from tests.db import mysql_connect, unique_name
from tests.snapshot_helpers import snapshot_section
from tests.stack import StackEnv
from tests.throwaway_mariadb import free_port

pytestmark = pytest.mark.integration

Edit = Callable[[str], str]


@pytest.fixture(scope="module")
def base(stack_env: StackEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaptureSetup]:
    """A valid configuration with topics of its own; no case may create them."""
    directory = tmp_path_factory.mktemp("bad-config")
    setup = write_capture_config(directory, stack_env, unique_name("bad_config"), "current",
                                 extra_capture=snapshot_section(directory / "store"))
    yield setup
    for topic in (setup.changelog_topic, setup.schemas_topic):
        assert not topic_exists(setup.bootstrap, topic), f"a refused command created {topic}"
    assert not (directory / "store").exists(), "a refused command stored a snapshot"


def _variant(setup: CaptureSetup, tmp_path: Path, edit: Edit, suffix: str = ".toml") -> Path:
    path = tmp_path / f"variant{suffix}"
    path.write_text(edit(setup.config_path.read_text()))
    return path


def _replace(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


def _key_line(key: str, value: str) -> Edit:
    """Set ``key`` (a line ``key = ...``) to ``value``."""
    def edit(text: str) -> str:
        lines = [f"{key} = {value}" if line.startswith(f"{key} = ") else line
                 for line in text.splitlines()]
        return "\n".join(lines) + "\n"
    return edit


def _drop_line(key: str) -> Edit:
    return lambda text: "\n".join(line for line in text.splitlines()
                                  if not line.startswith(f"{key} = ")) + "\n"


CONFIG_CASES = [
    pytest.param(("check",), lambda text: "[source\ndsn = 1\n",
                 ("is not valid TOML",), ("fix the syntax", "strings need quotes"),
                 id="check-not-toml"),
    pytest.param(("snapshot",), _replace("server_id", "serverid"),
                 ("source.serverid: unknown key", "did you mean 'server_id'"),
                 ("the keys of [source] are",), id="snapshot-unknown-key"),
    pytest.param(("window",), _key_line("heartbeat_interval_s", '"often"'),
                 ("capture.heartbeat_interval_s", "must be an integer (got 'often')"),
                 ("how often an idle capture",),
                 id="window-wrong-type"),
    pytest.param(("capture",), _drop_line("bootstrap_servers"),
                 ("kafka.bootstrap_servers: is required but missing",),
                 ("CDC_KAFKA__BOOTSTRAP_SERVERS",), id="capture-missing-required-key"),
    pytest.param(("snapshot",), _key_line("anchor_wait", '"soon"'),
                 ("snapshots.anchor_wait", "'soon' is not a duration"), ("'90s'", "'6h'"),
                 id="snapshot-bad-duration"),
    pytest.param(("capture",), lambda text: text + 'interval = "daily"\n',
                 ("snapshots.interval", "not a duration"), ("'30m'",),
                 id="capture-bad-snapshot-interval"),
    pytest.param(("mark", "label-1"), _key_line("server_id", "0"),
                 ("source.server_id: must be at least 1 (got 0)",),
                 ("differ from the source's own server_id",), id="mark-server-id-out-of-range"),
    pytest.param(("check",), lambda text: text.replace("[capture]",
                                                       '[capture]\nstart = "yesterday"', 1),
                 ("is not valid TOML", "Cannot overwrite a value"), ("fix the syntax",),
                 id="check-duplicate-key"),
    pytest.param(("check",), _key_line("start", '"gtid:zero"'),
                 ("capture.start", "'zero' is not a GTID"), ("domain-server-sequence",),
                 id="check-bad-start-position"),
    pytest.param(("tail",), _key_line("include", '["mysql.*"]'),
                 ("capture.include: 'mysql.*' names a system schema",), ("never captured",),
                 id="tail-system-schema-included"),
    pytest.param(("check",), lambda text: text.replace("[kafka]",
                                                       "[kafka]\nmin_insync_replicas = 3", 1),
                 ("kafka.min_insync_replicas", "more than replication_factor 1"),
                 ("raise replication_factor",), id="check-min-insync-above-replicas"),
    pytest.param(("backups", "list"), _key_line("dsn", '"not a dsn"'),
                 ("source.dsn: unsupported DSN scheme",), ("mysql://user@host:3306/",),
                 id="backups-dsn-malformed"),
    pytest.param(("check",), _key_line("dsn", '"http://u:hidden-pw-1@127.0.0.1:1/"'),
                 ("source.dsn: unsupported DSN scheme 'http'",), ("mysql://",),
                 id="check-dsn-wrong-scheme"),
]


@pytest.mark.parametrize(("command", "edit", "cause", "fix"), CONFIG_CASES)
def test_a_bad_configuration_is_refused_before_anything_runs(
        base: CaptureSetup, tmp_path: Path, stack_env: StackEnv, *,
        command: tuple[str, ...], edit: Edit, cause: tuple[str, ...], fix: tuple[str, ...]) -> None:
    config = _variant(base, tmp_path, edit)
    outcome = run("cdc", *command, "--config", str(config))
    assert_refused(outcome, 2, (str(config), *cause), fix,
                   (*stack_secrets(stack_env), "hidden-pw-1"))


def test_a_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    assert_refused(run("cdc", "capture", "--config", str(missing)), 2,
                   (str(missing), "does not exist"), ("--config", "examples/cdc.toml"))


def test_a_misspelt_environment_variable(base: CaptureSetup, stack_env: StackEnv) -> None:
    env = {**capture_env(), "CDC_SORCE__DSN": "mysql://x@127.0.0.1:1/"}
    outcome = run("cdc", "check", "--config", str(base.config_path), env=env)
    assert_refused(outcome, 2, ("CDC_SORCE__DSN", "did you mean 'source'"),
                   ("the sections are",), stack_secrets(stack_env))


def _without_password(setup: CaptureSetup, tmp_path: Path, stack_env: StackEnv,
                      extra: str = "") -> Path:
    dsn = parse_dsn(stack_env["CDC_SOURCE_CAPTURE_DSN"])
    text = setup.config_path.read_text().replace(f":{dsn.password}@", "@")
    path = tmp_path / "nopw.toml"
    path.write_text(text.replace("[source]\n", f"[source]\n{extra}", 1))
    return path


@pytest.mark.parametrize("command", [("check",), ("snapshot",), ("capture",)])
def test_a_wrong_source_password(base: CaptureSetup, tmp_path: Path, stack_env: StackEnv,
                                 command: tuple[str, ...]) -> None:
    config = _without_password(base, tmp_path, stack_env)
    env = {**capture_env(), "CDC_SOURCE__PASSWORD": "Wrong-Secret-77"}
    outcome = run("cdc", *command, "--config", str(config), env=env)
    assert_refused(outcome, 2, ("cdc_capture", "Access denied"), ("password",),
                   (*stack_secrets(stack_env), "Wrong-Secret-77"))


def test_a_password_file_that_is_missing(base: CaptureSetup, tmp_path: Path,
                                         stack_env: StackEnv) -> None:
    config = _without_password(base, tmp_path, stack_env, 'password_file = "gone.pw"\n')
    outcome = run("cdc", "check", "--config", str(config))
    assert_refused(outcome, 2, ("source.password_file", "gone.pw does not exist"),
                   ("mode 600", "CDC_SOURCE__PASSWORD"),
                   stack_secrets(stack_env))


@pytest.mark.parametrize("command", [("check",), ("snapshot",)])
def test_an_unreachable_source_port(base: CaptureSetup, tmp_path: Path, stack_env: StackEnv,
                                    command: tuple[str, ...]) -> None:
    port = free_port()
    config = _variant(base, tmp_path, lambda text: text.replace(
        f":{stack_env['CDC_SOURCE_PORT']}/", f":{port}/"))
    outcome = run("cdc", *command, "--config", str(config))
    assert_refused(outcome, 2, (f"127.0.0.1:{port}",), ("server", "source.dsn"),
                   stack_secrets(stack_env))


@pytest.fixture(scope="module")
def weak_user(stack_env: StackEnv) -> Iterator[str]:
    """A login with no grant but USAGE: its DSN."""
    user, password = unique_name("bad_grants"), "weak-Secret-5"
    with mysql_connect(stack_env["CDC_SOURCE_ADMIN_DSN"]) as admin, admin.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        try:
            yield f"mysql://{user}:{password}@127.0.0.1:{stack_env['CDC_SOURCE_PORT']}/"
        finally:
            cur.execute(f"DROP USER '{user}'@'%'")


@pytest.mark.parametrize("command", [("check",), ("capture", "--until-caught-up")])
def test_a_capture_user_without_grants(base: CaptureSetup, tmp_path: Path,
                                       stack_env: StackEnv, weak_user: str,
                                       command: tuple[str, ...]) -> None:
    config = _variant(base, tmp_path, _key_line("dsn", f'"{weak_user}"'))
    outcome = run("cdc", *command, "--config", str(config))
    assert_refused(outcome, 2, ("lacks REPLICATION SLAVE", "lacks BINLOG MONITOR"),
                   ("GRANT REPLICATION SLAVE ON *.*", "GRANT BINLOG MONITOR ON *.*"),
                   (*stack_secrets(stack_env), "weak-Secret-5"))


def test_kafka_out_of_reach(base: CaptureSetup, tmp_path: Path, stack_env: StackEnv) -> None:
    config = _variant(base, tmp_path, _key_line("bootstrap_servers",
                                                f'"127.0.0.1:{free_port()}"'))
    outcome = run("cdc", "window", "--config", str(config))
    assert_refused(outcome, 1, ("Kafka failed",),
                   ("kafka.bootstrap_servers", "reachable", "a running capture"),
                   stack_secrets(stack_env))


KEY_CASES = [
    pytest.param({"BAD_KEY": "abc"}, ("BAD_KEY", "does not hold a key"), ("64 hex",),
                 id="key-malformed"),
    pytest.param({}, ("BAD_KEY", "is not set"), ("export BAD_KEY", "taken with"),
                 id="key-missing"),
]


@pytest.mark.parametrize(("environ", "cause", "fix"), KEY_CASES)
def test_a_bad_encryption_key_stops_a_snapshot_before_it_starts(
        base: CaptureSetup, tmp_path: Path, stack_env: StackEnv, *, environ: dict[str, str],
        cause: tuple[str, ...], fix: tuple[str, ...]) -> None:
    config = _variant(base, tmp_path, lambda text: text + 'encryption_key_env = "BAD_KEY"\n')
    outcome = run("cdc", "snapshot", "--config", str(config), env={**capture_env(), **environ})
    assert_refused(outcome, 2, cause, fix, stack_secrets(stack_env))


def test_an_unreadable_encryption_key_file(base: CaptureSetup, tmp_path: Path,
                                           stack_env: StackEnv) -> None:
    config = _variant(base, tmp_path,
                      lambda text: text + f'encryption_key_file = "{tmp_path}/none.key"\n')
    outcome = run("cdc", "snapshot", "--config", str(config))
    assert_refused(outcome, 2, ("none.key",), ("head -c 32 /dev/urandom",),
                   stack_secrets(stack_env))


@pytest.mark.parametrize(("args", "cause", "fix"), [
    pytest.param(("mark", "no spaces allowed"), ("is not a mark label",), ("letters, digits",),
                 id="mark-bad-label"),
    pytest.param(("plan", "--rto", "banana"), ("'banana' is not a duration",), ("--help",),
                 id="plan-bad-rto"),
    pytest.param(("backups", "prune"), ("say what to keep",), ("--keep-last",),
                 id="prune-without-rule"),
])
def test_bad_arguments(base: CaptureSetup, stack_env: StackEnv, args: tuple[str, ...],
                       cause: tuple[str, ...], fix: tuple[str, ...]) -> None:
    outcome: Outcome = run("cdc", *args[:1 if args[0] != "backups" else 2], "--config",
                           str(base.config_path), *args[1 if args[0] != "backups" else 2:])
    assert_refused(outcome, 2, cause, fix, stack_secrets(stack_env))
