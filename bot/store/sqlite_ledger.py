"""The embedded store's ledger (runs, posted paper keys, each channel's ``last_day``) in SQLite.

Why not the TinyDB file: TinyDB rewrites and fsyncs its whole file on every write, and the ledger is
what grows: 120 days of runs for 1,000 channels made a 77 MiB file, a 171 ms ``follow`` and ~14
minutes of store work per post run (issue 13). SQLite is in the standard library (no server to
install), writes only the pages a transaction touches, and is crash-safe by design: each method
below is one transaction, so a crash leaves the state of the last one that committed.

Its key is the ledger's, (workspace, channel, kind, period) (``RunRecord``): a digest per local day, a
recap per ISO week, a follow-up per paper; a channel id is unique only within its workspace, so two
workspaces' ``C0123`` never share a day or a posted paper. The file sits beside the TinyDB file (``papers-bot.json`` ->
``papers-bot.ledger.sqlite3``), in WAL mode with ``synchronous=FULL`` (a committed post survives a
power cut, not only a crash). One process owns both files (``TinyStore``'s process lock); threads
share one connection, serialised by a lock, because every call is a few hundred microseconds and
SQLite allows one writer anyway.

The rules a write must obey (claim once, never fail a finished run, ``last_day`` only forward) are
``bot.store.ledger_rules``, shared with the PostgreSQL backend.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from bot.errors import StoreError, StoreFullError
from bot.models import RunKind, RunRecord, RunState, Workspace
from bot.store import ledger_rules as rules

__all__ = ["LEDGER_SUFFIX", "PostedLedger", "SqliteLedger", "ledger_path_for"]

LEDGER_SUFFIX = ".ledger.sqlite3"
# (team, channel) -> paper key -> HF day it was first posted for
PostedLedger = dict[tuple[str, str], dict[str, date | None]]
ChannelKey = tuple[str, str]  # (team id, channel id): a channel id is unique only within its workspace

# Version 1 (PRAGMA user_version): every key starts with the workspace (team id). Files written before
# (version 0) are upgraded in place at open, in one transaction (``_upgrade_to_workspaces``).
LEDGER_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    local_date TEXT NOT NULL,
    open INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (team_id, channel_id, kind, period)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_open ON runs (team_id, channel_id) WHERE open = 1;
CREATE INDEX IF NOT EXISTS runs_by_date ON runs (local_date);
CREATE TABLE IF NOT EXISTS posted (
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    paper_key TEXT NOT NULL,
    day TEXT,
    PRIMARY KEY (team_id, channel_id, paper_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS progress (
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    last_day TEXT NOT NULL,
    PRIMARY KEY (team_id, channel_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workspaces (
    team_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
) WITHOUT ROWID;
"""


def ledger_path_for(db_path: Path) -> Path:
    """``data/papers-bot.json`` -> ``data/papers-bot.ledger.sqlite3``."""
    return db_path.with_name(db_path.stem + LEDGER_SUFFIX)


