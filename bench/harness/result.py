"""The value a benchmark run produces: the range read, the machine, one series of timings
per measurement, and the comparisons derived from their medians. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.harness.machine import MachineFacts
from bench.harness.stats import median, rate, ratio

WORKLOAD = "workload"
MARIADB_BINLOG = "mariadb_binlog"
RAW_DECODE = "raw_decode"
RAW_DECODE_CACHED = "raw_decode_cached"
CAPTURE = "capture"
CAPTURE_STARTUP = "capture_startup"


def workers_key(workers: int) -> str:
    """The measurement of capture with this many decoding workers (beside the default's)."""
    return f"capture_workers_{workers}"


def workers_of(key: str) -> int | None:
    prefix = "capture_workers_"
    return int(key[len(prefix):]) if key.startswith(prefix) else None


@dataclass(frozen=True)
class Measurement:
    """``seconds`` of each run of one tool over the same ``row_changes`` (0: not a
    throughput, such as capture's fixed start-up cost)."""

    key: str
    label: str
    row_changes: int
    seconds: tuple[float, ...]

    @property
    def runs(self) -> int:
        return len(self.seconds)

    @property
    def median_seconds(self) -> float:
        return median(self.seconds)

    @property
    def rate(self) -> float | None:
        """Row changes per second at the median time (the median of the per-run rates for
        an odd number of runs)."""
        return rate(self.row_changes, self.median_seconds) if self.row_changes else None

    @property
    def rate_range(self) -> tuple[float, float] | None:
        if not self.row_changes:
            return None
        return (rate(self.row_changes, max(self.seconds)),
                rate(self.row_changes, min(self.seconds)))

    def to_dict(self) -> dict[str, object]:
        found = self.rate_range
        return {
            "label": self.label,
            "row_changes": self.row_changes,
            "runs": self.runs,
            "seconds": [round(s, 4) for s in self.seconds],
            "median_seconds": round(self.median_seconds, 4),
            "row_changes_per_second": _rounded(self.rate),
            "slowest_row_changes_per_second": _rounded(found[0]) if found else None,
            "fastest_row_changes_per_second": _rounded(found[1]) if found else None,
        }


@dataclass(frozen=True)
class RangeFacts:
    """The binlog range every measurement reads, and what the workload wrote into it."""

    database: str
    start_gtid: str
    end_gtid: str
    first_binlog_file: str
    binlog_bytes: int | None
    transactions_in_range: int
    workload_transactions: int
    row_changes: int
    row_changes_by_kind: Mapping[str, int]

    def to_dict(self) -> dict[str, object]:
        return {
            "database": self.database,
            "start_gtid": self.start_gtid,
            "end_gtid": self.end_gtid,
            "first_binlog_file": self.first_binlog_file,
            "binlog_bytes": self.binlog_bytes,
            "transactions_in_range": self.transactions_in_range,
            "workload_transactions": self.workload_transactions,
            "row_changes": self.row_changes,
            "row_changes_by_kind": dict(self.row_changes_by_kind),
        }


@dataclass(frozen=True)
class BenchResult:
    command: str
    date: str
    machine: MachineFacts
    range: RangeFacts
    measurements: tuple[Measurement, ...]
    notes: tuple[str, ...] = field(default=())

    def get(self, key: str) -> Measurement | None:
        return next((m for m in self.measurements if m.key == key), None)

    def rate_of(self, key: str) -> float | None:
        found = self.get(key)
        return found.rate if found is not None else None

    def ratios(self) -> dict[str, float | None]:
        """Capture against the baselines, and the library against mariadb-binlog (rates at
        the medians; above 1 means faster than the baseline)."""
        return {
            "capture/raw_decode": _ratio(self.rate_of(CAPTURE), self.rate_of(RAW_DECODE)),
            "capture/raw_decode_cached": _ratio(self.rate_of(CAPTURE),
                                                self.rate_of(RAW_DECODE_CACHED)),
            "capture/mariadb_binlog": _ratio(self.rate_of(CAPTURE),
                                             self.rate_of(MARIADB_BINLOG)),
            "raw_decode/mariadb_binlog": _ratio(self.rate_of(RAW_DECODE),
                                                self.rate_of(MARIADB_BINLOG)),
        }

    def scaling(self) -> list[tuple[str, float]]:
        """(workers, row changes/s) of every capture measured with a worker count, in order
        of the count; the default run is named by its label."""
        found = sorted((count, m) for m in self.measurements
                       if (count := workers_of(m.key)) is not None and m.rate is not None)
        return [(str(count), m.rate) for count, m in found if m.rate is not None]

    def capture_after_startup_rate(self) -> float | None:
        """Row changes per second of capture once started: the range's row changes over
        the difference of the medians of capture and of its empty-range start-up."""
        capture, startup = self.get(CAPTURE), self.get(CAPTURE_STARTUP)
        if capture is None or startup is None:
            return None
        streaming = capture.median_seconds - startup.median_seconds
        return rate(capture.row_changes, streaming) if streaming > 0 else None

    def to_dict(self) -> dict[str, object]:
        return {
            "benchmark": "capture_throughput",
            "command": self.command,
            "date": self.date,
            "machine": self.machine.to_dict(),
            "range": self.range.to_dict(),
            "measurements": {m.key: m.to_dict() for m in self.measurements},
            "ratios": {key: _rounded(value, 3) for key, value in self.ratios().items()},
            "capture_after_startup_row_changes_per_second": _rounded(
                self.capture_after_startup_rate()),
            "notes": list(self.notes),
        }


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None:
        return None
    return ratio(numerator, denominator)


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return round(value, digits) if value is not None else None
