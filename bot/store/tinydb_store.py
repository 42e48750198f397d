"""The TinyDB backend of ``Store``: one JSON file, one writer process, crash-safe writes.

TinyDB alone is neither thread-safe nor crash-safe (it rewrites its file in place and keeps no lock;
see research/reliability.md §1), so this module adds the three things it lacks:

* ``AtomicJSONStorage`` writes a whole new file next to the old one and swaps it in with
  ``os.replace``; a crash leaves either the old file or the new one, never a torn mix.
* A ``filelock`` on ``<path>.lock`` keeps a second papers-bot process out; two would post twice.
* One ``RLock`` per store serialises every public method, because Bolt runs listeners on a thread pool
  while the scheduler posts, and each TinyDB operation is an unguarded read-modify-write.

Every public write runs inside a storage *batch*: TinyDB's table methods are used as usual, but their
writes are deferred until the batch ends and then land as one file write, which is how ``finish_run``
changes three tables "all or nothing". We chose the batch over hand-editing the raw dict in
``finish_run`` because then every write path (single- or multi-table) shares one rollback rule: if
anything raises after a change, the in-memory state is dropped and reloaded from the last committed
copy, so a half-done change can never leak into later reads or writes.

Speed (see ``_IncrementalEncoder``): the storage caches the parsed state and the JSON of each
document, so a write re-encodes only what changed; what remains is TinyDB's O(n) table copy and
writing the file itself.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import filelock
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from bot.errors import StoreError, StoreFullError, StoreLockedError
from bot.models import ChannelConfig, PaperRef, PaperWatch, RunRecord, SavedPaper, Signal, Workspace
from bot.store.atomic_file import replace_atomically, temp_prefix
from bot.store.base import SCHEMA_VERSION, TeamState
from bot.store.sqlite_ledger import ChannelKey, PostedLedger, SqliteLedger, ledger_path_for

__all__ = ["MIGRATIONS", "AtomicJSONStorage", "MemoryJSONStorage", "TinyStore"]

logger = logging.getLogger(__name__)

RawData = dict[str, dict[str, dict[str, Any]]]
"""TinyDB's storage shape: table name → str(doc id) → document."""

Migration = Callable[[RawData], None]

_CHANNELS, _META = "channels", "meta"
_V1_RUNS, _V1_POSTED = "runs", "posted"  # schema 1 kept the ledger in the JSON file too
_DATA_TABLES = (_CHANNELS,)


def _drop_v1_ledger(data: RawData) -> None:
    """Schema 1 -> 2: the runs and posted keys moved to the SQLite ledger (copied there first)."""
    data.pop(_V1_RUNS, None)
    data.pop(_V1_POSTED, None)


MIGRATIONS: dict[int, Migration] = {1: _drop_v1_ledger}
"""``MIGRATIONS[n]`` upgrades raw data in place from schema ``n`` to ``n + 1``.

All steps of one upgrade run in one batch, so a crash mid-upgrade leaves the old file intact. Data
that leaves the file (the ledger, at 1 -> 2) is copied to its new home before that write, idempotently,
so a crash between the two simply runs the upgrade again.
"""


_JSON = json.JSONEncoder(separators=(",", ":"))  # compact: the whole file is rewritten on every change


