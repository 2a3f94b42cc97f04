"""What a restore needs of a target, for each engine: connect, check it is empty, prepare
the session and bookkeeping, read and store the position, bulk-load a snapshot and apply
the changelog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdc.dsn import Dsn, Engine
from replayer.applier import (
    AppliedPosition,
    Applier,
)
from replayer.apply_mysql import (
    MysqlApplier,
    connect_target,
    prepare_session,
    require_empty_mysql,
    store_position,
)
from replayer.apply_postgres import PostgresApplier
from replayer.load_mysql import MysqlBulkTarget
from replayer.load_postgres import PostgresBulkTarget
from replayer.set_apply import SetApplier
from replayer.set_apply_mysql import MysqlSetApplier
from replayer.set_apply_postgres import PostgresSetApplier
from replayer.snapshot_load import BulkTarget
from replayer.target_postgres import (
    connect_postgres,
    prepare_postgres,
    require_empty_postgres,
    store_position_postgres,
)


@dataclass(frozen=True)
class TargetEngine:
    connect: Callable[[Dsn], Any]
    require_empty: Callable[[Any], None]
    prepare: Callable[[Any], None]
    store_position: Callable[[Any, str, AppliedPosition], None]
    bulk_target: Callable[[Any], BulkTarget]
    applier: type[Applier]
    set_applier: type[SetApplier]
    """Set-based replay, for restores (``replayer.set_apply``)."""


_ENGINES = {
    Engine.MYSQL: TargetEngine(connect_target, require_empty_mysql, prepare_session,
                               store_position, MysqlBulkTarget,
                               MysqlApplier, MysqlSetApplier),
    Engine.POSTGRESQL: TargetEngine(connect_postgres, require_empty_postgres, prepare_postgres,
                                    store_position_postgres,
                                    PostgresBulkTarget, PostgresApplier, PostgresSetApplier),
}


def target_engine(dsn: Dsn) -> TargetEngine:
    return _ENGINES[dsn.engine]


def open_bulk_target(dsn: Dsn) -> BulkTarget:
    """A new, prepared connection to the target, for loading (one per worker process)."""
    engine = target_engine(dsn)
    connection = engine.connect(dsn)
    engine.prepare(connection)
    return engine.bulk_target(connection)
