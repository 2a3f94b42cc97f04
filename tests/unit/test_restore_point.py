"""Parsing restore points: every accepted form, and every refusal naming the text and the forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import replayer.restore_point
from cdc.errors import ConfigError
from cdc.position import Gtid
from replayer.errors import RestorePointError
from replayer.restore_point import (
    GtidPoint,
    LatestPoint,
    NamedPoint,
    OffsetPoint,
    TimePoint,
    parse_restore_point,
)


def test_latest() -> None:
    assert parse_restore_point("latest") == LatestPoint()
    assert parse_restore_point("  latest\n") == LatestPoint()


@pytest.mark.parametrize("text", ["time:2026-11-24T10:41:07Z", "time:2026-11-24T10:41:07z",
                                  "time:2026-11-24T10:41:07+00:00",
                                  "time:2026-11-24 10:41:07-00:00",
                                  "time:2026-11-24T11:41:07+01:00",
                                  "time:2026-11-24T05:11:07-05:30"])
def test_times_with_an_offset_become_the_same_utc_instant(text: str) -> None:
    point = parse_restore_point(text)
    assert point == TimePoint(datetime(2026, 11, 24, 10, 41, 7, tzinfo=UTC))
    assert isinstance(point, TimePoint)
    assert point.epoch_us == 1_795_516_867_000_000


def test_fractional_seconds_are_kept_to_the_microsecond_and_finer_ones_cut_off() -> None:
    point = parse_restore_point("time:2026-11-24T10:41:07.25Z")
    assert isinstance(point, TimePoint)
    assert point.at.microsecond == 250_000
    assert point.epoch_us == 1_795_516_867_250_000
    finer = parse_restore_point("time:2026-11-24T10:41:07.123456789Z")
    assert isinstance(finer, TimePoint)
    assert finer.epoch_us == 1_795_516_867_123_456


@pytest.mark.parametrize("value", ["2026-11-24T10:41:07", "2026-11-24T10:41:07.5"])
def test_a_time_without_an_offset_is_refused_saying_how_to_add_one(value: str) -> None:
    with pytest.raises(RestorePointError) as caught:
        parse_restore_point(f"time:{value}")
    assert f"time:{value}" in caught.value.message
    assert "offset" in caught.value.message
    assert "Z" in caught.value.hint
    assert "+HH:MM" in caught.value.hint
    assert f"time:{value}Z" in caught.value.hint


@pytest.mark.parametrize("value", ["2026-02-30T10:00:00Z", "2026-11-24T24:00:00Z",
                                   "2026-11-24T10:41:60Z", "2026-11-24T10:41Z", "yesterday",
                                   "2026-11-24T10:41:07+0100", "2026-11-24T10:41:07+24:00",
                                   "2026-11-24", "1795516867", ""])
def test_malformed_times_are_refused(value: str) -> None:
    with pytest.raises(RestorePointError) as caught:
        parse_restore_point(f"time:{value}")
    assert repr(f"time:{value}") in caught.value.message


def test_gtid() -> None:
    assert parse_restore_point("gtid:0-1001-42") == GtidPoint(Gtid(0, 1001, 42))


@pytest.mark.parametrize("value", ["0-1001", "a-b-c", "0-1-2-3", "0-1-2,1-1-3", ""])
def test_malformed_gtids_are_refused(value: str) -> None:
    with pytest.raises(RestorePointError) as caught:
        parse_restore_point(f"gtid:{value}")
    assert "domain-server-sequence" in caught.value.message
    assert "gtid:0-1001-42" in caught.value.hint


def test_offset() -> None:
    assert parse_restore_point("offset:0") == OffsetPoint(0)
    assert parse_restore_point("offset:1234567") == OffsetPoint(1_234_567)


@pytest.mark.parametrize("value", ["-1", "+5", "1.5", "1_000", " 5", "0x10", "ten", ""])
def test_offsets_that_are_not_non_negative_whole_numbers_are_refused(value: str) -> None:
    with pytest.raises(RestorePointError) as caught:
        parse_restore_point(f"offset:{value}")
    assert "non-negative whole number" in caught.value.message


def test_name() -> None:
    assert parse_restore_point("name:before-deploy_v2.1") == NamedPoint("before-deploy_v2.1")
    assert parse_restore_point("name:" + "a" * 128) == NamedPoint("a" * 128)


@pytest.mark.parametrize("value", ["", "a b", "x/y", "é", "a:b", "a" * 129])
def test_bad_mark_labels_are_refused(value: str) -> None:
    with pytest.raises(RestorePointError) as caught:
        parse_restore_point(f"name:{value}")
    assert "letters, digits" in caught.value.message


@pytest.mark.parametrize("text", ["", "Latest", "now", "foo:bar", "TIME:2026-11-24T10:41:07Z",
                                  "0-1-42", "lsn:5"])
def test_unknown_forms_are_refused_listing_the_accepted_ones(text: str) -> None:
    with pytest.raises(RestorePointError) as caught:
        parse_restore_point(text)
    assert repr(text) in caught.value.message
    for form in ("latest", "time:", "gtid:", "offset:", "name:"):
        assert form in caught.value.hint


def test_errors_are_configuration_errors_with_exit_status_2() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_restore_point("nonsense")
    assert caught.value.exit_status == 2


def test_the_module_says_time_points_are_exact_only_to_the_second_on_mariadb() -> None:
    doc = replayer.restore_point.__doc__ or ""
    assert "whole seconds" in doc
    assert "GTIDs and named marks are exact" in doc


_INSTANTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1),
                         timezones=st.just(UTC))


@given(st.one_of(
    st.just(LatestPoint()),
    _INSTANTS.map(TimePoint),
    st.builds(Gtid, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
              st.integers(0, 2**64 - 1)).map(GtidPoint),
    st.integers(0, 2**63 - 1).map(OffsetPoint),
    st.from_regex(r"[A-Za-z0-9._-]{1,128}", fullmatch=True).map(NamedPoint)))
def test_every_point_prints_as_text_that_parses_back_to_it(
        point: LatestPoint | TimePoint | GtidPoint | OffsetPoint | NamedPoint) -> None:
    assert parse_restore_point(str(point)) == point


@given(_INSTANTS, st.integers(-23 * 60 - 59, 23 * 60 + 59))
def test_epoch_microseconds_are_exact_in_any_zone(at: datetime, minutes: int) -> None:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    local = (at + timedelta(minutes=minutes)).replace(tzinfo=None)
    point = parse_restore_point(f"time:{local.isoformat(timespec='microseconds')}"
                                f"{sign}{hours:02}:{rest:02}")
    assert isinstance(point, TimePoint)
    assert point.at == at
    assert point.epoch_us == (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
