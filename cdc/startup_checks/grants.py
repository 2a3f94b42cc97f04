"""The privileges the capture user needs, read from ``SHOW GRANTS`` output. Pure.

MariaDB 10.11: REPLICATION SLAVE (read the binlog as a replica), BINLOG MONITOR (list binlogs
and positions; REPLICATION CLIENT is its old name), SELECT on the captured schemas.
MySQL: REPLICATION SLAVE, REPLICATION CLIENT, SELECT.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cdc.config import TableFilter
from cdc.source_requirements import Flavor
from cdc.startup_checks.problems import Problem

_GRANT = re.compile(r"^GRANT\s+(?P<privileges>.+?)\s+ON\s+(?P<object>.+?)\s+TO\s", re.I | re.S)
_NAME = r"(?:`(?:[^`]|``)*`|\*|[A-Za-z0-9_$\\%]+)"
_OBJECT = re.compile(rf"^(?P<database>{_NAME})\.(?P<table>{_NAME})$")
_SYNONYMS = {
    "ALL PRIVILEGES": "ALL",
    "REPLICATION REPLICA": "REPLICATION SLAVE",
}
_MARIADB_SYNONYMS = {"REPLICATION CLIENT": "BINLOG MONITOR"}
_GLOBAL_NEEDS = {
    Flavor.MARIADB: (
        ("REPLICATION SLAVE", "to read the binlog as a replica"),
        ("BINLOG MONITOR", "to list the binlogs and read positions (SHOW BINARY LOGS)"),
    ),
    Flavor.MYSQL: (
        ("REPLICATION SLAVE", "to read the binlog as a replica"),
        ("REPLICATION CLIENT", "to list the binlogs and read positions (SHOW BINARY LOGS)"),
    ),
}


@dataclass(frozen=True)
class Grant:
    privileges: frozenset[str]
    database: str
    """``*`` for every database; otherwise a name that may hold LIKE wildcards (% and _)."""
    table: str
    """``*`` for every table of the database."""

    def covers(self, database: str, table: str) -> bool:
        if self.database == "*":
            return True
        if not _like_matches(self.database, database):
            return False
        return self.table in ("*", table)


def parse_grants(lines: Iterable[str], flavor: Flavor) -> list[Grant]:
    """The table-level grants among SHOW GRANTS lines; role, proxy, routine and column
    grants give no table privilege and are left out."""
    grants = []
    for line in lines:
        match = _GRANT.match(line.strip())
        if match is None:
            continue
        target = _OBJECT.match(match["object"].strip())
        if target is None:
            continue  # PROXY ON ''@'%', FUNCTION/PROCEDURE objects
        privileges = frozenset(_privilege(name, flavor)
                               for name in _split_privileges(match["privileges"])
                               if "(" not in name)
        grants.append(Grant(privileges, _unquoted(target["database"]),
                            _unquoted(target["table"])))
    return grants


def missing_grant_problems(flavor: Flavor, grants: Sequence[Grant], table_filter: TableFilter,
                           user: str) -> list[Problem]:
    """Each privilege capture lacks, with the GRANT statement that gives it."""
    global_privileges = frozenset().union(*(g.privileges for g in grants if g.database == "*"))
    grantee = _grantee(user)
    problems = []
    if "ALL" not in global_privileges:
        for privilege, why in _GLOBAL_NEEDS[flavor]:
            if privilege not in global_privileges:
                problems.append(_problem(user, privilege, why,
                                         f"GRANT {privilege} ON *.* TO {grantee};"))
    if "ALL" in global_privileges or "SELECT" in global_privileges:
        return problems
    for target in sorted(_select_targets_missing(grants, table_filter)):
        why = f"to read table definitions and snapshot rows of {target}"
        problems.append(_problem(user, f"SELECT ON {target}", why,
                                 f"GRANT SELECT ON {target} TO {grantee};"))
    return problems


def _select_targets_missing(grants: Sequence[Grant], table_filter: TableFilter) -> set[str]:
    selectable = [g for g in grants if "SELECT" in g.privileges or "ALL" in g.privileges]
    missing = set()
    for pattern in table_filter.include:
        if pattern.has_wildcard_database:
            # A database pattern matches databases created later: only a global grant
            # covers them.
            missing.add("*.*")
        elif pattern.names_whole_databases or any(c in pattern.table for c in "*?["):
            if not any(g.table == "*" and g.covers(pattern.database, "*") for g in selectable):
                missing.add(f"`{pattern.database}`.*")
        elif not any(g.covers(pattern.database, pattern.table) for g in selectable):
            missing.add(f"`{pattern.database}`.`{pattern.table}`")
    return missing


def _problem(user: str, privilege: str, why: str, statement: str) -> Problem:
    return Problem(privilege, f"the capture user {user} lacks {privilege} ({why})",
                   f"as an administrator, run: {statement}")


def _split_privileges(text: str) -> list[str]:
    """Split on commas outside the column lists of column grants."""
    names, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [" ".join(name.split()) for name in names if name.strip()]


def _privilege(name: str, flavor: Flavor) -> str:
    upper = name.upper()
    upper = _SYNONYMS.get(upper, upper)
    if flavor is Flavor.MARIADB:
        upper = _MARIADB_SYNONYMS.get(upper, upper)
    return upper


def _unquoted(name: str) -> str:
    if name.startswith("`") and name.endswith("`"):
        return name[1:-1].replace("``", "`")
    return name


def _like_matches(grant_database: str, database: str) -> bool:
    """MySQL treats % and _ in a granted database name as wildcards unless escaped (\\_)."""
    pattern, escaped = "", False
    for char in grant_database:
        if escaped:
            pattern += re.escape(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            pattern += ".*"
        elif char == "_":
            pattern += "."
        else:
            pattern += re.escape(char)
    return re.fullmatch(pattern, database, re.S) is not None


def _grantee(user: str) -> str:
    """``cdc_capture@%`` (from CURRENT_USER()) as ``'cdc_capture'@'%'``."""
    name, _, host = user.rpartition("@")
    return f"'{name}'@'{host}'" if name else f"'{user}'"
