"""Is the backup healthy? Measured facts against the configured thresholds, as Nagios
plugins report it (OK, WARNING, CRITICAL, UNKNOWN; exit status 0-3 and performance data).
Pure: ``cdc.health_inputs`` measures the facts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum

from cdc.config.models import MonitoringSettings, parse_duration


class Status(IntEnum):
    """Nagios plugin states; the exit status is the value."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def severity(self) -> int:
        """Order for the overall state: CRITICAL, then WARNING, then UNKNOWN, then OK."""
        return {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}[self]


@dataclass(frozen=True)
class LastDrill:
    verdict: str
    age_s: float
    drill_id: str


@dataclass(frozen=True)
class HealthFacts:
    """What was measured; None where it could not be (``unknown`` says why, by fact)."""

    rpo_s: float | None = None
    transactions_behind: int | None = None
    newest_snapshot_age_s: float | None = None
    last_drill: LastDrill | None = None
    binlog_retention_left_s: float | None = None
    """None: the source keeps its binlogs until told otherwise."""
    binlog_purged: str | None = None
    """Why the binlog capture needs from its position on is gone, when it is."""
    changelog_started: bool = True
    unknown: tuple[tuple[str, str], ...] = ()

    def unknown_reason(self, fact: str) -> str | None:
        return next((why for name, why in self.unknown if name == fact), None)


@dataclass(frozen=True)
class Finding:
    fact: str
    status: Status
    text: str
    value: float | None = None
    unit: str = ""
    warning: float | None = None
    critical: float | None = None
    lower_is_worse: bool = False

    @property
    def perfdata(self) -> str | None:
        if self.value is None:
            return None
        # Nagios ranges: "N" alerts above N, "N:" alerts below it.
        suffix = ":" if self.lower_is_worse else ""
        limits = ";".join("" if limit is None else f"{_number(limit)}{suffix}"
                          for limit in (self.warning, self.critical))
        return f"{self.fact}={_number(self.value)}{self.unit};{limits};0"


