"""One restore drill's outcome, as kept in the drills topic: what was restored, how long each
phase took, and whether the copy proved identical."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

DRILL_FORMAT = 1


@dataclass(frozen=True)
class PhaseTiming:
    """One phase of a drill: ``load`` (the snapshot's rows), ``indexes`` (the loaded tables'
    keys, indexes and foreign keys), ``replay`` (the changelog from the anchor to the point) or
    ``verify``; ``units`` are rows loaded (for both load phases), row changes replayed or rows
    compared."""

    name: str
    seconds: float
    units: int

    @property
    def rate(self) -> float | None:
        """Units per second, None when the phase took no measurable time or did no work."""
        if self.seconds <= 0 or self.units <= 0:
            return None
        return self.units / self.seconds


@dataclass(frozen=True)
class DrillRecord:
    drill_id: str
    source: str
    started_at: str
    engine: str
    point: str
    snapshot_id: str | None
    gtid_position: str
    verdict: str  # "identical", "different" or "failed"
    rto_seconds: float
    phases: tuple[PhaseTiming, ...] = ()
    rows: int = 0
    detail: str = ""
    scratch: str = ""
    format_version: int = field(default=DRILL_FORMAT)

    @property
    def passed(self) -> bool:
        return self.verdict == "identical"

    def phase(self, name: str) -> PhaseTiming | None:
        return next((p for p in self.phases if p.name == name), None)

    def whole_load(self) -> PhaseTiming | None:
        """The load with its indexes, as one phase (drills recorded before the two were told
        apart have the load alone, which included its indexes)."""
        load, indexes = self.phase("load"), self.phase("indexes")
        if load is None or indexes is None:
            return load
        return PhaseTiming("load", load.seconds + indexes.seconds, load.units)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, payload: bytes) -> DrillRecord:
        data: dict[str, Any] = json.loads(payload)
        phases = tuple(PhaseTiming(str(p["name"]), float(p["seconds"]), int(p["units"]))
                       for p in data.pop("phases", ()))
        known = set(cls.__dataclass_fields__)
        return cls(phases=phases, **{k: v for k, v in data.items() if k in known})