class SqliteLedger:
    """Runs, posted keys and ``last_day`` per (workspace, channel); ``path=None`` keeps them in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.upgraded = False  # this open moved a version-0 file's rows under their workspaces
        where = str(path) if path is not None else ":memory:"
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(where, isolation_level=None, check_same_thread=False, timeout=30)
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._upgrade_to_workspaces()
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {LEDGER_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the ledger {self._where()}: {exc}") from None

    def _upgrade_to_workspaces(self) -> None:
        """Version 0 -> 1: the workspace joins every key. Runs keep the team they recorded; posted keys
        and progress get "" and take their channel's team from the settings right after
        (``assign_teams``), or the bot's own workspace at start-up (``adopt_unowned``). One
        transaction: a crash leaves the old tables, and the next open upgrades again."""
        conn = self._conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        has_runs = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
        if version >= LEDGER_VERSION or not has_runs:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in ("runs", "posted", "progress"):
                conn.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
            conn.execute("DROP INDEX IF EXISTS runs_open")
            conn.execute("DROP INDEX IF EXISTS runs_by_date")
            for statement in _SCHEMA.split(";"):  # not executescript(): it would commit first
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO runs (team_id, channel_id, kind, period, local_date, open, doc) "
                "SELECT team_id, channel_id, kind, period, local_date, open, doc FROM old_runs"
            )
            conn.execute(
                "INSERT INTO posted (team_id, channel_id, paper_key, day) "
                "SELECT '', channel_id, paper_key, day FROM old_posted"
            )
            conn.execute(
                "INSERT INTO progress (team_id, channel_id, last_day) SELECT '', channel_id, last_day FROM old_progress"
            )
            for table in ("runs", "posted", "progress"):
                conn.execute(f"DROP TABLE old_{table}")
            conn.execute(f"PRAGMA user_version = {LEDGER_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        self.upgraded = True

    def _where(self) -> str:
        return str(self.path) if self.path is not None else "(in memory)"

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction (``BEGIN IMMEDIATE``: the write lock up front, so a read-check-write is one
        step); SQLite failures become ``StoreError``, callers' own errors roll back and pass through."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"The ledger {self._where()} failed: {exc}") from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise _store_error(self._where(), exc) from None
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise StoreError(f"The ledger {self._where()} failed: {exc}") from None

    # ----- reads -----------------------------------------------------------------------------------

    def posted_keys(self, channel_id: str, team_id: str = "") -> set[str]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT paper_key FROM posted WHERE team_id = ? AND channel_id = ?", (team_id, channel_id)
            )
            return {key for (key,) in rows}

    def get_run(self, channel_id: str, local_date: date, team_id: str = "") -> RunRecord | None:
        with self._read() as conn:
            return _stored_run(conn, (team_id, channel_id, RunKind.DIGEST, local_date.isoformat()))

    def get_entry(self, channel_id: str, kind: str, period: str, team_id: str = "") -> RunRecord | None:
        with self._read() as conn:
            return _stored_run(conn, (team_id, channel_id, kind, period))

    def get_runs(self, keys: Iterable[tuple[str, date]], team_id: str = "") -> dict[tuple[str, date], RunRecord]:
        by_period: dict[str, list[str]] = {}
        for channel_id, local_date in keys:
            by_period.setdefault(local_date.isoformat(), []).append(channel_id)
        found: dict[tuple[str, date], RunRecord] = {}
        with self._read() as conn:
            for period, channel_ids in by_period.items():  # a tick spans one or two local dates
                for start in range(0, len(channel_ids), 500):  # SQLite's limit on bound parameters
                    chunk = channel_ids[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = conn.execute(
                        "SELECT doc FROM runs WHERE team_id = ? AND kind = ? AND period = ? "
                        f"AND channel_id IN ({marks})",
                        (team_id, RunKind.DIGEST.value, period, *chunk),
                    )
                    for (doc,) in rows:
                        record = RunRecord.from_doc(json.loads(doc))
                        found[(record.channel_id, record.local_date)] = record
        return found

    def runs(self, channel_id: str | None = None, team_id: str = "") -> list[RunRecord]:
        with self._read() as conn:
            if channel_id is None:
                rows = conn.execute("SELECT doc FROM runs")
            else:
                rows = conn.execute("SELECT doc FROM runs WHERE team_id = ? AND channel_id = ?", (team_id, channel_id))
            records = [RunRecord.from_doc(json.loads(doc)) for (doc,) in rows]
        return sorted(records, key=rules.run_order)

    def open_runs(self, channel_id: str, team_id: str = "") -> list[RunRecord]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT doc FROM runs WHERE team_id = ? AND channel_id = ? AND open = 1 AND kind = ?",
                (team_id, channel_id, RunKind.DIGEST.value),
            )
            records = [RunRecord.from_doc(json.loads(doc)) for (doc,) in rows]
        return sorted(records, key=rules.run_order)

    def last_day(self, channel_id: str, team_id: str = "") -> date | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT last_day FROM progress WHERE team_id = ? AND channel_id = ?", (team_id, channel_id)
            ).fetchone()
        return date.fromisoformat(row[0]) if row else None

    def last_days(self) -> dict[ChannelKey, date]:
        with self._read() as conn:
            rows = conn.execute("SELECT team_id, channel_id, last_day FROM progress")
            return {(t, c): date.fromisoformat(d) for t, c, d in rows}

    def posted_ledger(self) -> PostedLedger:
        ledger: PostedLedger = {}
        with self._read() as conn:
            for team_id, channel_id, key, day in conn.execute("SELECT team_id, channel_id, paper_key, day FROM posted"):
                ledger.setdefault((team_id, channel_id), {})[key] = date.fromisoformat(day) if day else None
        return ledger

    def counts(self) -> tuple[int, int]:
        """(runs, posted keys): for the upgrade's log line and ``migrate-store``'s report."""
        with self._read() as conn:
            runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
            posted = conn.execute("SELECT count(*) FROM posted").fetchone()[0]
        return int(runs), int(posted)

    # ----- writes ----------------------------------------------------------------------------------

    def claim_run(self, record: RunRecord) -> bool:
        rules.require_state(record, "claim_run", RunState.CLAIMED)
        with self._tx() as conn:
            claimed = rules.claimed_again(record, _stored_run(conn, record.key))
            if claimed is None:
                return False
            _put_run(conn, claimed)
            return True

    def finish_run(self, record: RunRecord, *, fallback_last_day: date | None = None) -> None:
        """The run, its posted keys and the channel's ``last_day`` in one transaction.
        ``fallback_last_day``: the channel's ``last_day`` from before the ledger had it (the settings)."""
        rules.require_state(record, "finish_run", RunState.POSTED, RunState.NOTHING)
        with self._tx() as conn:
            stored = _stored_run(conn, record.key)
            _put_run(conn, rules.keep_attempts(record, stored))
            newest = max(record.days) if record.days else None
            where = (record.team_id, record.channel_id)
            if record.state == RunState.POSTED and record.paper_keys:
                stamp = newest.isoformat() if newest else None
                conn.executemany(  # a re-post keeps the day a key was first posted for
                    "INSERT OR IGNORE INTO posted (team_id, channel_id, paper_key, day) VALUES (?, ?, ?, ?)",
                    [(*where, key, stamp) for key in record.paper_keys],
                )
            row = conn.execute("SELECT last_day FROM progress WHERE team_id = ? AND channel_id = ?", where).fetchone()
            current = date.fromisoformat(row[0]) if row else fallback_last_day
            moved = rules.advanced_last_day(current, record)
            if moved is not None:
                conn.execute(
                    "INSERT INTO progress (team_id, channel_id, last_day) VALUES (?, ?, ?) "
                    "ON CONFLICT (team_id, channel_id) DO UPDATE SET last_day = excluded.last_day",
                    (*where, moved.isoformat()),
                )

    def fail_run(self, record: RunRecord) -> None:
        with self._tx() as conn:
            stored = _stored_run(conn, record.key)
            rules.check_may_fail(record, stored)
            _put_run(conn, rules.keep_attempts(record.replace(state=RunState.FAILED), stored))

    def prune(self, before: date) -> int:
        with self._tx() as conn:
            return conn.execute("DELETE FROM runs WHERE local_date < ?", (before.isoformat(),)).rowcount

    def replace_all(self, runs: Iterable[RunRecord], posted: PostedLedger, last_days: dict[ChannelKey, date]) -> None:
        """Make the ledger exactly this, in one transaction (the schema-1 upgrade, which may run again
        after a crash, and ``migrate-store``)."""
        with self._tx() as conn:
            for table in ("runs", "posted", "progress"):
                conn.execute(f"DELETE FROM {table}")
            for record in runs:
                _put_run(conn, record)
            conn.executemany(
                "INSERT INTO posted (team_id, channel_id, paper_key, day) VALUES (?, ?, ?, ?)",
                [(t, c, k, d.isoformat() if d else None) for (t, c), keys in posted.items() for k, d in keys.items()],
            )
            conn.executemany(
                "INSERT INTO progress (team_id, channel_id, last_day) VALUES (?, ?, ?)",
                [(t, c, d.isoformat()) for (t, c), d in last_days.items()],
            )

    def assign_teams(self, teams: dict[str, str]) -> int:
        """Rows without a workspace whose channel id belongs to exactly one known workspace (``teams``:
        channel -> team, from the settings) join it; an existing row of that workspace wins. Returns
        how many rows moved."""
        moved = 0
        with self._tx() as conn:
            for channel_id, team_id in teams.items():
                if team_id:
                    moved += _move_team(conn, "", team_id, channel_id)
        return moved

    def adopt_unowned(self, team_id: str) -> int:
        """Every row without a workspace joins ``team_id`` (single-token mode: there is only one)."""
        with self._tx() as conn:
            return _move_team(conn, "", team_id, None)

    # ----- workspaces (issue 15) --------------------------------------------------------------------

    def save_workspace(self, workspace: Workspace) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO workspaces (team_id, doc) VALUES (?, ?) "
                "ON CONFLICT (team_id) DO UPDATE SET doc = excluded.doc",
                (workspace.team_id, json.dumps(workspace.to_doc(), separators=(",", ":"))),
            )

    def get_workspace(self, team_id: str) -> Workspace | None:
        with self._read() as conn:
            row = conn.execute("SELECT doc FROM workspaces WHERE team_id = ?", (team_id,)).fetchone()
        return Workspace.from_doc(json.loads(row[0])) if row else None

    def workspaces(self) -> list[Workspace]:
        with self._read() as conn:
            rows = conn.execute("SELECT doc FROM workspaces ORDER BY team_id").fetchall()
        return [Workspace.from_doc(json.loads(doc)) for (doc,) in rows]

    def forget_workspace(self, team_id: str) -> None:
        """The workspace's runs, posted keys, progress and record, in one transaction."""
        with self._tx() as conn:
            for table in ("runs", "posted", "progress", "workspaces"):
                conn.execute(f"DELETE FROM {table} WHERE team_id = ?", (team_id,))


