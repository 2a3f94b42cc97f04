"""``cdc plan`` without servers: its output, its refusals, and how inputs are resolved and
measured (the readers of the running system replaced by fakes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from cdc.cli import main
from cdc.commands.plan import INPUTS, plan, resolve_inputs
from cdc.config.models import CaptureConfig
from cdc.errors import CdcError
from cdc.plan import measure as measure_module
from cdc.plan.measure import (
    ChangeSample,
    Measured,
    change_figures,
    drill_figures,
    snapshot_figures,
)
from cdc.plan.units import format_duration, interval_label

# The two-state chain of test_plan_optimize.py, as options: the cheapest interval is 2 h
# (726.42 a month), then 1 h (728.68), then 4 h (993.16).
CHAIN = ["--intervals", "1h,2h,4h", "--max-keep", "1", "--change-rate", "100",
         "--change-bytes-rate", "0", "--snapshot-rows", "720000", "--snapshot-bytes", "0",
         "--snapshot-duration", "6m", "--load-rate", "1000", "--replay-rate", "200",
         "--restore-overhead", "0", "--capture-lag", "1s", "--source-loss-rate", "87.66",
         "--site-loss-rate", "0", "--stall-rate", "0", "--stall-duration", "1h",
         "--corruption", "0", "--storage-cost", "0", "--changelog-storage-cost", "0",
         "--snapshot-cost", "5", "--downtime-cost", "100", "--loss-cost", "0"]


def invoke(*args: str) -> str:
    result = CliRunner().invoke(plan, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["cdc", "plan", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def test_the_recommendation_as_json() -> None:
    out = json.loads(invoke(*CHAIN, "--json"))
    best = out["recommended"]
    assert (best["interval"], best["interval_s"], best["keep"]) == ("2h", 7200, 1)
    assert best["cost_per_month"]["total"] == pytest.approx(726.4215, abs=1e-3)
    # RTO uniform on [900, 4,500] s; RPO capture's 1 s lag.
    assert best["rto_s"] == pytest.approx({"mean": 2700, "p50": 2700, "p95": 4320, "p99": 4464,
                                           "max": 4500, "unrecoverable": 0}, abs=1e-6)
    assert best["rpo_at_percentile_s"] == pytest.approx(1)
    assert best["prune"] == "cdc backups prune --keep-last 1"
    # The changelog back to the oldest kept anchor at its oldest: D + k T = 6 min + 2 h.
    assert best["changelog_retention_ms"] == (360 + 7200) * 1000
    assert [r["interval"] for r in out["runners_up"]] == ["1h", "4h"]
    assert out["bounds"] == {"rto_s": None, "rpo_s": None, "window_s": 0.0, "percentile": 99.0}
    assert out["inputs"]["load_rate"] == {"value": 1000.0, "unit": "rows/s", "origin": "given",
                                          "note": ""}
    assert out["inputs"]["verify_rate"]["origin"] == "default"
    assert out["inputs"]["verify_rate"]["value"] is None
    assert out["evaluated"] == 3


def test_the_recommendation_as_text() -> None:
    text = invoke(*CHAIN, "--rpo", "1m")
    assert text.startswith("the cheapest snapshot schedule that meets RPO ≤ 1m at p99 of "
                           "losses:\n\n  [snapshots]\n  interval = \"2h\"\n")
    assert "keep:        1 snapshot(s): cdc backups prune --keep-last 1 after each one" in text
    assert "(retention.ms = 7560000)" in text
    # Uniform on [900, 4,500] s: mean and p50 2,700 s, p95 4,320, p99 4,464, max 4,500.
    assert "RTO                45m       45m     1h12m     1h14m      1h15m\n" in text
    assert "RPO                 1s        1s        1s        1s         1s\n(over loss events)\n" \
        in text
    assert "cost/month:  726.42 = downtime 543.80 + taking snapshots 182.62" in text
    assert "  --load-rate               1,000 rows/s                  given\n" in text
    assert "  --verify-rate             none                          default: " in text
    runners = text[text.index("runners-up:"):]
    assert runners.index("1h ") < runners.index("4h ")


def test_defaults_come_from_the_benchmarks_and_say_so() -> None:
    out = json.loads(invoke("--json"))
    inputs = out["inputs"]
    assert inputs["load_rate"]["value"] == 30_000
    assert "BENCHMARKS.md" in inputs["load_rate"]["note"]
    assert inputs["replay_rate"]["value"] == 2_350
    assert {i["origin"] for i in inputs.values()} == {"default"}
    # A default derived from another input follows it when that one is given.
    out = json.loads(invoke("--json", "--snapshot-rows", "2000000"))
    assert out["inputs"]["snapshot_bytes"]["value"] == 34_800_000
    assert out["inputs"]["snapshot_duration"]["value"] == pytest.approx(2_000_000 / 141_515)


def test_help_lists_every_input_with_its_default() -> None:
    text = invoke("--help")
    for spec in INPUTS:
        assert spec.option in text
    for option in ("--rto", "--rpo", "--percentile", "--window", "--intervals", "--max-keep",
                   "--from-metrics", "--config", "--json"):
        assert option in text


def test_an_impossible_rto_is_one_error_and_one_hint_with_status_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    status = run_main(monkeypatch, *CHAIN, "--rto", "10m")
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: no schedule meets RTO ≤ 10m at p99: even a snapshot every 1h "
                          "keeping 1 needs 44m42s (load alone takes 12m, whatever the "
                          "interval)\nhint: the load is the floor: load faster (--load-rate)")
    assert err.count("\n") == 2


def test_an_impossible_bound_with_json_names_the_constraint(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    status = run_main(monkeypatch, *CHAIN, "--stall-rate", "175.32", "--rpo", "30s", "--json")
    out = json.loads(capsys.readouterr().out)
    assert status == 2
    assert out["ok"] is False
    assert out["constraint"] == "rpo"
    assert out["error"].startswith("no schedule meets RPO ≤ 30s at p99")
    assert "capture stalls" in out["error"]
    assert out["exit_status"] == 2


def test_from_metrics_needs_a_config(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    status = run_main(monkeypatch, "--from-metrics")
    assert status == 2
    assert capsys.readouterr().err == ("error: --from-metrics needs --config\n"
                                       "hint: pass the capture configuration: --config cdc.toml\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--rto", "soon"], "'soon' is not a duration"),
    (["--snapshot-bytes", "lots"], "'lots' is not a size"),
    (["--load-rate", "fast"], "could not convert"),
])
def test_a_malformed_option_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str],
                                             args: list[str], message: str) -> None:
    assert run_main(monkeypatch, *args) == 2
    assert message in capsys.readouterr().err


def test_given_beats_measured_beats_default() -> None:
    measured = Measured()
    measured.add("snapshot_rows", 5_000_000, "snapshot s1")
    measured.add("load_rate", 12_345, "median of the last 2 passed drill(s)")
    inputs, origins = resolve_inputs({"load_rate": 20_000.0}, measured)
    assert inputs.load_rate == 20_000
    assert origins["load_rate"] == ("given", "")
    assert inputs.snapshot_rows == 5_000_000
    assert origins["snapshot_rows"] == ("measured", "snapshot s1")
    # Not measured: the default, derived from the measured rows.
    assert inputs.snapshot_bytes == 87_000_000
    assert origins["snapshot_bytes"][0] == "default"
    assert inputs.verify_rate is None


# --- --from-metrics: the figures, from fakes --------------------------------------------------

@dataclass(frozen=True)
class FakeSnapshot:
    snapshot_id: str
    created_at: datetime
    finished_at: datetime
    total_rows: int
    total_bytes: int


def snapshots(*seconds: float) -> list[FakeSnapshot]:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    return [FakeSnapshot(f"s{i}", start + timedelta(hours=i),
                         start + timedelta(hours=i, seconds=s), 1000 * (i + 1), 10 * (i + 1))
            for i, s in enumerate(seconds)]


def test_snapshot_figures_take_the_newest_size_and_the_median_duration() -> None:
    found = Measured()
    snapshot_figures(snapshots(100, 10, 30, 20, 40, 50), found)
    assert found.values == {"snapshot_rows": 6000, "snapshot_bytes": 60,
                            "snapshot_duration": 30}  # median of the last 5: 10 20 30 40 50
    assert found.notes["snapshot_rows"] == "snapshot s5"
    empty = Measured()
    snapshot_figures([], empty)
    assert empty.values == {}
    assert "no snapshot in the store yet" in empty.warnings[0]


def test_change_figures_count_row_changes_over_commit_time() -> None:
    # 240 row changes and 13 heartbeats over 120 s: 2 row changes/s; bytes of all records.
    samples = [ChangeSample(i * 500_000, True, 100) for i in range(240)]
    samples += [ChangeSample(i * 10_000_000, False, 50) for i in range(13)]
    found = Measured()
    change_figures(samples, found)
    assert found.values["change_rate"] == pytest.approx(240 / 120)
    assert found.values["change_bytes_rate"] == pytest.approx((24_000 + 650) / 120)
    short = Measured()
    change_figures(samples[:20], short)
    assert short.values == {}
    assert "span only 10 s" in short.warnings[0]


@dataclass(frozen=True)
class FakePhase:
    rate: float | None


@dataclass(frozen=True)
class FakeDrill:
    started_at: str
    passed: bool
    rates: dict[str, float]

    def phase(self, name: str) -> FakePhase | None:
        return FakePhase(self.rates[name]) if name in self.rates else None

    def whole_load(self) -> FakePhase | None:
        return self.phase("load")


def test_drill_figures_use_the_passed_drills_only() -> None:
    drills = [FakeDrill("2026-12-01", True, {"load": 1000, "replay": 100}),
              FakeDrill("2026-12-02", False, {"load": 9, "replay": 9}),
              FakeDrill("2026-12-03", True, {"load": 3000, "replay": 300})]
    found = Measured()
    drill_figures(drills, found)
    assert found.values == {"load_rate": 2000, "replay_rate": 200}
    assert found.notes["load_rate"] == "median of the last 2 passed drill(s)"
    none = Measured()
    drill_figures(drills[1:2], none)
    assert none.values == {}
    assert "no restore drill has passed yet" in none.warnings[0]


def test_measure_reads_each_source_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(_config: CaptureConfig, _into: Measured) -> None:
        raise CdcError("Kafka is not reachable at 127.0.0.1:1")

    def some_snapshots(_config: CaptureConfig, into: Measured) -> None:
        snapshot_figures(snapshots(10), into)

    def some_drills(_config: CaptureConfig, into: Measured) -> None:
        drill_figures([FakeDrill("2026-12-01", True, {"verify": 5000})], into)

    monkeypatch.setattr(measure_module, "_read_drills", some_drills)
    monkeypatch.setattr(measure_module, "_read_snapshots", some_snapshots)
    monkeypatch.setattr(measure_module, "_read_changes", fail)
    found = measure_module.measure(None)  # type: ignore[arg-type]
    assert found.values == {"snapshot_rows": 1000, "snapshot_bytes": 10,
                            "snapshot_duration": 10, "verify_rate": 5000}
    assert found.warnings == ["the changelog could not be read (Kafka is not reachable at "
                              "127.0.0.1:1); its inputs are given or default"]
    monkeypatch.setattr(measure_module, "_read_drills", fail)
    found = measure_module.measure(None)  # type: ignore[arg-type]
    assert "could not be read (Kafka is not reachable" in found.warnings[-1]


# --- durations ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "text"), [
    (0.35, "0.35s"), (7.07, "7.1s"), (7.0, "7s"), (45, "45s"), (432, "7m12s"), (3600, "1h"),
    (3900, "1h5m"), (86399, "1d"), (90061, "1d1h"), (float("inf"), "unbounded")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_interval_label_is_what_snapshots_interval_accepts() -> None:
    assert [interval_label(s) for s in (21600, 5400, 45, 604800)] == ["6h", "90m", "45s", "7d"]
    with pytest.raises(ValueError, match="positive"):
        interval_label(0)
