"""``cdc plan --from-metrics``: the inputs the running system can tell.

- the snapshot catalog: the newest snapshot's rows and stored bytes, and the median time the
  recent ones took (manifest ``created_at`` to ``finished_at``);
- the changelog: row changes and bytes per second over its most recent records (their
  envelopes only, by source commit time; heartbeats count as time, not as changes);
- past restore drills (``read_drills`` of the drill history, ``cdc.drill_history``): the
  median load, replay and verify rates of the recent drills that proved their copy identical.

Each source is read on its own; one that cannot be read leaves its inputs to the options or
the defaults and says why in ``warnings``. The ``*_figures`` functions are pure.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cdc.changes import Operation
from cdc.config.models import CaptureConfig
from cdc.errors import CdcError

RECENT_SNAPSHOTS = 5
RECENT_DRILLS = 5
CHANGELOG_SAMPLE = 50_000
"""Changelog offsets read back from the end."""
MIN_SAMPLE_SPAN_S = 60.0
_ROW_CHANGES = frozenset({Operation.INSERT, Operation.UPDATE, Operation.DELETE})


class Snapshot(Protocol):
    """What the plan reads of a snapshot's manifest (``Manifest``)."""

    @property
    def snapshot_id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def finished_at(self) -> datetime: ...

    @property
    def total_rows(self) -> int: ...

    @property
    def total_bytes(self) -> int: ...


class Phase(Protocol):
    @property
    def rate(self) -> float | None: ...


class Drill(Protocol):
    """What the plan reads of a drill record (``DrillRecord``)."""

    @property
    def started_at(self) -> str: ...

    @property
    def passed(self) -> bool: ...

    def phase(self, name: str) -> Phase | None: ...

    def whole_load(self) -> Phase | None: ...


@dataclass
class Measured:
    values: dict[str, float] = field(default_factory=dict)
    """Input name (a PlanInputs field) -> value."""
    notes: dict[str, str] = field(default_factory=dict)
    """Input name -> where the value came from."""
    warnings: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, note: str) -> None:
        self.values[name] = value
        self.notes[name] = note


@dataclass(frozen=True)
class ChangeSample:
    """One changelog record as the change rate needs it."""

    commit_time_us: int
    row_change: bool
    size: int


def snapshot_figures(manifests: Sequence[Snapshot], into: Measured) -> None:
    """Size from the newest snapshot, duration as the median of the recent ones."""
    if not manifests:
        into.warnings.append("no snapshot in the store yet: the snapshot's size and duration "
                             "are not measured")
        return
    newest = manifests[-1]
    into.add("snapshot_rows", newest.total_rows, f"snapshot {newest.snapshot_id}")
    into.add("snapshot_bytes", newest.total_bytes, f"snapshot {newest.snapshot_id}")
    recent = manifests[-RECENT_SNAPSHOTS:]
    durations = [(m.finished_at - m.created_at).total_seconds() for m in recent]
    into.add("snapshot_duration", statistics.median(durations),
             f"median of the last {len(recent)} snapshot(s)")


def change_figures(samples: Sequence[ChangeSample], into: Measured) -> None:
    """Row changes and bytes per second over the commit times the sample spans."""
    if len(samples) < 2:
        into.warnings.append("the changelog has fewer than 2 records: the change rate is not "
                             "measured")
        return
    times = [s.commit_time_us for s in samples]
    span = (max(times) - min(times)) / 1e6
    if span < MIN_SAMPLE_SPAN_S:
        into.warnings.append(
            f"the last {len(samples):,} changelog records span only {span:.0f} s of commits: "
            "the change rate is not measured")
        return
    note = f"the last {len(samples):,} changelog records, {span / 3600:.1f} h of commits"
    into.add("change_rate", sum(s.row_change for s in samples) / span, note)
    into.add("change_bytes_rate", sum(s.size for s in samples) / span, note)


def drill_figures(drills: Sequence[Drill], into: Measured) -> None:
    """The median rate of each phase over the recent drills that passed; a load's rate is
    of the whole load, keys and indexes included."""
    passed = sorted((d for d in drills if d.passed), key=lambda d: d.started_at)
    if not passed:
        into.warnings.append("no restore drill has passed yet: load, replay and verify rates "
                             "are not measured ('replayer drill' records them)")
        return
    for phase, name in (("load", "load_rate"), ("replay", "replay_rate"),
                        ("verify", "verify_rate")):
        rates = [rate for d in passed[-RECENT_DRILLS * 4:]
                 if (timing := d.whole_load() if phase == "load" else d.phase(phase)) is not None
                 and (rate := timing.rate) is not None]
        rates = rates[-RECENT_DRILLS:]
        if rates:
            into.add(name, statistics.median(rates),
                     f"median of the last {len(rates)} passed drill(s)")


def measure(config: CaptureConfig) -> Measured:
    """Everything the running system can tell, each source on its own."""
    found = Measured()
    for what, read in (("the snapshot catalog", _read_snapshots),
                       ("the changelog", _read_changes), ("the drill history", _read_drills)):
        try:
            read(config, found)
        except CdcError as exc:
            found.warnings.append(f"{what} could not be read ({exc.message}); its inputs are "
                                  "given or default")
    return found


def _read_snapshots(config: CaptureConfig, into: Measured) -> None:
    from cdc.snapshot.catalog import configured_store, read_catalog_if_any  # noqa: PLC0415

    snapshot_figures(read_catalog_if_any(configured_store(config)).manifests, into)


def _read_changes(config: CaptureConfig, into: Measured) -> None:
    from cdc.avro.codec import decode_envelope_only  # noqa: PLC0415
    from cdc.kafka.reader import read_committed, watermarks  # noqa: PLC0415

    bootstrap, topic = config.kafka.bootstrap_servers, config.changelog_topic
    low, high = watermarks(bootstrap, topic)
    samples = []
    for stored in read_committed(bootstrap, topic, max(low, high - CHANGELOG_SAMPLE)):
        record = decode_envelope_only(stored.value)
        samples.append(ChangeSample(record.commit_time_us, record.operation in _ROW_CHANGES,
                                    len(stored.value) + len(stored.key or b"")))
    change_figures(samples, into)


def _read_drills(config: CaptureConfig, into: Measured) -> None:
    from cdc.drill_history import read_drills  # noqa: PLC0415

    drill_figures(read_drills(config), into)
