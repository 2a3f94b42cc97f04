"""What a running ``replayer migrate`` says about itself in the target, for ``replayer
status``: its mode, its delay and its recent rates (table ``cdc_replayer.follower``, the same
SQL for both engines)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from replayer.applier import POSITION_SCHEMA

FOLLOWER_DDL = (
    f"CREATE TABLE IF NOT EXISTS {POSITION_SCHEMA}.follower ("
    " source VARCHAR(200) NOT NULL PRIMARY KEY, mode VARCHAR(10) NOT NULL,"
    " delay_s DOUBLE PRECISION NOT NULL, rows_per_s DOUBLE PRECISION NOT NULL,"
    " transactions_per_s DOUBLE PRECISION NOT NULL, updated_at_us BIGINT NOT NULL)")


@dataclass(frozen=True)
class FollowerStatus:
    mode: str
    delay_s: float
    rows_per_s: float
    transactions_per_s: float
    updated_at_us: int


def write_follower(connection: Any, source: str, status: FollowerStatus) -> None:
    """Replace the source's row and commit (nothing else is open: called between commits)."""
    cursor = connection.cursor()
    cursor.execute(f"DELETE FROM {POSITION_SCHEMA}.follower WHERE source = %s", (source,))
    cursor.execute(
        f"INSERT INTO {POSITION_SCHEMA}.follower (source, mode, delay_s, rows_per_s, "
        "transactions_per_s, updated_at_us) VALUES (%s, %s, %s, %s, %s, %s)",
        (source, status.mode, status.delay_s, status.rows_per_s, status.transactions_per_s,
         status.updated_at_us))
    connection.commit()


def read_followers(connection: Any) -> dict[str, FollowerStatus]:
    cursor = connection.cursor()
    cursor.execute(f"SELECT source, mode, delay_s, rows_per_s, transactions_per_s, "
                   f"updated_at_us FROM {POSITION_SCHEMA}.follower")
    rows = cursor.fetchall()
    connection.commit()
    return {str(source): FollowerStatus(str(mode), float(delay), float(rows_s), float(tx_s),
                                        int(updated))
            for source, mode, delay, rows_s, tx_s, updated in rows}


class RateReporter:
    """Writes the follower's row at most every ``every_s``, with the rates since the last."""

    def __init__(self, source: str, mode: str, delay_s: float, every_s: float = 2.0) -> None:
        self._source, self._mode, self._delay = source, mode, delay_s
        self._every = every_s
        self._since = time.monotonic()
        self._counts: tuple[int, int] | None = None

    def committed(self, connection: Any, rows: int, transactions: int) -> None:
        now = time.monotonic()
        if self._counts is None or rows < self._counts[0]:  # a new applier counts from 0
            self._counts, self._since = (rows, transactions), now
            self._write(connection, 0.0, 0.0)
            return
        elapsed = now - self._since
        if elapsed < self._every:
            return
        rows_s = (rows - self._counts[0]) / elapsed
        tx_s = (transactions - self._counts[1]) / elapsed
        self._counts, self._since = (rows, transactions), now
        self._write(connection, rows_s, tx_s)

    def _write(self, connection: Any, rows_s: float, tx_s: float) -> None:
        write_follower(connection, self._source, FollowerStatus(
            self._mode, self._delay, round(rows_s, 1), round(tx_s, 1),
            int(time.time() * 1_000_000)))
