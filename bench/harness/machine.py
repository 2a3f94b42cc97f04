"""What the numbers were measured on: CPUs and the versions of every piece in the path.

The parsing is pure (``cpu_model``, ``kafka_version``); ``collect`` reads the machine.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

_KAFKA_JAR = re.compile(r"^kafka_\d+\.\d+-(\d[\w.\-]*)\.jar$")


@dataclass(frozen=True)
class MachineFacts:
    cpus: int
    cpu_model: str
    mariadb: str
    mariadb_binlog: str
    kafka: str
    python: str
    mysql_replication: str
    load_average: str = ""  # 1, 5 and 15 minutes, when the facts were collected

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def cpu_model(cpuinfo: str) -> str:
    """The first ``model name`` in /proc/cpuinfo text (other architectures name it
    differently; then the first of ``Hardware``/``cpu model``/``Processor``)."""
    for key in ("model name", "cpu model", "hardware", "processor"):
        for line in cpuinfo.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() == key and not value.strip().isdigit():
                return value.strip()
    return "unknown"


def kafka_version(jar_names: Iterable[str]) -> str:
    """Kafka's version from the broker jar's name (``kafka_2.13-4.1.1.jar`` -> 4.1.1 on
    Scala 2.13)."""
    for name in sorted(jar_names):
        match = _KAFKA_JAR.match(name)
        if match:
            scala = name.removeprefix("kafka_").split("-", 1)[0]
            return f"{match.group(1)} (Scala {scala})"
    return "unknown"


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 0


def collect(mariadb_version: str, stack_dir: Path, mariadb_binlog: str) -> MachineFacts:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    libs = stack_dir / "kafka" / "libs"
    jars = [path.name for path in libs.glob("kafka_*.jar")] if libs.is_dir() else []
    return MachineFacts(
        cpus=usable_cpus(),
        cpu_model=cpu_model(cpuinfo),
        mariadb=mariadb_version,
        mariadb_binlog=_first_line([mariadb_binlog, "--version"]),
        kafka=kafka_version(jars),
        python=platform.python_version(),
        mysql_replication=metadata.version("mysql-replication"),
        load_average=" ".join(f"{load:.2f}" for load in os.getloadavg()),
    )


def _first_line(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, check=False, capture_output=True, text=True,
                                   timeout=30)
    except OSError as exc:
        return f"unknown ({exc.strerror})"
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"