class _IncrementalEncoder:
    """Serialises TinyDB's state re-encoding only the documents that changed since the last write.

    Encoding the whole state dominated the cost of a write (hundreds of ms for 10,000 channels),
    while a write usually changes one document. A document's cached JSON is reused while the
    *same dict object* is still in the table; that is sound only because documents are never
    mutated in place here: ``_ReplaceOnlyTable`` swaps in a new dict on every change, TinyDB's
    ``insert`` copies, and raw-data rewrites (migrations) call ``reset()``. Cache entries hold a
    reference to their document, so an ``is`` check can never match a recycled object id.
    """

    def __init__(self) -> None:
        self._tables: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._docs: dict[str, dict[str, tuple[dict[str, Any], bytes]]] = {}

    def reset(self) -> None:
        self._tables.clear()
        self._docs.clear()

    def encode(self, data: RawData) -> list[bytes]:
        """The file as chunks, so megabytes of unchanged tables are written without being copied."""
        chunks = [b"{"]
        for name, table in data.items():
            if len(chunks) > 1:
                chunks.append(b",")
            chunks += [_JSON.encode(name).encode(), b":{", self._table(name, table), b"}"]
        chunks.append(b"}")
        return chunks

    def _table(self, name: str, table: dict[str, Any]) -> bytes:
        cached = self._tables.get(name)
        if cached is not None and cached[0] is table:
            return cached[1]  # TinyDB gives a table a new dict whenever it changes that table
        old = self._docs.get(name, {})
        docs = {doc_id: self._doc(doc_id, doc, old.get(doc_id)) for doc_id, doc in table.items()}
        body = b",".join([part for _, part in docs.values()])
        self._docs[name], self._tables[name] = docs, (table, body)
        return body

    @staticmethod
    def _doc(
        doc_id: str, doc: dict[str, Any], cached: tuple[dict[str, Any], bytes] | None
    ) -> tuple[dict[str, Any], bytes]:
        if cached is not None and cached[0] is doc:
            return cached
        return doc, f"{_JSON.encode(doc_id)}:{_JSON.encode(doc)}".encode()


def _stored(table: Table, doc_id: int) -> dict[str, Any]:
    """The document an in-memory index points at. The indexes change with the table under one lock,
    so a miss is a bug, reported as a store error rather than a ``None`` passed on."""
    doc = table.get(doc_id=doc_id)
    if doc is None or isinstance(doc, list):
        raise StoreError(f"the database index points at a missing document ({doc_id})")
    return doc


class _ReplaceOnlyTable(Table):
    """A TinyDB table whose documents are replaced, never edited in place.

    ``_IncrementalEncoder`` relies on that, so TinyDB's merging ``update``/``upsert`` (which mutate
    the stored dict) are disabled: using them by mistake fails loudly instead of writing stale JSON.
    """

    def replace(self, doc_id: int, doc: dict[str, Any]) -> None:
        """Swap in a copy of ``doc`` as document ``doc_id`` (which must exist)."""

        def swap(table: dict[int, Any]) -> None:
            if doc_id not in table:
                raise KeyError(f"{self.name} has no document {doc_id}")
            table[doc_id] = dict(doc)

        self._update_table(swap)

    def update(self, *args: Any, **kwargs: Any) -> list[int]:
        raise TypeError("documents are replace-only in TinyStore; use replace()")

    def update_multiple(self, *args: Any, **kwargs: Any) -> list[int]:
        raise TypeError("documents are replace-only in TinyStore; use replace()")

    def upsert(self, *args: Any, **kwargs: Any) -> list[int]:
        raise TypeError("documents are replace-only in TinyStore; use replace()")


class _TinyDB(TinyDB):
    table_class = _ReplaceOnlyTable


