"""Reading capture's --json summary and the command a benchmark run starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.harness.capture_run import CaptureRunError, capture_command, parse_capture_output


def test_the_summary_is_the_last_json_object_printed() -> None:
    stdout = ('starting\n{"note": 1}\n'
              '{"gtid_position": "0-1001-99", "records": 4610, "transactions": 1000}\n')
    outcome = parse_capture_output(stdout)
    assert outcome.records == 4610
    assert outcome.transactions == 1000
    assert outcome.gtid_position == "0-1001-99"


@pytest.mark.parametrize("stdout", ["", "capture stopped at GTID position 0-1-2\n", "[1, 2]\n"])
def test_output_without_a_summary_is_an_error(stdout: str) -> None:
    with pytest.raises(CaptureRunError, match="no JSON summary"):
        parse_capture_output(stdout)


def test_the_command_runs_capture_until_caught_up() -> None:
    assert capture_command(Path("/tmp/x.toml"), "/venv/python") == [
        "/venv/python", "-m", "cdc", "capture", "--config", "/tmp/x.toml",
        "--until-caught-up", "--json"]
