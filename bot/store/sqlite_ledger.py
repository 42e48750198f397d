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
from datetime import UTC, date, datetime
from pathlib import Path

from bot.errors import StoreError, StoreFullError
from bot.models import PaperRef, PaperWatch, RunKind, RunRecord, RunState, SavedPaper, Signal, Workspace
from bot.store import ledger_rules as rules
from bot.store.base import TeamState

__all__ = ["LEDGER_SUFFIX", "PostedLedger", "SqliteLedger", "iso_utc", "ledger_path_for"]

LEDGER_SUFFIX = ".ledger.sqlite3"
# (team, channel) -> paper key -> HF day it was first posted for
PostedLedger = dict[tuple[str, str], dict[str, date | None]]
ChannelKey = tuple[str, str]  # (team id, channel id): a channel id is unique only within its workspace

# The layout's version (PRAGMA user_version). Each number has meant one layout only, and a file of any of
# them is brought to the current one when opened (``_upgrade_to_workspaces``, then ``IF NOT EXISTS``):
#   0  the first ledger (issue 13): runs, posted and progress keyed by channel; releases with follow-ups
#      (issue 17) added ``paper_watches`` to it without a new number.
#   1  workspace keys (issue 15 before it was merged): every key starts with the team id; ``workspaces``.
#   2  the team layer (issue 16): version 0's tables plus ``saved``, ``signals`` and ``paper_messages``.
#   3  all of them: version 1's keys, ``paper_watches`` and the team layer.
# Versions 0 and 2 have channel-keyed tables, so their rows move under their workspaces (one transaction);
# 1 and 2 lack some tables, which are added empty. A file from a newer release is refused, not guessed at.
LEDGER_VERSION = 3
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
CREATE TABLE IF NOT EXISTS paper_watches (
    team_id TEXT NOT NULL,
    paper_key TEXT NOT NULL,
    checked_on TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (team_id, paper_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS paper_watches_by_check ON paper_watches (checked_on);
"""
# ``paper_watches`` (follow-ups, issue 17) arrived after the first release of this file. ``IF NOT EXISTS``
# is its upgrade path: a ledger written by an older release gains the empty table when opened, and an
# older release opening a newer ledger never reads it. No version stamp is needed for an added table.

# The team layer (issue 16): reading lists, signals and the bot's one-paper messages. Appended to the
# ledger file because they grow with use like the ledger does. ``IF NOT EXISTS`` is the upgrade: a
# ledger written before them gets the empty tables on its next open, and nothing else changes.
# Times are ISO-8601 UTC text of one fixed width, so text order is time order.
_TEAM_SCHEMA = """
CREATE TABLE IF NOT EXISTS saved (
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    paper_key TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    read_at TEXT,
    paper TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id, paper_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS saved_by_paper ON saved (team_id, paper_key);
CREATE TABLE IF NOT EXISTS signals (
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    paper_key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reaction TEXT NOT NULL,
    at TEXT NOT NULL,
    paper TEXT NOT NULL,
    PRIMARY KEY (team_id, channel_id, paper_key, user_id, kind, reaction)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS signals_by_time ON signals (team_id, at);
CREATE INDEX IF NOT EXISTS signals_by_user ON signals (team_id, user_id);
CREATE TABLE IF NOT EXISTS paper_messages (
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    ts TEXT NOT NULL,
    paper TEXT NOT NULL,
    PRIMARY KEY (team_id, channel_id, ts)
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
        self.upgraded = False  # this open moved a channel-keyed file's rows under their workspaces
        where = str(path) if path is not None else ":memory:"
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(where, isolation_level=None, check_same_thread=False, timeout=30)
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._upgrade_to_workspaces()
            self._conn.executescript(_SCHEMA + _TEAM_SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {LEDGER_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the ledger {self._where()}: {exc}") from None

    def _upgrade_to_workspaces(self) -> None:
        """Versions 0 and 2 -> 3: the workspace joins every ledger key. Runs keep the team they recorded;
        posted keys and progress get "" and take their channel's team from the settings right after
        (``assign_teams``), or the bot's own workspace at start-up (``adopt_unowned``). The other tables
        (follow-up watches, the team layer) already key by workspace and stay as they are. One
        transaction: a crash leaves the old tables, and the next open upgrades again."""
        conn = self._conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > LEDGER_VERSION:
            raise sqlite3.DatabaseError(
                f"its layout (version {version}) is newer than this release's ({LEDGER_VERSION}); "
                "run a newer papers-bot"
            )
        columns = conn.execute("PRAGMA table_info(runs)").fetchall()  # (cid, name, type, notnull, default, pk)
        if not columns or any(name == "team_id" and pk for _cid, name, _type, _nn, _default, pk in columns):
            return  # a new file, or runs already keyed by workspace (versions 1 and 3)
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

    def ledger_since(self, kind: str, since: date) -> list[RunRecord]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT doc FROM runs WHERE local_date >= ? AND kind = ?", (since.isoformat(), str(kind))
            )
            records = [RunRecord.from_doc(json.loads(doc)) for (doc,) in rows]
        return sorted(records, key=rules.run_order)

    def paper_watches(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PaperWatch]:
        by_team: dict[str, list[str]] = {}
        for team_id, paper_key in dict.fromkeys(keys):
            by_team.setdefault(team_id, []).append(paper_key)
        found: dict[tuple[str, str], PaperWatch] = {}
        with self._read() as conn:
            for team_id, paper_keys in by_team.items():
                for start in range(0, len(paper_keys), 500):  # SQLite's limit on bound parameters
                    chunk = paper_keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = conn.execute(
                        f"SELECT doc FROM paper_watches WHERE team_id = ? AND paper_key IN ({marks})",
                        (team_id, *chunk),
                    )
                    for (doc,) in rows:
                        watch = PaperWatch.from_doc(json.loads(doc))
                        found[watch.key] = watch
        return found

    def all_paper_watches(self) -> list[PaperWatch]:
        """Every watch (``migrate-store``)."""
        with self._read() as conn:
            rows = conn.execute("SELECT doc FROM paper_watches ORDER BY team_id, paper_key")
            return [PaperWatch.from_doc(json.loads(doc)) for (doc,) in rows]

    def save_paper_watches(self, watches: Iterable[PaperWatch]) -> None:
        rows = [
            (w.team_id, w.paper_key, w.checked_on.isoformat(), json.dumps(w.to_doc(), separators=(",", ":")))
            for w in watches
        ]
        if not rows:
            return
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO paper_watches (team_id, paper_key, checked_on, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (team_id, paper_key) DO UPDATE SET checked_on = excluded.checked_on, doc = excluded.doc",
                rows,
            )

    def prune_paper_watches(self, checked_before: date) -> int:
        with self._tx() as conn:
            return conn.execute(
                "DELETE FROM paper_watches WHERE checked_on < ?", (checked_before.isoformat(),)
            ).rowcount

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
        """The workspace's runs, posted keys, progress, follow-up watches, reading lists, signals,
        one-paper messages and record, in one transaction."""
        with self._tx() as conn:
            for table in (*_CHANNEL_TABLES, *_TEAM_TABLES, "workspaces"):
                conn.execute(f"DELETE FROM {table} WHERE team_id = ?", (team_id,))

    # ----- the team layer (issue 16) ---------------------------------------------------------------

    def save_paper(self, saved: SavedPaper) -> bool:
        with self._tx() as conn:
            return (
                conn.execute(
                    "INSERT OR IGNORE INTO saved (team_id, user_id, paper_key, saved_at, read_at, paper) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        saved.team_id,
                        saved.user_id,
                        saved.key,
                        iso_utc(saved.saved_at),
                        iso_utc(saved.read_at) if saved.read_at else None,
                        _paper_json(saved.paper),
                    ),
                ).rowcount
                == 1
            )

    def saved_papers(self, team_id: str, user_id: str) -> list[SavedPaper]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT saved_at, read_at, paper FROM saved WHERE team_id = ? AND user_id = ? "
                "ORDER BY read_at IS NOT NULL, saved_at DESC, paper_key",
                (team_id, user_id),
            ).fetchall()
        return [
            SavedPaper(team_id, user_id, _paper(paper), _time(saved_at), _time(read_at) if read_at else None)
            for saved_at, read_at, paper in rows
        ]

    def reading_list(self, team_id: str, user_id: str, *, offset: int, limit: int) -> tuple[list[SavedPaper], int, int]:
        with self._read() as conn:
            total, unread = conn.execute(
                "SELECT count(*), count(*) - count(read_at) FROM saved WHERE team_id = ? AND user_id = ?",
                (team_id, user_id),
            ).fetchone()
            rows = conn.execute(
                "SELECT saved_at, read_at, paper FROM saved WHERE team_id = ? AND user_id = ? "
                "ORDER BY read_at IS NOT NULL, saved_at DESC, paper_key LIMIT ? OFFSET ?",
                (team_id, user_id, max(0, limit), max(0, offset)),
            ).fetchall()
        page = [
            SavedPaper(team_id, user_id, _paper(paper), _time(saved_at), _time(read_at) if read_at else None)
            for saved_at, read_at, paper in rows
        ]
        return page, int(total), int(unread)

    def set_read(self, team_id: str, user_id: str, key: str, read_at: datetime | None) -> bool:
        with self._tx() as conn:
            return (
                conn.execute(
                    "UPDATE saved SET read_at = ? WHERE team_id = ? AND user_id = ? AND paper_key = ?",
                    (iso_utc(read_at) if read_at else None, team_id, user_id, key),
                ).rowcount
                == 1
            )

    def remove_saved(self, team_id: str, user_id: str, key: str) -> bool:
        with self._tx() as conn:
            return (
                conn.execute(
                    "DELETE FROM saved WHERE team_id = ? AND user_id = ? AND paper_key = ?", (team_id, user_id, key)
                ).rowcount
                == 1
            )

    def save_counts(self, team_id: str, keys: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(keys))
        counts: dict[str, int] = {}
        with self._read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT paper_key, count(*) FROM saved WHERE team_id = ? AND paper_key IN ({marks}) "
                    "GROUP BY paper_key",
                    (team_id, *chunk),
                )
                counts.update({key: int(n) for key, n in rows})
        return counts

    def add_signal(self, signal: Signal) -> bool:
        with self._tx() as conn:
            return (
                conn.execute(
                    "INSERT OR IGNORE INTO signals (team_id, channel_id, paper_key, user_id, kind, reaction, at, "
                    "paper) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*_signal_key(signal), iso_utc(signal.at), _paper_json(signal.paper)),
                ).rowcount
                == 1
            )

    def remove_signal(self, signal: Signal) -> bool:
        with self._tx() as conn:
            return (
                conn.execute(
                    "DELETE FROM signals WHERE team_id = ? AND channel_id = ? AND paper_key = ? AND user_id = ? "
                    "AND kind = ? AND reaction = ?",
                    _signal_key(signal),
                ).rowcount
                == 1
            )

    def signals(self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None) -> list[Signal]:
        query = "SELECT channel_id, user_id, kind, reaction, at, paper FROM signals WHERE team_id = ? AND at >= ?"
        params: list[str] = [team_id, iso_utc(since)]
        found: list[Signal] = []
        with self._read() as conn:
            if channel_ids is None:
                rows = conn.execute(query + " ORDER BY at", params).fetchall()
            else:
                wanted = sorted(set(channel_ids))
                rows = []
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows += conn.execute(f"{query} AND channel_id IN ({marks})", [*params, *chunk]).fetchall()
        for channel_id, user_id, kind, reaction, at, paper in rows:
            found.append(Signal(team_id, channel_id, user_id, kind, _paper(paper), _time(at), reaction))
        return sorted(found, key=lambda s: (s.at, s.channel_id, s.key, s.user_id))

    def signal_counts(
        self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None, per_channel: int = 3
    ) -> list[tuple[str, PaperRef, int]]:
        where = "team_id = ? AND at >= ?"
        params: list[object] = [team_id, iso_utc(since)]
        chunks: list[list[str]] = [[]]
        if channel_ids is not None:
            wanted = sorted(set(channel_ids))
            chunks = [wanted[start : start + 500] for start in range(0, len(wanted), 500)]
        rows: list[tuple[str, int, str]] = []
        with self._read() as conn:
            for chunk in chunks:
                if channel_ids is not None and not chunk:
                    continue
                condition = where + (f" AND channel_id IN ({','.join('?' * len(chunk))})" if chunk else "")
                rows += conn.execute(
                    "SELECT channel_id, people, paper FROM ("
                    " SELECT channel_id, count(DISTINCT user_id) AS people, max(paper) AS paper, row_number() OVER ("
                    "  PARTITION BY channel_id ORDER BY count(DISTINCT user_id) DESC,"
                    "  max(json_extract(paper, '$.upvotes')) DESC, paper_key) AS rank"
                    f" FROM signals WHERE {condition} GROUP BY channel_id, paper_key"
                    ") WHERE rank <= ? ORDER BY channel_id, rank",
                    [*params, *chunk, per_channel],
                ).fetchall()
        return [(channel, _paper(paper), int(people)) for channel, people, paper in rows]

    def remember_message(self, team_id: str, channel_id: str, ts: str, paper: PaperRef) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO paper_messages (team_id, channel_id, ts, paper) VALUES (?, ?, ?, ?)",
                (team_id, channel_id, ts, _paper_json(paper)),
            )

    def message_paper(self, team_id: str, channel_id: str, ts: str) -> PaperRef | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT paper FROM paper_messages WHERE team_id = ? AND channel_id = ? AND ts = ?",
                (team_id, channel_id, ts),
            ).fetchone()
        return _paper(row[0]) if row else None

    def prune_signals(self, before: datetime) -> int:
        with self._tx() as conn:
            removed = conn.execute("DELETE FROM signals WHERE at < ?", (iso_utc(before),)).rowcount
            conn.execute("DELETE FROM paper_messages WHERE CAST(ts AS REAL) < ?", (before.timestamp(),))
        return int(removed)

    def forget_user(self, team_id: str, user_id: str) -> tuple[int, int]:
        with self._tx() as conn:
            saves = conn.execute("DELETE FROM saved WHERE team_id = ? AND user_id = ?", (team_id, user_id)).rowcount
            signals = conn.execute("DELETE FROM signals WHERE team_id = ? AND user_id = ?", (team_id, user_id)).rowcount
        return int(saves), int(signals)

    def team_state(self) -> TeamState:
        """Every reading list, signal and one-paper message (``migrate-store``), in a stable order."""
        with self._read() as conn:
            saved = conn.execute(
                "SELECT team_id, user_id, saved_at, read_at, paper FROM saved ORDER BY team_id, user_id, paper_key"
            ).fetchall()
            signals = conn.execute(
                "SELECT team_id, channel_id, user_id, kind, reaction, at, paper FROM signals "
                "ORDER BY team_id, channel_id, paper_key, user_id, kind, reaction"
            ).fetchall()
            messages = conn.execute(
                "SELECT team_id, channel_id, ts, paper FROM paper_messages ORDER BY team_id, channel_id, ts"
            ).fetchall()
        return TeamState(
            [SavedPaper(t, u, _paper(p), _time(at), _time(r) if r else None) for t, u, at, r, p in saved],
            [Signal(t, c, u, k, _paper(p), _time(at), r) for t, c, u, k, r, at, p in signals],
            [(t, c, ts, _paper(p)) for t, c, ts, p in messages],
        )

    def import_team(self, state: TeamState) -> None:
        """Load a copied team layer in one transaction (``migrate-store``, into an empty store)."""
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO saved (team_id, user_id, paper_key, saved_at, read_at, paper) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        s.team_id,
                        s.user_id,
                        s.key,
                        iso_utc(s.saved_at),
                        iso_utc(s.read_at) if s.read_at else None,
                        _paper_json(s.paper),
                    )
                    for s in state.saved
                ],
            )
            conn.executemany(
                "INSERT INTO signals (team_id, channel_id, paper_key, user_id, kind, reaction, at, paper) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*_signal_key(s), iso_utc(s.at), _paper_json(s.paper)) for s in state.signals],
            )
            conn.executemany(
                "INSERT INTO paper_messages (team_id, channel_id, ts, paper) VALUES (?, ?, ?, ?)",
                [(t, c, ts, _paper_json(p)) for t, c, ts, p in state.messages],
            )