class _CachedStorage(Storage):
    """A TinyDB storage that keeps the parsed state in memory and can defer writes into a batch.

    Caching is safe because the process lock makes this process the only writer; it turns every
    read into a dict lookup instead of re-parsing megabytes of JSON. ``read()`` hands TinyDB the
    live cached dict, which TinyDB mutates in place before calling ``write()``; therefore any failed
    write or aborted batch *forgets* the cache so the next read reloads the last committed copy.
    """

    def __init__(self) -> None:
        super().__init__()
        self._data: RawData | None = None
        self._loaded = False
        self._batch_depth = 0
        self._dirty = False
        self._encoder = _IncrementalEncoder()
        self.commits = 0  # completed writes, for tests and diagnostics
        self.rollbacks = 0  # times uncommitted state was dropped; callers rebuild what they derived from it

    def read(self) -> RawData | None:
        if not self._loaded:
            self._data = self._load()
            self._loaded = True
        return self._data

    def write(self, data: RawData) -> None:
        self._data, self._loaded = data, True
        if self._batch_depth:
            self._dirty = True
            return
        self._commit(data)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Defer writes until the outermost batch ends, then commit once; on error, commit nothing.

        A nested batch joins the outer one: only the outermost decides whether to commit.
        """
        outer = self._batch_depth == 0
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            if outer and self._dirty:  # nothing written yet means the cache is still the committed state
                self.forget()
            raise
        finally:
            self._batch_depth -= 1
        if outer and self._dirty:
            self._dirty = False
            self._commit(self._data or {})

    def reset_encoding_cache(self) -> None:
        """Call after mutating documents in place (raw migrations), or stale JSON would be written."""
        self._encoder.reset()

    def forget(self) -> None:
        """Drop uncommitted in-memory state; the next read reloads the last committed copy."""
        self._data, self._loaded, self._dirty = None, False, False
        self.rollbacks += 1

    def _commit(self, data: RawData) -> None:
        try:
            self._save(self._encoder.encode(data))
        except BaseException:
            self.forget()
            raise
        self.commits += 1

    def _load(self) -> RawData | None:
        raise NotImplementedError

    def _save(self, chunks: list[bytes]) -> None:
        raise NotImplementedError


class MemoryJSONStorage(_CachedStorage):
    """In-memory storage for tests and ``preview``: no file, no lock.

    Used instead of TinyDB's ``MemoryStorage`` because it keeps the committed state as JSON text,
    so it rejects unserialisable values and rolls back aborted batches exactly like the file
    storage; tests on the memory store then say something about the real one.
    """

    def __init__(self) -> None:
        super().__init__()
        self._text: str | None = None

    def _load(self) -> RawData | None:
        return None if self._text is None else json.loads(self._text)

    def _save(self, chunks: list[bytes]) -> None:
        self._text = b"".join(chunks).decode()


class AtomicJSONStorage(_CachedStorage):
    """A JSON file replaced atomically on every write (temp file → fsync → ``os.replace`` → fsync dir).

    No file handle stays open between calls, so nothing pins the old inode and nothing can be left
    half-written in place. Only open it while holding the database's process lock: opening deletes
    temp files of this database, which would sabotage another live writer.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self._dir = self.path.parent
        self._tmp_prefix = temp_prefix(self.path)
        self._dir.mkdir(parents=True, exist_ok=True)
        self.remove_stale_temp_files()
        self.read()  # fail at open, not at the first query, when the file is unreadable

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete temp files a killed process left behind; they never hold committed data."""
        removed = []
        for tmp in self._dir.glob(f"{self._tmp_prefix}*.tmp"):
            with suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
        return removed

    def _load(self) -> RawData | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"Cannot read the database {self.path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = "the file is empty" if not raw.strip() else str(exc)
            raise StoreError(
                f"The database {self.path} is not valid JSON ({reason}); it was left untouched. "
                "Restore it from a backup, or move it aside to start with an empty database."
            ) from exc
        _check_shape(self.path, data)
        return data

    def _save(self, chunks: list[bytes]) -> None:
        try:
            self._replace_with(chunks)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreFullError(f"Cannot write the database {self.path}: the disk is full") from exc
            raise StoreError(f"Cannot write the database {self.path}: {exc.strerror or exc}") from exc

    def _replace_with(self, chunks: list[bytes]) -> None:
        replace_atomically(self.path, chunks)


def _check_shape(path: Path, data: Any) -> None:
    """Refuse JSON that is not a TinyDB database rather than misreading someone else's file."""
    tables_ok = isinstance(data, dict) and all(isinstance(t, dict) for t in data.values())
    if not tables_ok or not all(isinstance(d, dict) for t in data.values() for d in t.values()):
        raise StoreError(f"The database {path} is JSON but not a TinyDB database; it was left untouched.")


