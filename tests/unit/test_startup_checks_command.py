"""``cdc check`` without a server: how it reports a configuration error, and what it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdc.cli import main
from cdc.commands.check import StartReport, render, report
from cdc.config import load_config
from cdc.source_requirements import Flavor
from cdc.startup_checks import SourceFacts
from tests.stack import REPO_ROOT

FACTS = SourceFacts(Flavor.MARIADB, "10.11.19-MariaDB", 1001, "0-1001-17", "mariadb-bin.000002",
                    4711, ("gtid_strict_mode is OFF: ...",), ("shop.notes",))


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["cdc", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def test_a_config_error_is_one_message_one_hint_and_status_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    status = run_main(monkeypatch, "check", "--config", str(tmp_path / "absent.toml"))
    err = capsys.readouterr().err
    assert status == 2
    assert err == (f"error: config file {tmp_path / 'absent.toml'} does not exist\n"
                   "hint: pass the path with --config; examples/cdc.toml shows every section\n")


def test_with_json_the_error_is_one_object_on_stdout(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    status = run_main(monkeypatch, "check", "--config", str(tmp_path / "absent.toml"), "--json")
    out = json.loads(capsys.readouterr().out)
    assert status == 2
    assert out == {"ok": False, "error": f"config file {tmp_path / 'absent.toml'} does not exist",
                   "hint": "pass the path with --config; examples/cdc.toml shows every section",
                   "exit_status": 2}


START = StartReport("first start: the changelog is empty; it would begin after GTID position "
                    "0-1001-17, chosen by ...", {"applies": "capture.start",
                                               "would_begin_after": "0-1001-17"})


def test_what_check_prints_when_capture_can_start() -> None:
    config = load_config(REPO_ROOT / "examples" / "cdc.toml", {})
    text = render(config, FACTS, list(FACTS.warnings), START)
    assert "server      mariadb 10.11.19-MariaDB" in text
    assert "server ids  source 1001, capture 2001" in text
    assert "binlog      mariadb-bin.000002:4711, GTID position 0-1001-17" in text
    assert "warning: gtid_strict_mode is OFF: ..." in text
    assert "start       first start: the changelog is empty; it would begin after GTID " \
        "position 0-1001-17" in text
    assert "            (capture.start = 'current')" in text
    assert "workers     " in text
    assert text.endswith("capture can start")
    as_json = report(config, FACTS, list(FACTS.warnings), START)
    assert as_json["start"] == {"applies": "capture.start", "would_begin_after": "0-1001-17"}
    assert isinstance(as_json["workers"], int)
    assert as_json["workers"] >= 1
    assert as_json["ok"] is True
    assert as_json["source"] == "mysql://cdc_capture@127.0.0.1:13306/"
    assert as_json["tables_without_primary_key"] == ["shop.notes"]
    assert as_json["changelog_topic"] == "cdc.local-source.changelog"
    json.dumps(as_json)