def iso_utc(moment: datetime) -> str:
    """One fixed-width text form, so that text order is time order (``2026-08-21T09:00:00.000000+00:00``)."""
    if moment.tzinfo is None:
        raise ValueError("the team layer stores aware datetimes only")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _paper_json(paper: PaperRef) -> str:
    return json.dumps(paper.to_doc(), separators=(",", ":"), ensure_ascii=False)


def _paper(text: str) -> PaperRef:
    return PaperRef.from_doc(json.loads(text))


def _signal_key(signal: Signal) -> tuple[str, str, str, str, str, str]:
    return (
        signal.team_id,
        signal.channel_id,
        signal.key,
        signal.user_id,
        str(signal.kind),
        signal.reaction,
    )


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


# The tables keyed by (workspace, channel, …), which a channel's move takes along, and those keyed by
# workspace without a channel (or, for signals and one-paper messages, recorded with the workspace the
# request named), which move only when everything without a workspace is adopted.
_CHANNEL_TABLES = ("runs", "posted", "progress")
_TEAM_TABLES = ("paper_watches", "saved", "signals", "paper_messages")


def _move_team(conn: sqlite3.Connection, old: str, new: str, channel_id: str | None) -> int:
    """Rows of workspace ``old`` (one channel's, or all) become ``new``'s; where ``new`` already has
    the same key, its row stays and ``old``'s goes. The run and watch documents carry the team too.
    Returns how many ledger rows (runs, posted keys, progress) moved."""
    only = " AND channel_id = ?" if channel_id is not None else ""
    args: tuple[str, ...] = (old, channel_id) if channel_id is not None else (old,)
    moved = 0
    for table in (*_CHANNEL_TABLES, *(_TEAM_TABLES if channel_id is None else ())):
        changed = conn.execute(f"UPDATE OR IGNORE {table} SET team_id = ? WHERE team_id = ?{only}", (new, *args))
        moved += changed.rowcount if table in _CHANNEL_TABLES else 0
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
    if channel_id is None:
        watches = conn.execute("SELECT paper_key, doc FROM paper_watches WHERE team_id = ?", (new,)).fetchall()
        for paper_key, doc in watches:
            watch = json.loads(doc)
            if watch.get("team_id") != new:
                watch["team_id"] = new
                conn.execute(
                    "UPDATE paper_watches SET doc = ? WHERE team_id = ? AND paper_key = ?",
                    (json.dumps(watch, separators=(",", ":")), new, paper_key),
                )
    return moved
