"""Which process runs the post jobs: one scheduler leader, however many bot processes share the state.

APScheduler 3 has no cross-process coordination: every process that runs the jobs would post (see
research/reliability.md §2). With TinyDB there is only ever one process (its file lock refuses a
second), so that process always leads. With PostgreSQL, any number of processes serve Slack's
requests, and the one holding a session-level advisory lock runs the jobs:

* a dedicated connection (not the store's pool, whose connections come and go) calls
  ``pg_try_advisory_lock`` every ``check_seconds`` until it wins; the lock lives exactly as long as
  that session, so when the leader dies (even by SIGKILL) the server drops the session and the lock,
  and a standby wins at its next check;
* the leader pings its connection at the same interval and steps down the moment it fails; TCP
  keepalives on both sides bound how long a silently partitioned leader keeps the lock (~30 s).

Leadership is an efficiency measure, not the safety net: during a hand-over two processes may both
believe they lead for a moment, and the ledger's constraints (one run per channel and local date)
still allow only one post.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.config import Settings, redact_url

__all__ = ["AdvisoryLockLeader", "AlwaysLeader", "Leadership", "make_leader"]

logger = logging.getLogger(__name__)


class Leadership(Protocol):
    def start(self, on_elected: Callable[[], None] | None = None) -> None:
        """Begin; ``on_elected`` runs (on the leadership thread) each time this process becomes leader."""

    def is_leader(self) -> bool: ...

    def stop(self) -> None: ...

    def state(self) -> dict[str, Any]: ...


class AlwaysLeader:
    """TinyDB mode: the database's file lock already guarantees a single process."""

    def __init__(self) -> None:
        self._since: datetime | None = None

    def start(self, on_elected: Callable[[], None] | None = None) -> None:
        self._since = datetime.now(UTC)
        if on_elected is not None:
            on_elected()

    def is_leader(self) -> bool:
        return True

    def stop(self) -> None:
        self._since = None

    def state(self) -> dict[str, Any]:
        return {"leader": True, "leader_since": self._since.isoformat() if self._since else None, "election": "single"}


class AdvisoryLockLeader:
    """Leadership through a PostgreSQL advisory lock keyed by the schema the URL points at."""

    def __init__(self, url: str, *, check_seconds: float = 15.0, name: str = "papers-bot/leader") -> None:
        self.check_seconds = check_seconds
        self._name = name
        self._where = redact_url(url)
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",  # the lock is session-level; no transaction may hold it hostage
            connect_args={"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5},
        )
        self._conn: Connection | None = None
        self._key: int | None = None
        self._leader = False
        self._since: datetime | None = None
        self._on_elected: Callable[[], None] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # check() runs on the thread, stop() on another
        self._thread: threading.Thread | None = None

    def start(self, on_elected: Callable[[], None] | None = None) -> None:
        """Try at once (a lone process leads from its first second), then keep trying in the background."""
        self._on_elected = on_elected
        self.check()
        self._thread = threading.Thread(target=self._loop, name="leader", daemon=True)
        self._thread.start()

    def is_leader(self) -> bool:
        return self._leader

    def state(self) -> dict[str, Any]:
        return {
            "leader": self._leader,
            "leader_since": self._since.isoformat() if self._since else None,
            "election": "postgres-advisory-lock",
        }

    def _loop(self) -> None:
        while not self._stop.wait(self.check_seconds):
            self.check()

    def check(self) -> None:
        """One round: a standby tries to take the lock; the leader makes sure its session is alive."""
        elected = False
        with self._lock:
            if self._stop.is_set():
                return
            try:
                conn = self._connection()
                if self._leader:
                    conn.execute(text("SELECT 1"))
                else:
                    elected = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}))
                    if elected:
                        self._leader, self._since = True, datetime.now(UTC)
                        logger.info("this process is now the scheduler leader (%s)", self._where)
            except SQLAlchemyError as exc:
                self._drop_connection(_first_line(exc))
        if elected and self._on_elected is not None:
            try:
                self._on_elected()
            except Exception:
                logger.exception("the leader's start-up job failed")

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self._engine.connect()
            try:
                # The server side of the keepalives: a vanished leader's session (and lock) ends in ~30 s.
                conn.execute(text("SET tcp_keepalives_idle = 10"))
                conn.execute(text("SET tcp_keepalives_interval = 5"))
                conn.execute(text("SET tcp_keepalives_count = 3"))
                conn.execute(text("SET application_name = 'papers-bot leader'"))
                schema = conn.scalar(text("SELECT current_schema()")) or "public"
            except BaseException:
                conn.close()
                raise
            self._key = _lock_key(f"{self._name}/{schema}")
            self._conn = conn
        return self._conn

    def _drop_connection(self, reason: str) -> None:
        if self._leader:
            logger.error("lost the scheduler leadership (%s); posting stops here until re-elected", reason)
        else:
            logger.warning("leader election could not reach the database (%s); will retry", reason)
        self._leader, self._since = False, None
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except SQLAlchemyError:
                pass
            self._conn = None

    def stop(self) -> None:
        """Release the lock at once (a clean shutdown hands over without waiting for a check)."""
        self._stop.set()
        with self._lock:
            if self._conn is not None:
                try:
                    if self._leader:
                        self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                    self._conn.close()
                except SQLAlchemyError:
                    pass
                self._conn = None
            self._leader, self._since = False, None
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._engine.dispose()


def _first_line(exc: SQLAlchemyError) -> str:
    """psycopg's message without SQLAlchemy's statement and URL dump."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key (PostgreSQL's bigint) for a lock name; Python's hash() is per-process."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def make_leader(settings: Settings) -> Leadership:
    if settings.database_url:
        return AdvisoryLockLeader(settings.database_url, check_seconds=settings.leader_check_seconds)
    return AlwaysLeader()
