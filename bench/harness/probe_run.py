"""The probes of ``probe_lag`` on real servers: the UPDATEs on the source (from the caller's
thread) and a watcher thread polling the target.

Each probe is a transaction of its own in autocommit, so no transaction is ever left open on
the source. The watcher reconnects after an error (the table is not in the target until the
snapshot is loaded; a restarted server) and counts the errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

import pymysql

from bench.harness.probe_lag import PROBE_ID, PROBE_TABLE, Seen, Sent, next_value, probe_ddl
from bench.harness.target_session import TargetErrors, TargetSession
from bench.workload.connection import MySQLConnection, connect, translate_error
from cdc.dsn import Dsn
from cdc.errors import CdcError


class ProbeError(CdcError):
    """A probe could not be written, or the target never showed it."""


def create_probe_table(connection: MySQLConnection, database: str) -> None:
    """The probe table with its one row, in ``database`` (before the snapshot, so that the
    snapshot holds it)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"USE `{database}`")
            cursor.execute(probe_ddl())
            cursor.execute(f"INSERT INTO {PROBE_TABLE} (id, sent_us) VALUES (%s, 0)",
                           (PROBE_ID,))
        connection.commit()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, f"creating {database}.{PROBE_TABLE}") from None


class ProbeSession:
    """A source connection sending probes and a thread watching the target; a context
    manager that stops the watcher and closes both on the way out."""

    def __init__(self, source: Dsn, target: Dsn, database: str, *,
                 poll_s: float = 0.005) -> None:
        self._source_dsn, self.target = source, target
        self._database = database
        self._poll_s = poll_s
        self._source: MySQLConnection | None = None
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._latest = -1
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="probe-watcher", daemon=True)
        self._last_value = 0
        self.watch_errors = 0
        self.polls = 0

    def __enter__(self) -> ProbeSession:
        self._source = connect(self._source_dsn)
        self._source.autocommit(True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self._source is not None:
            self._source.close()
            self._source = None

    def send(self) -> Sent:
        """One probe, committed on the source when this returns."""
        if self._source is None:
            raise ProbeError("the probe session is not open", "use it as a context manager")
        value = next_value(self._last_value, time.time_ns() // 1000)
        self._last_value = value
        at = time.monotonic()
        try:
            with self._source.cursor() as cursor:
                cursor.execute(f"UPDATE `{self._database}`.{PROBE_TABLE} SET sent_us = %s "
                               "WHERE id = %s", (value, PROBE_ID))
        except pymysql.MySQLError as exc:
            raise translate_error(exc, "sending a probe") from None
        return Sent(value, at)

    def send_every(self, interval_s: float, done: Callable[[], bool]) -> list[Sent]:
        """Probes on a fixed schedule of one per ``interval_s`` until ``done()``; slots
        missed while the source was slow are skipped, not made up in a burst."""
        sent: list[Sent] = []
        due = time.monotonic()
        while not done():
            now = time.monotonic()
            if now < due:
                time.sleep(min(due - now, 0.05))
                continue
            sent.append(self.send())
            due = max(due + interval_s, time.monotonic())
        return sent

    def wait_seen(self, value: int, timeout_s: float) -> float | None:
        """Wait until the target shows ``value`` or a later one; the monotonic time it was
        first seen, None on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self._latest < value:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(min(left, 1.0))
            return next(seen.at for seen in self._seen if seen.value >= value)

    def observations(self, since: float = 0.0) -> list[Seen]:
        """What the watcher saw change, in order, from monotonic time ``since`` on."""
        with self._lock:
            return [seen for seen in self._seen if seen.at >= since]

    def _watch(self) -> None:
        session: TargetSession | None = None
        next_poll = time.monotonic()
        while not self._stop.is_set():
            try:
                if session is None:
                    session = TargetSession(self.target)
                    sql = (f"SELECT sent_us FROM "
                           f"{session.qualified(self._database, PROBE_TABLE)} WHERE id = 1")
                found = session.scalar(sql)
                at = time.monotonic()
                self.polls += 1
                if found is not None:
                    self._note(at, int(str(found)))
            except (*TargetErrors, CdcError):
                self.watch_errors += 1
                if session is not None:
                    session.close()
                    session = None
                self._stop.wait(0.2)
            next_poll += self._poll_s
            delay = next_poll - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_poll = time.monotonic()
        if session is not None:
            session.close()

    def _note(self, at: float, value: int) -> None:
        with self._changed:
            if value > self._latest:
                self._latest = value
                self._seen.append(Seen(at, value))
                self._changed.notify_all()