def _number(value: float) -> str:
    """Plain decimal notation: perfdata parsers do not all read 1.3e+06."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class HealthReport:
    findings: tuple[Finding, ...]

    @property
    def status(self) -> Status:
        return max((f.status for f in self.findings), key=lambda s: s.severity,
                   default=Status.OK)

    def nagios(self) -> str:
        """One line: state, the findings that are not OK (or all when all are), then the
        performance data after '|'."""
        status = self.status
        shown = [f for f in self.findings if f.status is not Status.OK] or list(self.findings)
        shown.sort(key=lambda f: -f.status.severity)
        text = "; ".join(f"{f.fact}: {f.text}" for f in shown)
        perf = " ".join(p for p in (f.perfdata for f in self.findings) if p is not None)
        return f"CDC {status.name} - {text}" + (f" | {perf}" if perf else "")

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status.name, "exit_status": int(self.status),
                "findings": [{"fact": f.fact, "status": f.status.name, "text": f.text,
                              "value": f.value, "unit": f.unit, "warning": f.warning,
                              "critical": f.critical} for f in self.findings]}


def unknown_output(message: str, hint: str, *, as_json: bool) -> str:
    """What a check prints when it cannot judge at all (exit status 3)."""
    if as_json:
        return json.dumps({"status": "UNKNOWN", "exit_status": int(Status.UNKNOWN),
                           "error": message, "hint": hint})
    return f"CDC UNKNOWN - {message}" + (f" ({hint})" if hint else "")


def evaluate(facts: HealthFacts, limits: MonitoringSettings) -> HealthReport:
    return HealthReport((
        _rpo(facts, limits),
        _behind(facts, limits),
        _snapshot_age(facts, limits),
        _drill(facts, limits),
        _binlog(facts, limits),
    ))


def graded(fact: str, value: float, warning: float, critical: float, *, unit: str,
            text: str) -> Finding:
    """``value`` against thresholds where more is worse; a threshold of 0 is off."""
    status = Status.OK
    if critical and value >= critical:
        status = Status.CRITICAL
    elif warning and value >= warning:
        status = Status.WARNING
    return Finding(fact, status, text, round(value, 3), unit, warning or None, critical or None)


def _unknown(fact: str, facts: HealthFacts, default: str) -> Finding:
    return Finding(fact, Status.UNKNOWN, facts.unknown_reason(fact) or default)


def _rpo(facts: HealthFacts, limits: MonitoringSettings) -> Finding:
    if not facts.changelog_started:
        return Finding("rpo", Status.CRITICAL, "nothing is backed up: capture has not "
                       "committed its first start; start 'cdc capture'")
    if facts.rpo_s is None:
        return _unknown("rpo", facts, "the source or the changelog could not be read")
    return graded("rpo", facts.rpo_s, parse_duration(limits.rpo_warning),
                   parse_duration(limits.rpo_critical), unit="s",
                   text=f"{_duration_text(facts.rpo_s)} of committed transactions not captured yet"
                   if facts.rpo_s else "capture has every committed transaction")


def _behind(facts: HealthFacts, limits: MonitoringSettings) -> Finding:
    if facts.transactions_behind is None:
        return _unknown("behind", facts, "the source or the changelog could not be read")
    return graded("behind", facts.transactions_behind, limits.behind_warning,
                   limits.behind_critical, unit="",
                   text=f"{facts.transactions_behind} source transaction(s) not captured yet")


def _snapshot_age(facts: HealthFacts, limits: MonitoringSettings) -> Finding:
    if facts.newest_snapshot_age_s is None:
        reason = facts.unknown_reason("snapshot_age")
        if reason is not None:
            return Finding("snapshot_age", Status.UNKNOWN, reason)
        return Finding("snapshot_age", Status.CRITICAL, "no usable snapshot: nothing can be "
                       "restored; take one with 'cdc snapshot'")
    return graded("snapshot_age", facts.newest_snapshot_age_s,
                   parse_duration(limits.snapshot_age_warning),
                   parse_duration(limits.snapshot_age_critical), unit="s",
                   text="newest usable snapshot taken "
                        f"{_duration_text(facts.newest_snapshot_age_s)} ago")


def _drill(facts: HealthFacts, limits: MonitoringSettings) -> Finding:
    drill = facts.last_drill
    warning, critical = (parse_duration(limits.drill_age_warning),
                         parse_duration(limits.drill_age_critical))
    if drill is None:
        reason = facts.unknown_reason("drill_age")
        if reason is not None:
            return Finding("drill_age", Status.UNKNOWN, reason)
        status = Status.WARNING if warning or critical else Status.OK
        return Finding("drill_age", status, "no restore drill recorded yet; run "
                       "'replayer drill'")
    by_age = graded("drill_age", drill.age_s, warning, critical, unit="s",
                     text=f"last drill {drill.drill_id} {drill.verdict}, "
                     f"{_duration_text(drill.age_s)} ago")
    if drill.verdict != "identical":
        return Finding("drill_age", Status.CRITICAL,
                       f"last drill {drill.drill_id} {drill.verdict}: a restore does not "
                       "work today; 'replayer drill --history' shows why", by_age.value,
                       by_age.unit, by_age.warning, by_age.critical)
    return by_age


def _binlog(facts: HealthFacts, limits: MonitoringSettings) -> Finding:
    if facts.binlog_purged is not None:
        return Finding("binlog_retention", Status.CRITICAL, facts.binlog_purged, 0.0, "s")
    if facts.binlog_retention_left_s is None:
        reason = facts.unknown_reason("binlog_retention")
        if reason is not None:
            return Finding("binlog_retention", Status.UNKNOWN, reason)
        return Finding("binlog_retention", Status.OK, "the source purges no binlog by age")
    left = max(0.0, facts.binlog_retention_left_s)
    warning = parse_duration(limits.binlog_retention_warning)
    critical = parse_duration(limits.binlog_retention_critical)
    status = Status.OK
    if critical and left <= critical:
        status = Status.CRITICAL
    elif warning and left <= warning:
        status = Status.WARNING
    return Finding("binlog_retention", status,
                   f"at least {_duration_text(left)} before the source may purge binlog "
                   "capture still needs", round(left, 3), "s", warning or None, critical or None,
                   lower_is_worse=True)


def _duration_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@dataclass(frozen=True)
class TargetLag:
    source: str
    lag_s: float | None
    """Since the source committed the last transaction applied; None: nothing applied."""
    transactions_behind: int | None = None
    """Changelog transactions not applied yet, when known; 0 means caught up."""


def target_report(lags: list[TargetLag], warning_s: float, critical_s: float) -> HealthReport:
    """A restored or migrating target's lag behind the changelog, source by source."""
    if not lags:
        return HealthReport((Finding("target", Status.UNKNOWN,
                                     "nothing restored or migrated into this target yet"),))
    findings = []
    for lag in lags:
        fact = f"lag_{lag.source}"
        if lag.transactions_behind == 0:
            findings.append(graded(fact, 0.0, warning_s, critical_s, unit="s",
                                   text="every changelog transaction applied"))
        elif lag.lag_s is None:
            findings.append(Finding(fact, Status.UNKNOWN, "no transaction applied yet"))
        else:
            behind = "" if lag.transactions_behind is None else \
                f", {lag.transactions_behind} transaction(s) to apply"
            findings.append(graded(fact, lag.lag_s, warning_s, critical_s, unit="s",
                                   text=f"last applied transaction committed "
                                        f"{_duration_text(lag.lag_s)} ago{behind}"))
    return HealthReport(tuple(findings))
