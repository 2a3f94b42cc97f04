"""What capture checks on the source before it starts, and what it learns there.

``run_startup_checks(config)`` connects as the capture user and refuses (SourceCheckError,
exit status 2) with every problem and its fix: a setting, a grant, the server id. The pure
judgements live in ``server_checks``, ``grants`` and ``binlog_window``; the SQL in ``queries``.
"""

from cdc.startup_checks.facts import SourceFacts
from cdc.startup_checks.queries import Connection, connect_source
from cdc.startup_checks.run import (
    check_position_available,
    earliest_available_position,
    inspect_source,
    run_startup_checks,
    tables_without_primary_key,
)

__all__ = [
    "Connection",
    "SourceFacts",
    "check_position_available",
    "connect_source",
    "earliest_available_position",
    "inspect_source",
    "run_startup_checks",
    "tables_without_primary_key",
]