def _store_error(where: str, exc: sqlite3.Error) -> StoreError:
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower():  # "database or disk is full"
        return StoreFullError(f"The ledger {where} cannot grow: the disk is full")
    return StoreError(f"The ledger {where} failed: {exc}")


def _stored_run(conn: sqlite3.Connection, key: tuple[str, str, str, str]) -> RunRecord | None:
    row = conn.execute(
        "SELECT doc FROM runs WHERE team_id = ? AND channel_id = ? AND kind = ? AND period = ?", key
    ).fetchone()
    return RunRecord.from_doc(json.loads(row[0])) if row else None


def _put_run(conn: sqlite3.Connection, record: RunRecord) -> None:
    conn.execute(
        "INSERT INTO runs (team_id, channel_id, kind, period, local_date, open, doc) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (team_id, channel_id, kind, period) DO UPDATE SET "
        "local_date = excluded.local_date, open = excluded.open, doc = excluded.doc",
        (
            *record.key,
            record.local_date.isoformat(),
            int(rules.is_open(record)),
            json.dumps(record.to_doc(), separators=(",", ":")),
        ),
    )


def _move_team(conn: sqlite3.Connection, old: str, new: str, channel_id: str | None) -> int:
    """Rows of workspace ``old`` (one channel's, or all) become ``new``'s; where ``new`` already has
    the same key, its row stays and ``old``'s goes. The run documents carry the team too."""
    only = " AND channel_id = ?" if channel_id is not None else ""
    args: tuple[str, ...] = (old, channel_id) if channel_id is not None else (old,)
    moved = 0
    for table in ("runs", "posted", "progress"):
        moved += conn.execute(
            f"UPDATE OR IGNORE {table} SET team_id = ? WHERE team_id = ?{only}", (new, *args)
        ).rowcount
        conn.execute(f"DELETE FROM {table} WHERE team_id = ?{only}", args)
    rows = conn.execute(f"SELECT channel_id, kind, period, doc FROM runs WHERE team_id = ?{only}", (new, *args[1:]))
    for channel, kind, period, doc in rows.fetchall():
        record = json.loads(doc)
        if record.get("team_id") != new:
            record["team_id"] = new
            conn.execute(
                "UPDATE runs SET doc = ? WHERE team_id = ? AND channel_id = ? AND kind = ? AND period = ?",
                (json.dumps(record, separators=(",", ":")), new, channel, kind, period),
            )
    return moved
