"""The RTO drill's result: the time of each phase of each way of restoring the same data, the
RTO each gives, the phase that dominates it, and the verdict on the copy. Pure.

The RTO is what an operator waits for until the copy can take traffic: the whole restore
process (start-up, planning, load, indexes, replay), the proof that follows it not included;
the proof is reported beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from bench.harness.machine import MachineFacts
from bench.harness.stats import median

RTO_PHASES = ("start-up and planning", "load", "indexes", "replay")
PROOF_PHASE = "verify"


@dataclass(frozen=True)
class PhaseTime:
    name: str
    seconds: float
    units: int = 0  # rows loaded, row changes replayed or rows compared; 0 when not told


@dataclass(frozen=True)
class DrillRun:
    """One way of restoring, once: its phases as measured, and the verdict on its copy."""

    phases: tuple[PhaseTime, ...]
    verdict: str  # "identical", "different" or "failed"
    detail: str = ""

    def seconds(self, name: str) -> float:
        return sum(p.seconds for p in self.phases if p.name == name)

    @property
    def rto_s(self) -> float:
        return sum(self.seconds(name) for name in RTO_PHASES)


@dataclass(frozen=True)
class DrillSide:
    label: str
    engine: str  # "postgresql" or "mariadb": the target
    runs: tuple[DrillRun, ...]
    problem: str | None = None  # why it did not run (or stopped)

    @property
    def failed(self) -> bool:
        return self.problem is not None or any(r.verdict != "identical" for r in self.runs)

    @property
    def rto_s(self) -> float | None:
        return median([r.rto_s for r in self.runs]) if self.runs else None

    def phase_s(self, name: str) -> float | None:
        """The median over the runs; None when no run had the phase."""
        found = [r.seconds(name) for r in self.runs if any(p.name == name for p in r.phases)]
        return median(found) if found else None

    @property
    def dominant(self) -> str | None:
        """The phase of the RTO that took longest (at the medians)."""
        timed = [(seconds, name) for name in RTO_PHASES
                 if (seconds := self.phase_s(name)) is not None]
        return max(timed)[1] if timed else None


@dataclass(frozen=True)
class DrillData:
    database: str
    rows: int
    transactions: int
    row_changes: int
    row_changes_by_kind: dict[str, int]
    snapshot_id: str
    snapshot_bytes: int
    dump_bytes: int
    made_at: str
    made_in_s: dict[str, float]  # each step of making the data, when it was made
    reused: bool


@dataclass(frozen=True)
class RtoResult:
    command: str
    date: str
    machine: MachineFacts
    postgres: str
    data: DrillData
    sides: tuple[DrillSide, ...]
    target_engine: str
    target_s: float
    notes: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> bool:
        return any(side.failed for side in self.sides)

    def side(self, label: str) -> DrillSide | None:
        return next((s for s in self.sides if s.label == label), None)

    def target_met(self) -> bool | None:
        """Whether our restore into the target engine came in under the target RTO."""
        ours = next((s for s in self.sides if s.engine == self.target_engine
                     and s.label.startswith("replayer")), None)
        if ours is None or ours.rto_s is None:
            return None
        return ours.rto_s < self.target_s

    def to_dict(self) -> dict[str, object]:
        return {
            "command": self.command, "date": self.date, "machine": self.machine.to_dict(),
            "postgres": self.postgres, "data": asdict(self.data),
            "target": {"engine": self.target_engine, "rto_seconds": self.target_s,
                       "met": self.target_met()},
            "sides": [{
                "label": s.label, "engine": s.engine, "problem": s.problem,
                "failed": s.failed, "rto_seconds": s.rto_s, "dominant_phase": s.dominant,
                "median_seconds": {name: s.phase_s(name)
                                   for name in (*RTO_PHASES, PROOF_PHASE)},
                "runs": [{"verdict": r.verdict, "detail": r.detail, "rto_seconds": r.rto_s,
                          "phases": [asdict(p) for p in r.phases]} for r in s.runs],
            } for s in self.sides],
            "notes": list(self.notes),
        }