class TinyStore:
    """``Store`` on a TinyDB JSON file for channel configuration, with the ledger (runs, posted keys,
    ``last_day``) in SQLite beside it (``sqlite_ledger``); both in memory when ``path`` is None.

    The split (schema 2): configuration is small and changes when people change it, so the whole-file
    JSON stays readable and cheap; the ledger grows with every post and must not rewrite the file.
    Lookups go through in-memory indexes ((workspace, channel id) → doc id) built at open and kept in
    step with every write; that is safe because this process is the files' only writer. A channel id
    is unique only within its workspace, so every key starts with the workspace (``team_id``).
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self.path = Path(path) if path is not None else None
        self._file_lock = self._acquire_process_lock(self.path) if self.path is not None else None
        try:
            ledger_path = ledger_path_for(self.path) if self.path is not None else None
            ledger_was_there = ledger_path is not None and ledger_path.exists()
            self._ledger = SqliteLedger(ledger_path)
            self._storage = self._open_storage()
            self._db = _TinyDB(storage=lambda: self._storage)
            self._tables: dict[str, _ReplaceOnlyTable] = {
                name: cast(_ReplaceOnlyTable, self._db.table(name)) for name in (*_DATA_TABLES, _META)
            }
            self._reindex()
            self._schema_version = self._open_schema()
            if self._ledger.upgraded:  # the ledger's rows learn their channel's workspace from the settings
                self._ledger.assign_teams(self._unique_teams())
            if ledger_path is not None and not ledger_was_there and self._channel_ids and self._upgraded_from is None:
                logger.warning(
                    "the ledger %s was missing and has been created empty: papers this bot posted before may be "
                    "posted again. Keep it beside %s (back up both).",
                    ledger_path.name,
                    self.path.name if self.path else "",
                )
        except BaseException:
            if hasattr(self, "_ledger"):
                self._ledger.close()
            self._release_process_lock()
            raise

    # ----- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> TinyStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Every write is already durable, so closing only releases the file and the process lock."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
            self._ledger.close()
            self._release_process_lock()

    @property
    def schema_version(self) -> int:
        return self._schema_version

    def _open_storage(self) -> _CachedStorage:
        if self.path is None:
            return MemoryJSONStorage()
        try:
            return AtomicJSONStorage(self.path)
        except OSError as exc:
            raise StoreError(f"Cannot open the database {self.path}: {exc}") from exc

    @staticmethod
    def _acquire_process_lock(path: Path) -> filelock.BaseFileLock:
        # thread_local=False: close() may run on a different thread (a signal handler's) than open.
        lock = filelock.FileLock(f"{path}.lock", thread_local=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=0)
        except filelock.Timeout as exc:  # before OSError: Timeout is a TimeoutError, hence an OSError
            raise StoreLockedError(
                f"Another papers-bot process is already using {path}; stop it first (running two would post twice)."
            ) from exc
        except OSError as exc:
            raise StoreError(f"Cannot create the lock file for the database {path}: {exc}") from exc
        return lock

    def _release_process_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()

    # ----- schema ----------------------------------------------------------------------------------

    def _open_schema(self) -> int:
        self._upgraded_from: int | None = None
        meta = self._tables[_META].all()
        if not meta:
            return self._init_schema()
        version = meta[0].get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise StoreError(f"The database {self._where()} has an unreadable schema version: {version!r}")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The database {self._where()} was written by a newer papers-bot (schema {version}; "
                f"this one knows {SCHEMA_VERSION}); upgrade papers-bot or restore an older backup."
            )
        if version < SCHEMA_VERSION:
            self._migrate(version)
        return SCHEMA_VERSION

    def _init_schema(self) -> int:
        """Stamp a fresh database; refuse data that carries no version (not ours, or damaged)."""
        data = self._storage.read() or {}
        if any(data.get(name) for name in _DATA_TABLES):
            raise StoreError(f"The database {self._where()} has data but no schema version; left untouched.")
        with self._atomic():
            self._tables[_META].insert({"schema_version": SCHEMA_VERSION})
        return SCHEMA_VERSION

    def _migrate(self, from_version: int) -> None:
        """Upgrade the raw data step by step, all steps and the new version stamp in one write."""
        missing = [v for v in range(from_version, SCHEMA_VERSION) if v not in MIGRATIONS]
        if missing:
            raise StoreError(
                f"The database {self._where()} has schema {from_version}, which this papers-bot "
                "cannot upgrade; left untouched."
            )
        if from_version < 2:
            self._move_v1_ledger()
        with self._atomic():
            data = self._storage.read() or {}
            for version in range(from_version, SCHEMA_VERSION):
                MIGRATIONS[version](data)
            meta = data.setdefault(_META, {})
            meta.clear()
            meta["1"] = {"schema_version": SCHEMA_VERSION}
            self._storage.reset_encoding_cache()  # the steps may have edited documents in place
            self._storage.write(data)
        self._after_raw_change()
        self._upgraded_from = from_version
        runs, posted = self._ledger.counts()
        logger.info(
            "upgraded the database %s from schema %d to %d: %d runs and %d posted papers moved to %s%s",
            self._where(),
            from_version,
            SCHEMA_VERSION,
            runs,
            posted,
            self._ledger.path.name if self._ledger.path else "the in-memory ledger",
            f"; the old file is kept as {self._backup_path(from_version).name}" if self.path else "",
        )

    def _backup_path(self, version: int) -> Path:
        assert self.path is not None
        return self.path.with_name(f"{self.path.name}.schema{version}.bak")

    def _move_v1_ledger(self) -> None:
        """Copy schema 1's runs, posted keys and ``last_day``s into the SQLite ledger (replacing whatever
        an interrupted upgrade left there), after keeping the old file whole as a backup."""
        data = self._storage.read() or {}
        if self.path is not None and self.path.exists():
            replace_atomically(self._backup_path(1), [self.path.read_bytes()])
        try:
            team_of = {doc["channel_id"]: doc.get("team_id") or "" for doc in data.get(_CHANNELS, {}).values()}
            runs = [
                record.replace(team_id=record.team_id or team_of.get(record.channel_id, ""))
                for record in (RunRecord.from_doc(doc) for doc in data.get(_V1_RUNS, {}).values())
            ]
            teams = {doc["channel_id"]: doc.get("team_id") or "" for doc in data.get(_CHANNELS, {}).values()}
            posted: PostedLedger = {
                (teams.get(doc["channel_id"], ""), doc["channel_id"]): {
                    k: date.fromisoformat(d) if d else None for k, d in doc["keys"].items()
                }
                for doc in data.get(_V1_POSTED, {}).values()
            }
            last_days = {
                (doc.get("team_id") or "", doc["channel_id"]): date.fromisoformat(doc["last_day"])
                for doc in data.get(_CHANNELS, {}).values()
                if doc.get("last_day")
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreError(
                f"The database {self._where()} holds a malformed ledger entry ({exc!r}); left untouched."
            ) from None
        self._ledger.replace_all(runs, posted, last_days)

    def _where(self) -> str:
        return str(self.path) if self.path is not None else "(in memory)"

    # ----- transactions and indexes ----------------------------------------------------------------

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """One storage write for everything inside; on error nothing is written and indexes reload."""
        rollbacks = self._storage.rollbacks
        try:
            with self._storage.batch():
                yield
        except BaseException:
            if self._storage.rollbacks != rollbacks:
                self._after_raw_change()
            raise

    def _after_raw_change(self) -> None:
        """TinyDB's query caches and our indexes may describe discarded state: rebuild both."""
        for table in self._tables.values():
            table.clear_cache()
            table._next_id = None  # a discarded insert may have advanced it; recomputed on next insert
        self._reindex()

    def _reindex(self) -> None:
        try:
            self._build_indexes(self._storage.read() or {})
        except (KeyError, TypeError, AttributeError) as exc:
            raise StoreError(f"The database {self._where()} holds a malformed document ({exc!r}).") from exc

    def _build_indexes(self, data: RawData) -> None:
        self._channel_ids: dict[ChannelKey, int] = {
            (d.get("team_id") or "", d["channel_id"]): int(i) for i, d in data.get(_CHANNELS, {}).items()
        }

    def _unique_teams(self) -> dict[str, str]:
        """Channel id -> its workspace, for the channel ids that belong to one workspace only."""
        teams: dict[str, set[str]] = {}
        for team_id, channel_id in self._channel_ids:
            teams.setdefault(channel_id, set()).add(team_id)
        return {channel: next(iter(found)) for channel, found in teams.items() if len(found) == 1}

    @contextmanager
    def _reading(self) -> Iterator[None]:
        with self._lock:
            self._check_open()
            yield

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Lock, then batch: the whole read-modify-write is one step other threads cannot split."""
        with self._lock:
            self._check_open()
            with self._atomic():
                yield

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"The database {self._where()} is closed.")

    # ----- channels --------------------------------------------------------------------------------

    def get_channel(self, channel_id: str, *, team_id: str = "") -> ChannelConfig | None:
        with self._reading():
            doc_id = self._channel_ids.get((team_id, channel_id))
            if doc_id is None:
                return None
            config = ChannelConfig.from_doc(_stored(self._tables[_CHANNELS], doc_id))
            return _with_last_day(config, self._ledger.last_day(channel_id, team_id))

    def channels(self, *, team_id: str | None = None) -> list[ChannelConfig]:
        with self._reading():
            last_days = self._ledger.last_days()
            configs = (ChannelConfig.from_doc(doc) for doc in self._tables[_CHANNELS].all())
            return [
                _with_last_day(c, last_days.get((c.team_id, c.channel_id)))
                for c in configs
                if team_id is None or c.team_id == team_id
            ]

    def update_channel(
        self, channel_id: str, change: Callable[[ChannelConfig], ChannelConfig], *, team_id: str = ""
    ) -> ChannelConfig:
        with self._writing():
            current = self.get_channel(channel_id, team_id=team_id)
            new = change(current or ChannelConfig(channel_id, team_id=team_id))
            if not isinstance(new, ChannelConfig) or (new.team_id, new.channel_id) != (team_id, channel_id):
                raise ValueError(f"update_channel({channel_id!r}): change must return that channel's config")
            if current is not None and new == current:
                return current
            return self._put_channel(new)

    def _put_channel(self, config: ChannelConfig) -> ChannelConfig:
        doc = config.to_doc()
        table = self._tables[_CHANNELS]
        key = (config.team_id, config.channel_id)
        doc_id = self._channel_ids.get(key)
        if doc_id is None:
            self._channel_ids[key] = table.insert(doc)
        else:
            table.replace(doc_id, doc)
        return ChannelConfig.from_doc(doc)

    # ----- the ledger (SQLite; see sqlite_ledger) ----------------------------------------------------

    def posted_keys(self, channel_id: str, *, team_id: str = "") -> set[str]:
        with self._reading():
            return self._ledger.posted_keys(channel_id, team_id)

    def get_run(self, channel_id: str, local_date: date, *, team_id: str = "") -> RunRecord | None:
        with self._reading():
            return self._ledger.get_run(channel_id, local_date, team_id)

    def get_entry(self, channel_id: str, kind: str, period: str, *, team_id: str = "") -> RunRecord | None:
        with self._reading():
            return self._ledger.get_entry(channel_id, kind, period, team_id)

    def get_runs(self, keys: Iterable[tuple[str, date]], *, team_id: str = "") -> dict[tuple[str, date], RunRecord]:
        with self._reading():
            return self._ledger.get_runs(keys, team_id)

    def claim_run(self, record: RunRecord) -> bool:
        with self._reading():
            return self._ledger.claim_run(record)

    def finish_run(self, record: RunRecord) -> None:
        with self._reading():
            key = (record.team_id, record.channel_id)
            doc_id = self._channel_ids.get(key)
            if doc_id is None:  # a channel the settings never had (removed meanwhile): known again, as elsewhere
                with self._atomic():
                    self._put_channel(ChannelConfig(record.channel_id, team_id=record.team_id))
                doc_id = self._channel_ids[key]
            settings = ChannelConfig.from_doc(_stored(self._tables[_CHANNELS], doc_id))
            self._ledger.finish_run(record, fallback_last_day=settings.last_day)

    def fail_run(self, record: RunRecord) -> None:
        with self._reading():
            self._ledger.fail_run(record)

    def runs(self, channel_id: str | None = None, *, team_id: str = "") -> list[RunRecord]:
        with self._reading():
            return self._ledger.runs(channel_id, team_id)

    def open_runs(self, channel_id: str, *, team_id: str = "") -> list[RunRecord]:
        with self._reading():
            return self._ledger.open_runs(channel_id, team_id)

    def prune(self, before: date) -> int:
        with self._reading():
            return self._ledger.prune(before)

    def adopt_unowned(self, team_id: str) -> int:
        """Everything stored without a workspace joins ``team_id`` (single-token mode, at start-up:
        the bot serves one workspace, so records from before workspaces were recorded are its own).
        Settings first (one file write), then the ledger (one transaction); a crash between is
        finished by the next start. Returns how many channels moved."""
        if not team_id:
            return 0
        moved = 0
        with self._writing():
            table = self._tables[_CHANNELS]
            for (team, channel_id), doc_id in list(self._channel_ids.items()):
                if team:
                    continue
                del self._channel_ids[("", channel_id)]
                if (team_id, channel_id) in self._channel_ids:  # the workspace's own record wins
                    table.remove(doc_ids=[doc_id])
                    continue
                doc = {**_stored(table, doc_id), "team_id": team_id}
                table.replace(doc_id, doc)
                self._channel_ids[(team_id, channel_id)] = doc_id
                moved += 1
        with self._reading():
            self._ledger.adopt_unowned(team_id)
        return moved

    # ----- workspaces (issue 15; records in the SQLite ledger) -------------------------------------

    @property
    def ledger_path(self) -> Path | None:
        """The SQLite ledger file (None: in memory); the OAuth installation tables live there too."""
        return self._ledger.path

    def save_workspace(self, workspace: Workspace) -> None:
        with self._reading():
            self._ledger.save_workspace(workspace)

    def get_workspace(self, team_id: str) -> Workspace | None:
        with self._reading():
            return self._ledger.get_workspace(team_id)

    def workspaces(self) -> list[Workspace]:
        with self._reading():
            return self._ledger.workspaces()

    def forget_workspace(self, team_id: str) -> int:
        """Settings first (one file write), then the ledger (one transaction): a crash between leaves
        a ledger without settings, which the next ``forget_workspace`` removes."""
        with self._writing():
            doomed = {key: doc_id for key, doc_id in self._channel_ids.items() if key[0] == team_id}
            if doomed:
                self._tables[_CHANNELS].remove(doc_ids=list(doomed.values()))
                for key in doomed:
                    del self._channel_ids[key]
        with self._reading():
            self._ledger.forget_workspace(team_id)
        return len(doomed)

    # ----- follow-ups in the thread (issue 17; SQLite, see sqlite_ledger) -----------------------------

    def ledger_since(self, kind: str, since: date) -> list[RunRecord]:
        with self._reading():
            return self._ledger.ledger_since(kind, since)

    def paper_watches(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PaperWatch]:
        with self._reading():
            return self._ledger.paper_watches(keys)

    def save_paper_watches(self, watches: Iterable[PaperWatch]) -> None:
        with self._reading():
            self._ledger.save_paper_watches(watches)

    def prune_paper_watches(self, checked_before: date) -> int:
        with self._reading():
            return self._ledger.prune_paper_watches(checked_before)

    def all_paper_watches(self) -> list[PaperWatch]:
        """Every follow-up watch (``migrate-store``)."""
        with self._reading():
            return self._ledger.all_paper_watches()

    # ----- the team layer (issue 16; SQLite, see sqlite_ledger) -------------------------------------

    def save_paper(self, saved: SavedPaper) -> bool:
        with self._reading():
            return self._ledger.save_paper(saved)

    def saved_papers(self, team_id: str, user_id: str) -> list[SavedPaper]:
        with self._reading():
            return self._ledger.saved_papers(team_id, user_id)

    def reading_list(self, team_id: str, user_id: str, *, offset: int, limit: int) -> tuple[list[SavedPaper], int, int]:
        with self._reading():
            return self._ledger.reading_list(team_id, user_id, offset=offset, limit=limit)

    def set_read(self, team_id: str, user_id: str, key: str, read_at: datetime | None) -> bool:
        with self._reading():
            return self._ledger.set_read(team_id, user_id, key, read_at)

    def remove_saved(self, team_id: str, user_id: str, key: str) -> bool:
        with self._reading():
            return self._ledger.remove_saved(team_id, user_id, key)

    def save_counts(self, team_id: str, keys: Iterable[str]) -> dict[str, int]:
        with self._reading():
            return self._ledger.save_counts(team_id, keys)

    def add_signal(self, signal: Signal) -> bool:
        with self._reading():
            return self._ledger.add_signal(signal)

    def remove_signal(self, signal: Signal) -> bool:
        with self._reading():
            return self._ledger.remove_signal(signal)

    def signals(self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None) -> list[Signal]:
        with self._reading():
            return self._ledger.signals(team_id, since=since, channel_ids=channel_ids)

    def signal_counts(
        self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None, per_channel: int = 3
    ) -> list[tuple[str, PaperRef, int]]:
        with self._reading():
            return self._ledger.signal_counts(team_id, since=since, channel_ids=channel_ids, per_channel=per_channel)

    def remember_message(self, team_id: str, channel_id: str, ts: str, paper: PaperRef) -> None:
        with self._reading():
            self._ledger.remember_message(team_id, channel_id, ts, paper)

    def message_paper(self, team_id: str, channel_id: str, ts: str) -> PaperRef | None:
        with self._reading():
            return self._ledger.message_paper(team_id, channel_id, ts)

    def prune_signals(self, before: datetime) -> int:
        with self._reading():
            return self._ledger.prune_signals(before)

    def forget_user(self, team_id: str, user_id: str) -> tuple[int, int]:
        with self._reading():
            return self._ledger.forget_user(team_id, user_id)

    # ----- bulk copy (``migrate-store``) ------------------------------------------------------------

    def posted_ledger(self) -> PostedLedger:
        """Every channel's posted keys with the Hugging Face day each was first posted for."""
        with self._reading():
            return self._ledger.posted_ledger()

    def team_state(self) -> TeamState:
        with self._reading():
            return self._ledger.team_state()

    def import_team(self, state: TeamState) -> None:
        with self._reading():
            self._ledger.import_team(state)

    def import_state(self, channels: list[ChannelConfig], runs: list[RunRecord], posted: PostedLedger) -> None:
        """Load a whole copied state into this empty store: the settings in one file write, the ledger in
        one transaction (settings first: a crash between leaves settings without history, which the
        copy's verification reports)."""
        with self._writing():
            if self._channel_ids or self._ledger.counts() != (0, 0):
                raise StoreError(f"The database {self._where()} is not empty; copy only into an empty one.")
            for config in channels:
                self._put_channel(config)
        last_days = {(c.team_id, c.channel_id): c.last_day for c in channels if c.last_day is not None}
        with self._reading():
            self._ledger.replace_all(runs, posted, last_days)


def _with_last_day(config: ChannelConfig, ledger_day: date | None) -> ChannelConfig:
    """The newer of the settings' ``last_day`` (schema 1, or set by hand) and the ledger's."""
    if ledger_day is None or (config.last_day is not None and config.last_day >= ledger_day):
        return config
    return config.replace(last_day=ledger_day)
