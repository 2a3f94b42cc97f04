"""One snapshot schedule, modelled: its Markov chain, its RTO and RPO distributions over loss
events, and its cost per month. Pure; docs/plan.md derives every formula.

A schedule is a snapshot interval ``T`` and a retention ``k`` (the newest ``k`` complete
snapshots are kept). With a snapshot taking ``D``, the newest usable snapshot's anchor is
``A`` old at a random moment, ``A`` uniform on ``[D, D + T]``, and the ``j``-th older one is
``A + jT`` old. Each snapshot is unusable with probability ``p`` (found out when restoring it);
a restore tries the newest first, then falls back one at a time, and fails when all ``k`` are
unusable (probability ``p^k``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from cdc.plan.distribution import Distribution, Part
from cdc.plan.errors import PlanInputError
from cdc.plan.markov import Chain

HOURS_PER_YEAR = 8766.0  # 365.25 days
HOURS_PER_MONTH = HOURS_PER_YEAR / 12
GB = 1e9

HEALTHY = "healthy"
BEHIND = "capture_behind"
SOURCE_LOST = "source_lost"
SITE_LOST = "site_lost"
STATES = (HEALTHY, BEHIND, SOURCE_LOST, SITE_LOST)


@dataclass(frozen=True)
class PlanInputs:
    """What the model needs. Rates per second unless said; durations in seconds; costs in any
    one currency. Each field's command-line option is ``--`` and its name with dashes."""

    change_rate: float
    """Row changes per second written to the source (and so to the changelog)."""
    change_bytes_rate: float
    """Bytes per second the changelog grows by."""
    snapshot_rows: int
    snapshot_bytes: int
    """A snapshot's size as stored (compressed, encrypted)."""
    snapshot_duration: float
    """How long taking one snapshot takes: from its anchor to its manifest."""
    load_rate: float
    """Rows per second a restore loads a snapshot at."""
    replay_rate: float
    """Row changes per second a restore replays the changelog at."""
    verify_rate: float | None
    """Rows per second a restore is verified at; None: the RTO does not include verifying."""
    restore_overhead: float
    """From the loss to the restore starting: noticing, deciding, a target to restore into."""
    capture_lag: float
    """How far behind the source capture is while healthy (the RPO then)."""
    source_loss_rate: float
    """Per year: the source is lost, the changelog survives (restore = load + replay)."""
    site_loss_rate: float
    """Per year: source and changelog are lost together, the snapshot store survives (restore
    = load only; everything after the snapshot's anchor is lost)."""
    stall_rate: float
    """Per year: capture stops or falls behind (the state capture_behind)."""
    stall_duration: float
    """Mean length of a stall, seconds."""
    corruption: float
    """The probability that a given snapshot turns out unusable when restored."""
    storage_cost: float
    """Per GB-month of snapshot store."""
    changelog_storage_cost: float
    """Per GB-month of changelog (Kafka's disks, replicas included)."""
    snapshot_cost: float
    """Per hour a snapshot runs (the load it puts on the source, the machine it runs on)."""
    downtime_cost: float
    """Per hour the database is down."""
    loss_cost: float
    """Per loss no retained snapshot can restore: the data is gone."""

    @property
    def load_s(self) -> float:
        return self.snapshot_rows / self.load_rate

    @property
    def verify_s(self) -> float:
        return 0.0 if self.verify_rate is None else self.snapshot_rows / self.verify_rate

    @property
    def replay_ratio(self) -> float:
        """Seconds of replay per second of changes: ``change_rate / replay_rate``."""
        return self.change_rate / self.replay_rate

    def check(self) -> None:
        """Refuse inputs outside their range, naming the option."""
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            option = "--" + spec.name.replace("_", "-")
            if not math.isfinite(value) or value < 0:
                raise PlanInputError(f"{option} is {value}: it must be a finite number, 0 or "
                                     "more", f"give {option} a value of 0 or more")
        for name in ("load_rate", "replay_rate", "verify_rate", "stall_duration"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                option = "--" + name.replace("_", "-")
                raise PlanInputError(f"{option} is 0: it must be above 0",
                                     f"give {option} a value above 0")
        if self.corruption >= 1:
            raise PlanInputError(
                f"--corruption is {self.corruption}: every snapshot would be unusable",
                "give the probability that one snapshot is unusable, below 1 (e.g. 0.001)")
        if self.source_loss_rate + self.site_loss_rate <= 0:
            raise PlanInputError(
                "--source-loss-rate and --site-loss-rate are both 0: with no loss there is "
                "nothing to recover from, and no schedule to choose",
                "give how often per year the source is lost (e.g. --source-loss-rate 1)")


@dataclass(frozen=True)
class Bounds:
    rto: float | None = None
    """Seconds; None: no bound."""
    rpo: float | None = None
    window: float = 0.0
    """The restorable history every moment must keep, seconds (the oldest kept anchor's
    age at its youngest)."""
    percentile: float = 99.0
    """Where the RTO and RPO bounds are checked, over loss events."""

    def check(self) -> None:
        if not 0 < self.percentile <= 100:
            raise PlanInputError(f"--percentile is {self.percentile}",
                                 "give a percentile above 0 and at most 100, e.g. 99")
        for name, value in (("--rto", self.rto), ("--rpo", self.rpo),
                            ("--window", self.window)):
            if value is not None and value < 0:
                raise PlanInputError(f"{name} is negative", f"give {name} as a duration")


@dataclass(frozen=True)
class Schedule:
    interval: int
    """Seconds between snapshot anchors (``snapshots.interval``)."""
    keep: int
    """Complete snapshots kept (``cdc backups prune --keep-last``)."""


@dataclass(frozen=True)
class DepthTerm:
    """A restore that reaches the ``depth``-th newest snapshot (0: the newest)."""

    depth: int
    reached: float
    """``p^j``: every newer snapshot was unusable."""
    succeeds: float
    """``p^j (1 - p)``: this one is the one restored."""
    rto_source: tuple[float, float]
    """The RTO after a source loss, uniform between the two: start, verify and ``j + 1``
    loads (the failed ones are wasted), then the replay from this anchor."""
    rto_site: float
    """The RTO after a site loss: no changelog, so no replay."""
    rpo_site: tuple[float, float]
    """The changes lost in a site loss: this anchor's age, uniform between the two."""
    mean_rto_source_sum: float
    """``sum_{i<=j} succeeds_i * mean RTO_i``, the recursion unrolled (see DepthTable)."""
    mean_rto_site_sum: float


class DepthTable:
    """The fallback recursion over restore depth for one interval, memoized.

    The expected RTO of a restore that starts at depth ``j`` with ``k`` snapshots kept is
    ``E_j = (1 - p) R_j + p (L + E_{j+1})``, ending at ``E_k`` = unrecoverable. Unrolled, the
    recoverable part is a sum whose terms do not depend on ``k``: retention ``k + 1`` adds one
    term to retention ``k``. So each depth is computed once per interval, and every retention
    reads the prefix it needs.
    """

    def __init__(self, inputs: PlanInputs, interval: int) -> None:
        self._inputs = inputs
        self._interval = float(interval)
        self._terms: list[DepthTerm] = []

    def upto(self, keep: int) -> tuple[DepthTerm, ...]:
        while len(self._terms) < keep:
            self._terms.append(self._next())
        return tuple(self._terms[:keep])

    def _next(self) -> DepthTerm:
        given, t = self._inputs, self._interval
        j = len(self._terms)
        p = given.corruption
        reached = p ** j
        succeeds = reached * (1 - p)
        start = given.restore_overhead + given.verify_s + (j + 1) * given.load_s
        replay_low = given.replay_ratio * (given.snapshot_duration + j * t)
        rto_source = (start + replay_low, start + replay_low + given.replay_ratio * t)
        anchor_age = given.snapshot_duration + j * t
        before = self._terms[-1] if self._terms else None
        return DepthTerm(
            depth=j, reached=reached, succeeds=succeeds, rto_source=rto_source, rto_site=start,
            rpo_site=(anchor_age, anchor_age + t),
            mean_rto_source_sum=(before.mean_rto_source_sum if before else 0.0)
            + succeeds * sum(rto_source) / 2,
            mean_rto_site_sum=(before.mean_rto_site_sum if before else 0.0) + succeeds * start)


@dataclass(frozen=True)
class Costs:
    """Per month."""

    snapshot_storage: float
    changelog_storage: float
    snapshots_taken: float
    downtime: float
    data_loss: float

    @property
    def total(self) -> float:
        return (self.snapshot_storage + self.changelog_storage + self.snapshots_taken
                + self.downtime + self.data_loss)

    def as_dict(self) -> dict[str, float]:
        return {"total": self.total, "snapshot_storage": self.snapshot_storage,
                "changelog_storage": self.changelog_storage,
                "snapshots_taken": self.snapshots_taken, "downtime": self.downtime,
                "data_loss": self.data_loss}


@dataclass(frozen=True)
class Evaluation:
    schedule: Schedule
    chain: Chain
    stationary: dict[str, float]
    losses_per_year: dict[str, float]
    """Loss events per year by kind (source_lost, site_lost), from the chain."""
    behind_share: float
    """Of source losses, the share that comes while capture is behind."""
    unrecoverable: float
    """``p^k``: all kept snapshots unusable."""
    mean_rto: dict[str, float]
    """Expected RTO of a recoverable restore, by loss kind (the chain's repair times)."""
    rto: Distribution
    rpo: Distribution
    costs: Costs
    shortest_window: float
    """The restorable history at its shortest, seconds: ``D + (k - 1) T``."""
    changelog_needed: float
    """How far back restores need the changelog at most, seconds: ``D + k T``."""


def operating_chain(inputs: PlanInputs, mean_rto_source: float,
                    mean_rto_site: float) -> Chain:
    """healthy <-> capture_behind; either -> source_lost or site_lost; a loss -> healthy at
    1 / (its mean recoverable RTO). Rates per hour."""
    per_hour = 1 / HOURS_PER_YEAR
    leave = {HEALTHY, BEHIND}
    rates: dict[tuple[str, str], float] = {
        (HEALTHY, BEHIND): inputs.stall_rate * per_hour,
        (BEHIND, HEALTHY): 3600 / inputs.stall_duration,
        (SOURCE_LOST, HEALTHY): 3600 / max(mean_rto_source, 1e-6),
        (SITE_LOST, HEALTHY): 3600 / max(mean_rto_site, 1e-6),
    }
    for state in leave:
        rates[(state, SOURCE_LOST)] = inputs.source_loss_rate * per_hour
        rates[(state, SITE_LOST)] = inputs.site_loss_rate * per_hour
    return Chain(STATES, rates)


def evaluate(inputs: PlanInputs, schedule: Schedule,
             table: DepthTable | None = None) -> Evaluation:
    """The schedule's chain, distributions and cost. ``table`` (for ``schedule.interval``)
    carries the depth terms over from other retentions."""
    if table is None:
        table = DepthTable(inputs, schedule.interval)
    terms = table.upto(schedule.keep)
    p_all = inputs.corruption ** schedule.keep
    recoverable = 1 - p_all
    mean_rto = {SOURCE_LOST: terms[-1].mean_rto_source_sum / recoverable,
                SITE_LOST: terms[-1].mean_rto_site_sum / recoverable}
    chain = operating_chain(inputs, mean_rto[SOURCE_LOST], mean_rto[SITE_LOST])
    pi = chain.stationary()
    losses_per_hour = {kind: chain.flow(pi, kind) for kind in (SOURCE_LOST, SITE_LOST)}
    all_losses = sum(losses_per_hour.values())
    share = {kind: rate / all_losses for kind, rate in losses_per_hour.items()}
    up = pi[HEALTHY] + pi[BEHIND]
    behind_share = pi[BEHIND] / up
    # The stall's age when the loss comes: exponential at the rate of leaving capture_behind.
    leave_behind = sum(chain.rate(BEHIND, s) for s in STATES if s != BEHIND)
    stall_age = 3600 / leave_behind

    rto_source = Distribution(tuple(Part.uniform(t.succeeds, *t.rto_source) for t in terms))
    rto_site = Distribution(tuple(Part.point(t.succeeds, t.rto_site) for t in terms))
    rpo_source = Distribution((
        Part.point(recoverable * (1 - behind_share), inputs.capture_lag),
        Part.exponential(recoverable * behind_share, inputs.capture_lag, stall_age)))
    rpo_site = Distribution(tuple(Part.uniform(t.succeeds, *t.rpo_site) for t in terms))
    rto = Distribution.mix(((share[SOURCE_LOST], rto_source), (share[SITE_LOST], rto_site)))
    rpo = Distribution.mix(((share[SOURCE_LOST], rpo_source), (share[SITE_LOST], rpo_site)))

    t, d, k = schedule.interval, inputs.snapshot_duration, schedule.keep
    costs = Costs(
        snapshot_storage=k * inputs.snapshot_bytes / GB * inputs.storage_cost,
        # On average the oldest kept anchor is D + T/2 + (k - 1) T old.
        changelog_storage=inputs.change_bytes_rate * (d + t / 2 + (k - 1) * t) / GB
        * inputs.changelog_storage_cost,
        snapshots_taken=HOURS_PER_MONTH * d / t * inputs.snapshot_cost,
        downtime=HOURS_PER_MONTH * (pi[SOURCE_LOST] + pi[SITE_LOST]) * inputs.downtime_cost,
        data_loss=HOURS_PER_MONTH * all_losses * p_all * inputs.loss_cost)
    return Evaluation(
        schedule=schedule, chain=chain, stationary=pi,
        losses_per_year={kind: rate * HOURS_PER_YEAR for kind, rate in losses_per_hour.items()},
        behind_share=behind_share, unrecoverable=p_all, mean_rto=mean_rto, rto=rto, rpo=rpo,
        costs=costs, shortest_window=d + (k - 1) * t, changelog_needed=d + k * t)
