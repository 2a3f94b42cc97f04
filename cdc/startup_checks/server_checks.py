"""Pure checks of the source's server variables: flavor, version, required settings, GTIDs
and the replica server id. Each takes values already read and returns problems or warnings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from cdc.source_requirements import Flavor, normalize_setting, unmet_settings
from cdc.startup_checks.problems import Problem

OLDEST_SUPPORTED = {Flavor.MARIADB: (10, 6), Flavor.MYSQL: (8, 0)}
_SERVER_SECTION = {Flavor.MARIADB: "mariadbd", Flavor.MYSQL: "mysqld"}
_SHORT_RETENTION_S = 24 * 3600
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")

VARIABLES_READ = (
    "version", "server_id", "log_bin", "binlog_format", "binlog_row_image",
    "binlog_row_metadata", "log_bin_compress", "binlog_transaction_compression", "gtid_mode",
    "enforce_gtid_consistency", "gtid_strict_mode", "gtid_binlog_pos", "gtid_binlog_state",
    "gtid_executed", "binlog_expire_logs_seconds", "expire_logs_days",
)
"""The server variables the checks look at (one query reads them all)."""


def detect_flavor(version: str) -> Flavor:
    return Flavor.MARIADB if "mariadb" in version.lower() else Flavor.MYSQL


def version_number(version: str) -> tuple[int, int, int]:
    match = _VERSION.match(version)
    if match is None:
        return (0, 0, 0)
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def flavor_problems(configured: str, detected: Flavor, version: str) -> list[Problem]:
    problems: list[Problem] = []
    if configured not in ("auto", detected.value):
        problems.append(Problem(
            "source.flavor",
            f"source.flavor is {configured!r} but the server is {detected.value} ({version})",
            f"set flavor = \"auto\" or \"{detected.value}\" under [source]"))
    oldest = OLDEST_SUPPORTED[detected]
    if version_number(version)[:2] < oldest:
        release = ".".join(str(part) for part in oldest)
        problems.append(Problem(
            "version", f"{detected.value} {version} is older than {release}, the oldest "
            "release capture supports", f"upgrade the server to {detected.value} {release} "
            "or later"))
    return problems


def settings_problems(flavor: Flavor, variables: Mapping[str, object]) -> list[Problem]:
    """Every required setting the server does not have, each with its fix."""
    problems = []
    for setting, found in unmet_settings(flavor, dict(variables)):
        what = (f"{setting.variable} is not set on this server" if found is None
                else f"{setting.variable} is {found}; capture needs {setting.value}")
        fix = setting.hint(flavor)
        if setting.variable == "log_bin":
            # log_bin is switched on by naming the binlog files, not with ON.
            fix = (f"enable the binlog in the server's configuration ([{_SERVER_SECTION[flavor]}]"
                   f" log-bin=<path>/<basename>, e.g. log-bin=mysql-bin) and restart it; "
                   f"{setting.why}")
        problems.append(Problem(setting.variable, what, fix))
    return problems


def gtid_problems(flavor: Flavor, variables: Mapping[str, object]) -> list[Problem]:
    """MariaDB always writes GTIDs (a server without them is too old); MySQL needs gtid_mode,
    which the required settings already cover."""
    if flavor is Flavor.MARIADB and variables.get("gtid_binlog_pos") is None:
        return [Problem("gtid_binlog_pos", "the server reports no @@gtid_binlog_pos",
                        "capture resumes by GTID; use MariaDB 10.6 or later")]
    return []


def server_id_problems(capture_server_id: int, source_server_id: int,
                       replica_server_ids: Iterable[int] = ()) -> list[Problem]:
    why = ("capture reads the binlog as a replica with this id, and two connections with one "
           "id disconnect each other")
    fix = ("set source.server_id (or CDC_SOURCE__SERVER_ID) to an id that no server and no "
           f"replica of this source uses; {why}")
    if capture_server_id == source_server_id:
        return [Problem("source.server_id", f"source.server_id {capture_server_id} is the "
                        "source's own @@server_id", fix)]
    if capture_server_id in set(replica_server_ids):
        return [Problem("source.server_id", f"source.server_id {capture_server_id} is already "
                        "used by a replica connected to the source (SHOW SLAVE HOSTS)", fix)]
    return []


def setting_warnings(flavor: Flavor, variables: Mapping[str, object]) -> list[str]:
    warnings = []
    if flavor is Flavor.MARIADB and normalize_setting(
            variables.get("gtid_strict_mode", "OFF")) != "ON":
        warnings.append(
            "gtid_strict_mode is OFF: an out-of-order GTID in a domain would go unnoticed; "
            "set gtid_strict_mode=ON ([mariadbd] gtid-strict-mode=ON)")
    retention = binlog_retention_s(variables)
    if retention is not None and retention < _SHORT_RETENTION_S:
        warnings.append(
            f"binlogs are purged after {retention} s: a capture stopped for longer than that "
            "needs a new base snapshot; consider binlog_expire_logs_seconds=604800 (7 days)")
    return warnings


def binlog_retention_s(variables: Mapping[str, object]) -> int | None:
    """How long the server keeps binlogs, or None when it keeps them until purged by hand."""
    seconds = _as_int(variables.get("binlog_expire_logs_seconds"))
    if seconds:
        return seconds
    days = _as_float(variables.get("expire_logs_days"))
    return int(days * 86400) if days else None


def _as_int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _as_float(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        return 0.0
