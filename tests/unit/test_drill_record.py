"""A drill record's phases: the load and its indexes told apart, and read back as one load
where a rate of the whole load is wanted."""

from __future__ import annotations

from cdc.drill_record import DrillRecord, PhaseTiming
from cdc.plan.measure import Measured, drill_figures


def record(*phases: PhaseTiming, started_at: str = "2026-12-03T06:00:00+00:00") -> DrillRecord:
    return DrillRecord(drill_id="d", source="s", started_at=started_at, engine="postgresql",
                       point="latest", snapshot_id="snap", gtid_position="0-1-9",
                       verdict="identical", rto_seconds=0.0, phases=phases)


def test_the_whole_load_is_the_rows_and_their_indexes() -> None:
    drill = record(PhaseTiming("load", 6.0, 600), PhaseTiming("indexes", 4.0, 600),
                   PhaseTiming("replay", 2.0, 50))
    assert drill.whole_load() == PhaseTiming("load", 10.0, 600)
    assert drill.phase("load") == PhaseTiming("load", 6.0, 600)


def test_a_drill_recorded_before_indexes_were_timed_apart_has_its_load_as_it_was() -> None:
    drill = record(PhaseTiming("load", 6.0, 600), PhaseTiming("replay", 2.0, 50))
    assert drill.whole_load() == PhaseTiming("load", 6.0, 600)
    assert record().whole_load() is None


def test_the_indexes_phase_is_kept_in_the_drills_topic() -> None:
    drill = record(PhaseTiming("load", 6.0, 600), PhaseTiming("indexes", 4.0, 600))
    assert DrillRecord.from_json(drill.to_json()) == drill


def test_the_planned_load_rate_counts_the_time_spent_on_indexes() -> None:
    found = Measured()
    drill_figures([record(PhaseTiming("load", 6.0, 600), PhaseTiming("indexes", 4.0, 600))],
                  found)
    assert found.values["load_rate"] == 60.0  # 600 rows in 10 s, not in 6
