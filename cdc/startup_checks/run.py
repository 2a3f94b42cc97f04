"""The start-up checks in order: connect, read, judge, and either refuse with every problem
at once or return what capture needs to know about the source."""

from __future__ import annotations

from cdc.config import CaptureConfig, TableFilter
from cdc.errors import SourceCheckError
from cdc.position import Gtid, GtidPosition
from cdc.source_requirements import Flavor
from cdc.startup_checks import queries
from cdc.startup_checks.binlog_window import (
    mysql_unavailable_reasons,
    oldest_available_position,
    parse_gtid_list,
    unavailable_reasons,
)
from cdc.startup_checks.facts import SourceFacts
from cdc.startup_checks.grants import missing_grant_problems, parse_grants
from cdc.startup_checks.problems import refusal
from cdc.startup_checks.queries import Connection, connect_source
from cdc.startup_checks.server_checks import (
    VARIABLES_READ,
    detect_flavor,
    flavor_problems,
    gtid_problems,
    server_id_problems,
    setting_warnings,
    settings_problems,
    version_number,
)

_LISTED_TABLES = 20
_NEW_SNAPSHOT = ("take a new base snapshot (cdc snapshot) and capture from its position; keep "
                 "binlogs longer (binlog_expire_logs_seconds) so a stopped capture can catch up")


def run_startup_checks(config: CaptureConfig) -> SourceFacts:
    """Every check capture runs before it reads the binlog; raises SourceCheckError naming
    all problems found, each with its fix."""
    with connect_source(config) as conn:
        return inspect_source(conn, config)


def inspect_source(conn: Connection, config: CaptureConfig) -> SourceFacts:
    variables = queries.server_variables(conn, VARIABLES_READ)
    version = variables.get("version", "")
    flavor = detect_flavor(version)
    number = version_number(version)
    source_server_id = int(variables.get("server_id", "0"))
    grants = parse_grants(queries.grant_lines(conn), flavor)
    replicas = queries.replica_server_ids(conn, flavor, number) or ()
    problems = [
        *flavor_problems(config.source.flavor, flavor, version),
        *settings_problems(flavor, variables),
        *gtid_problems(flavor, variables),
        *server_id_problems(config.source.server_id, source_server_id, replicas),
        *missing_grant_problems(flavor, grants, config.table_filter, queries.current_user(conn)),
    ]
    dsn = config.source.dsn
    if problems:
        raise refusal(f"the source {dsn.host}:{dsn.port} ({flavor.value} {version}) is not "
                      "ready for capture", problems)
    status = queries.binlog_status(conn, flavor, number)
    if status is None:
        raise SourceCheckError(f"the source {dsn.host}:{dsn.port} reports no binlog status",
                               "check that log_bin is on and the server's error log")
    without_key = tuple(tables_without_primary_key(conn, config.table_filter))
    warnings = setting_warnings(flavor, variables)
    if without_key:
        warnings.append(_without_key_warning(without_key))
    position_variable = "gtid_binlog_pos" if flavor is Flavor.MARIADB else "gtid_executed"
    return SourceFacts(
        flavor=flavor, version=version, server_id=source_server_id,
        gtid_binlog_pos=variables.get(position_variable, "").replace("\n", ""),
        binlog_file=status[0], binlog_position=status[1], warnings=tuple(warnings),
        tables_without_primary_key=without_key,
    )


def check_position_available(conn: Connection, gtid_position: str,
                             flavor: Flavor | None = None) -> None:
    """Raise SourceCheckError unless the source still has every binlog event after
    ``gtid_position`` (empty: from the very first transaction)."""
    flavor = flavor or _flavor_of(conn)
    if flavor is Flavor.MYSQL:
        window = queries.mysql_gtid_window(conn, gtid_position)
        reasons = mysql_unavailable_reasons(gtid_position, *window)
        oldest = f"everything after gtid_purged {window[2] or '(empty)'}"
    else:
        position = GtidPosition.parse(gtid_position)
        oldest_file, oldest_list = _oldest_binlog(conn)
        state = queries.server_variables(conn, ["gtid_binlog_state"]).get(
            "gtid_binlog_state", "")
        reasons = unavailable_reasons(position, oldest_list, parse_gtid_list(state))
        start = str(oldest_available_position(oldest_list)) or "the first transaction"
        oldest = f"the oldest binlog, {oldest_file}, starts after {start}"
    if reasons:
        raise SourceCheckError(
            f"the source no longer has the binlog from GTID position "
            f"{gtid_position or '(empty)'} on: {'; '.join(reasons)}; {oldest}", _NEW_SNAPSHOT)


def earliest_available_position(conn: Connection, flavor: Flavor | None = None) -> str:
    """The earliest GTID position the source's binlog can still be read from in full."""
    flavor = flavor or _flavor_of(conn)
    if flavor is Flavor.MYSQL:
        return queries.server_variables(conn, ["gtid_purged"]).get("gtid_purged", "")
    return str(oldest_available_position(_oldest_binlog(conn)[1]))


def tables_without_primary_key(conn: Connection, table_filter: TableFilter) -> list[str]:
    """``db.table`` of each captured table without a primary key."""
    return [f"{database}.{table}" for database, table in queries.tables_lacking_primary_key(conn)
            if table_filter.includes(database, table)]


def _oldest_binlog(conn: Connection) -> tuple[str, tuple[Gtid, ...]]:
    """The oldest binlog file the source still has, and the GTID list it starts after."""
    files = queries.binary_log_files(conn)
    if not files:
        raise SourceCheckError("the source has no binlog files",
                               "enable the binlog (log-bin) on the source and restart it")
    info = queries.gtid_list_of(conn, files[0])
    if info is None:
        raise SourceCheckError(f"the oldest binlog, {files[0]}, starts without a Gtid_list "
                               "event, so what it follows is unknown", _NEW_SNAPSHOT)
    return files[0], parse_gtid_list(info)


def _flavor_of(conn: Connection) -> Flavor:
    return detect_flavor(queries.server_variables(conn, ["version"]).get("version", ""))


def _without_key_warning(tables: tuple[str, ...]) -> str:
    shown = ", ".join(tables[:_LISTED_TABLES])
    more = f" and {len(tables) - _LISTED_TABLES} more" if len(tables) > _LISTED_TABLES else ""
    return (f"{len(tables)} captured table(s) have no primary key: {shown}{more}; their "
            "changes are captured, but restores and verification can only match whole rows")
