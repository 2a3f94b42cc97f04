"""The migration benchmark's lag arithmetic: probes against what the target showed, the
percentiles, and where the lag sat (capture or the migrate)."""

from __future__ import annotations

import pytest

from bench.harness.pipeline_sampler import Backlogs, Sample, health_position, stage_backlogs
from bench.harness.probe_lag import (
    LagStats,
    ProbeLags,
    Seen,
    Sent,
    next_value,
    percentile,
    probe_ddl,
    probe_lags,
)
from cdc.position import GtidPosition


def test_probe_values_are_the_clock_unless_it_has_not_moved_on() -> None:
    assert next_value(0, 1_700_000_000_000_000) == 1_700_000_000_000_000
    assert next_value(500, 500) == 501
    assert next_value(500, 400) == 501  # the wall clock went back


def test_the_probe_table_has_one_key_and_the_value() -> None:
    assert probe_ddl() == ("CREATE TABLE migrate_probe (id INT NOT NULL PRIMARY KEY, "
                           "sent_us BIGINT NOT NULL)")


def test_each_probe_lags_until_its_value_is_first_seen() -> None:
    sent = [Sent(100, 10.0), Sent(200, 10.1), Sent(300, 10.2)]
    seen = [Seen(9.0, 50), Seen(10.25, 100), Seen(10.5, 200), Seen(10.6, 300)]
    found = probe_lags(sent, seen)
    assert found.lags == pytest.approx((0.25, 0.4, 0.4))
    assert found.unseen == 0


def test_a_value_overwritten_between_two_polls_counts_when_a_later_one_is_seen() -> None:
    # Applied in commit order: the target showing 300 means 200 was applied as well.
    sent = [Sent(100, 10.0), Sent(200, 10.1), Sent(300, 10.2)]
    seen = [Seen(10.3, 100), Seen(11.0, 300)]
    assert probe_lags(sent, seen).lags == pytest.approx((0.3, 0.9, 0.8))


def test_probes_the_target_never_showed_are_unseen() -> None:
    sent = [Sent(100, 10.0), Sent(200, 10.1), Sent(300, 10.2)]
    found = probe_lags(sent, [Seen(10.5, 100)])
    assert found.lags == pytest.approx((0.5,))
    assert found.unseen == 2


def test_an_observation_from_before_a_probe_was_sent_is_not_its_arrival() -> None:
    assert probe_lags([Sent(100, 10.0)], [Seen(9.9, 100), Seen(10.2, 100)]).lags == \
        pytest.approx((0.2,))


def test_nothing_sent_gives_no_lags() -> None:
    assert probe_lags([], [Seen(1.0, 5)]) == ProbeLags((), 0)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]  # 1 .. 100
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([7.0], 0.99) == 7.0


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5])
def test_a_percentile_needs_a_fraction_in_range(fraction: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        percentile([1.0], fraction)


def test_a_percentile_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_lag_stats_summarise_the_probes() -> None:
    lags = tuple(float(n) / 100 for n in range(100, 0, -1))  # 1.00 .. 0.01 s
    stats = LagStats.of(ProbeLags(lags, 2))
    assert (stats.sent, stats.seen) == (102, 100)
    assert stats.p50_s == pytest.approx(0.50)
    assert stats.p99_s == pytest.approx(0.99)
    assert stats.max_s == pytest.approx(1.00)
    assert stats.last_s == pytest.approx(0.01)
    assert stats.to_dict()["p99_s"] == 0.99


def test_lag_stats_of_no_probe_seen() -> None:
    assert LagStats.of(ProbeLags((), 3)) == LagStats(3, 0, None, None, None, None)


def test_stage_backlogs_count_by_sequence_in_the_domain() -> None:
    sample = stage_backlogs(0, "0-1001-500,1-7-3", GtidPosition.parse("0-1001-480"),
                            "0-1001-400")
    assert sample == Sample(capture_behind=20, migrate_behind=80)


def test_stage_backlogs_never_go_negative_and_say_what_is_unknown() -> None:
    # The positions are read one after the other: a later read can be ahead.
    assert stage_backlogs(0, "0-1001-500", GtidPosition.parse("0-1001-510"),
                          "0-1001-512") == Sample(0, 0)
    assert stage_backlogs(0, "0-1001-500", None, "0-1001-400") == Sample(None, None)
    assert stage_backlogs(0, "0-1001-500", GtidPosition.parse("0-1001-480"),
                          None) == Sample(20, None)
    assert stage_backlogs(0, "0-1001-500", GtidPosition.parse("0-1001-480"),
                          "1-1001-9") == Sample(20, None)


def test_backlogs_keep_the_largest_and_the_last() -> None:
    found = Backlogs.of([Sample(3, 10), Sample(None, 40), Sample(1, None), Sample(0, 25)])
    assert found == Backlogs(samples=4, capture_max=3, capture_end=0, migrate_max=40,
                             migrate_end=25)
    assert Backlogs.of([]) == Backlogs(0, None, None, None, None)


def test_capture_s_position_comes_from_its_health_answer() -> None:
    body = b'{"status": "ok", "seconds_since_last_commit": 0.1, "gtid_position": "0-1001-42"}'
    assert health_position(body) == GtidPosition.parse("0-1001-42")
    assert health_position(b'{"status": "stalled", "gtid_position": ""}') is None
