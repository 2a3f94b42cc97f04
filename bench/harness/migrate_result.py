"""The value the migration benchmark produces: for each target, the sync-mode lag at each
workload rate and the async-mode throughput on a backlog; and the issue's target. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.harness.machine import MachineFacts
from bench.harness.pipeline_sampler import Backlogs
from bench.harness.probe_lag import LagStats
from bench.harness.workload_process import WorkloadRun

LAG_TARGET_RATE = 1000.0  # transactions/s the lag target is stated at
LAG_TARGET_P99_S = 2.0
RATE_TOLERANCE = 0.98  # a paced run that reached 98% of its rate counts as at that rate


@dataclass(frozen=True)
class SyncLag:
    """One workload rate in sync mode: the workload's own summary and the probes' lags."""

    requested_rate: float  # 0: as fast as the workload can
    workload: WorkloadRun
    probe_interval_s: float
    window_s: float  # how long probes were sent
    stats: LagStats
    drain_s: float | None  # from the workload's end until the target had all of it
    backlogs: Backlogs | None = None  # where the lag sat: capture or the migrate
    idle: bool = False  # probes only, no workload: the pipeline's own latency

    @property
    def rate_label(self) -> str:
        if self.idle:
            return "idle"
        return f"{self.requested_rate:,.0f} tx/s" if self.requested_rate else "max"

    @property
    def probe_rate(self) -> float:
        return 1 / self.probe_interval_s

    def to_dict(self) -> dict[str, object]:
        return {"idle": self.idle, "requested_rate": self.requested_rate,
                "workload": self.workload.to_dict(),
                "probe_rate": round(self.probe_rate, 1), "window_s": round(self.window_s, 2),
                "lag": self.stats.to_dict(),
                "drain_s": None if self.drain_s is None else round(self.drain_s, 3),
                "backlogs_transactions": self.backlogs.to_dict() if self.backlogs else None}


@dataclass(frozen=True)
class AsyncThroughput:
    """A backlog written with the migrate stopped, then applied by ``migrate --mode async``.

    ``total_s`` runs from the process start until the target's applied GTID is the
    backlog's last; ``following_s`` from when its log said it follows the changelog."""

    workload: WorkloadRun
    row_changes: int  # what the migrate said it applied
    expected_row_changes: int  # the workload's, in the tables migrated
    total_s: float
    following_s: float
    lag_transactions_after: int | None  # replayer status once caught up
    status_s: float | None = None  # how long that replayer status --config took
    changelog_records: int | None = None  # the changelog's size then (its next offset)

    @property
    def rate(self) -> float:
        return self.row_changes / self.total_s if self.total_s > 0 else 0.0

    @property
    def following_rate(self) -> float:
        return self.row_changes / self.following_s if self.following_s > 0 else 0.0

    @property
    def counts_agree(self) -> bool:
        return self.row_changes == self.expected_row_changes

    def to_dict(self) -> dict[str, object]:
        return {"workload": self.workload.to_dict(), "row_changes": self.row_changes,
                "expected_row_changes": self.expected_row_changes,
                "total_s": round(self.total_s, 3), "following_s": round(self.following_s, 3),
                "row_changes_per_s": round(self.rate, 1),
                "row_changes_per_s_following": round(self.following_rate, 1),
                "lag_transactions_after": self.lag_transactions_after,
                "status_s": None if self.status_s is None else round(self.status_s, 3),
                "changelog_records": self.changelog_records}


@dataclass(frozen=True)
class TargetResult:
    kind: str  # "mariadb" or "postgresql"
    description: str
    version: str
    tables: str  # what --tables the migrate ran with ("*": all)
    snapshot_rows: int = 0
    initial_catch_up_s: float | None = None  # migrate start until the first probe was seen
    sync: tuple[SyncLag, ...] = ()
    async_run: AsyncThroughput | None = None
    problem: str | None = None  # why the run stopped early
    migrate_log_problems: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return {"mariadb": "MariaDB", "postgresql": "PostgreSQL"}.get(self.kind, self.kind)

    def target_met(self) -> tuple[bool | None, str]:
        """The issue's target (sync p99 under 2 s at 1,000 tx/s): met, missed, or untested
        (None) with why."""
        run = next((s for s in self.sync
                    if not s.idle and s.requested_rate == LAG_TARGET_RATE), None)
        if run is None:
            return None, "not measured"
        p99 = run.stats.p99_s
        if p99 is None:
            return False, "no probe reached the target"
        said = f"p99 {p99:.3f} s at {run.workload.achieved_rate:,.0f} tx/s"
        if run.stats.seen < run.stats.sent:
            return False, f"{said}; {run.stats.sent - run.stats.seen} probe(s) never arrived"
        if run.workload.achieved_rate < RATE_TOLERANCE * LAG_TARGET_RATE:
            return None, f"{said}: the workload did not reach {LAG_TARGET_RATE:,.0f} tx/s"
        return p99 < LAG_TARGET_P99_S, said

    def to_dict(self) -> dict[str, object]:
        met, said = self.target_met()
        return {"target": self.kind, "description": self.description, "version": self.version,
                "tables": self.tables, "snapshot_rows": self.snapshot_rows,
                "initial_catch_up_s": None if self.initial_catch_up_s is None
                else round(self.initial_catch_up_s, 2),
                "sync": [run.to_dict() for run in self.sync],
                "async": self.async_run.to_dict() if self.async_run else None,
                "lag_target": {"met": met, "detail": said},
                "problem": self.problem,
                "migrate_log_problems": list(self.migrate_log_problems)}


@dataclass(frozen=True)
class Settings:
    seconds: float
    settle_s: float
    probe_interval_s: float
    poll_s: float
    backlog: int
    kafka_commit_interval_ms: int | None
    idle_seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {"seconds_per_rate": self.seconds, "idle_seconds": self.idle_seconds,
                "settle_s": self.settle_s,
                "probe_interval_s": self.probe_interval_s, "poll_s": self.poll_s,
                "backlog_row_changes": self.backlog,
                "kafka_commit_interval_ms": self.kafka_commit_interval_ms}


@dataclass(frozen=True)
class MigrateBenchResult:
    command: str
    date: str
    machine: MachineFacts
    settings: Settings
    targets: tuple[TargetResult, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> bool:
        return any(t.problem is not None or (t.async_run is not None
                                             and not t.async_run.counts_agree)
                   for t in self.targets)

    def to_dict(self) -> dict[str, object]:
        return {"benchmark": "migrate_lag", "command": self.command, "date": self.date,
                "machine": self.machine.to_dict(), "settings": self.settings.to_dict(),
                "targets": [target.to_dict() for target in self.targets],
                "notes": list(self.notes)}
