"""``python -m bot migrate-store``: copy all state between a TinyDB file and PostgreSQL, then verify.

Why a dedicated copier instead of replaying the ``Store`` methods: ``finish_run`` re-derives the posted
ledger and ``last_day`` from a run, which would lose each posted key's first day and the keys of runs
already pruned. So the copy moves the three collections as they are: channels (in order), runs
(with their states and attempts) and the posted ledger (with days), in one write on either side, into
an empty destination only. Afterwards both stores are read back and compared record by record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config import normalise_database_url, redact_url
from bot.errors import ConfigError, StoreError
from bot.models import ChannelConfig, PaperWatch, RunRecord
from bot.store.base import Store, TeamState
from bot.store.sql_store import SqlStore
from bot.store.sqlite_ledger import PostedLedger
from bot.store.tinydb_store import TinyStore

__all__ = ["CopyReport", "check_locations", "copy_store", "open_any"]


@dataclass(frozen=True)
class CopyReport:
    channels: int
    runs: int
    posted_keys: int
    saved: int = 0
    signals: int = 0

    def __str__(self) -> str:
        return (
            f"{self.channels} channels, {self.runs} runs, {self.posted_keys} posted paper keys, "
            f"{self.saved} saved papers, {self.signals} signals"
        )


def is_url(location: str) -> bool:
    return "://" in location


def describe(location: str) -> str:
    return redact_url(location) if is_url(location) else location


SUPPORTED = (
    "migrate-store copies a TinyDB file into PostgreSQL, PostgreSQL into a new TinyDB file, "
    "or one PostgreSQL database into another"
)


def check_locations(source: str, destination: str) -> None:
    """Refuse, before anything is opened, a copy that cannot be what the operator meant.

    Opening a store creates it: a mistyped ``--from`` path would otherwise become an empty TinyDB
    file (or a URL's empty schema) and the "copy" would succeed with nothing in it. Raises
    ``ConfigError`` with one line that never quotes a password."""
    for option, location in (("--from", source), ("--to", destination)):
        if not location.strip():  # `--to "$DATABASE_URL"` with the variable unset
            raise ConfigError(f"{option} is empty; is DATABASE_URL set in this shell?")
        if _LIBPQ_KEYWORDS.match(location):
            raise ConfigError(f"{option} looks like a key=value connection string; give a postgres:// URL.")
        if is_url(location):
            normalise_database_url(location, option)  # a malformed URL fails here, naming the option
    if not is_url(source) and not is_url(destination):
        raise ConfigError(f"{SUPPORTED}; --from and --to are both files.")
    if is_url(source) and is_url(destination) and _database(source) == _database(destination):
        raise ConfigError(f"--from and --to are the same database ({describe(destination)}); {SUPPORTED}.")
    if not is_url(source) and not Path(source).is_file():
        raise ConfigError(f"--from {source}: no such TinyDB file (nothing was copied or created).")


# ``host=db password=…``: libpq's other spelling, which would otherwise be taken for a file name.
_LIBPQ_KEYWORDS = re.compile(r"\s*(host|hostaddr|port|dbname|user|password|sslmode)\s*=", re.IGNORECASE)


def _database(url: str) -> tuple[object, ...]:
    """What names one database (and schema, via ``options``) whatever the spelling or the password."""
    parts = urlsplit(redact_url(normalise_database_url(url)))
    database = parts.path.strip("/") or (parts.username or "")  # libpq's default database is the user's
    query = sorted(q for q in parts.query.split("&") if q and not q.lower().startswith("password="))
    return ((parts.hostname or "").lower(), parts.port or 5432, database, tuple(query))


def open_any(location: str) -> TinyStore | SqlStore:
    """A PostgreSQL URL (``postgres://…``) opens ``SqlStore``; anything else is a TinyDB file path."""
    if is_url(location):
        return SqlStore(normalise_database_url(location))
    return TinyStore(location)


def copy_store(source: str, destination: str) -> CopyReport:
    """Copy everything from ``source`` to the empty ``destination`` and verify; raises ``StoreError``
    (or ``ConfigError`` for a pair of locations ``check_locations`` refuses)."""
    check_locations(source, destination)
    with open_any(source) as src:
        channels, runs, posted = src.channels(), src.runs(), _posted_ledger(src)
        with open_any(destination) as dst:
            if dst.channels() or dst.runs():
                raise StoreError(f"{describe(destination)} is not empty; copy only into an empty database.")
            _import(dst, channels, runs, posted)
            dst.save_paper_watches(_watches(src))  # follow-up state: a copy must not re-announce or forget
            team = _team(src)
            _team_store(dst).import_team(team)
            _verify(src, dst, describe(destination))
    return CopyReport(
        len(channels), len(runs), sum(len(keys) for keys in posted.values()), len(team.saved), len(team.signals)
    )


def _team_store(store: Store) -> TinyStore | SqlStore:
    assert isinstance(store, SqlStore | TinyStore)
    return store


def _team(store: Store) -> TeamState:
    """The team layer (reading lists, signals, one-paper messages), times in UTC for comparison."""
    state = _team_store(store).team_state()
    return TeamState(
        [s.__class__(s.team_id, s.user_id, s.paper, _utc(s.saved_at), _utc(s.read_at)) for s in state.saved],
        [
            s.__class__(s.team_id, s.channel_id, s.user_id, s.kind, s.paper, _utc(s.at), s.reaction)
            for s in state.signals
        ],
        state.messages,
    )


def _utc(moment: Any) -> Any:
    return moment.astimezone(UTC) if moment is not None else None


def _posted_ledger(store: Store) -> PostedLedger:
    assert isinstance(store, SqlStore | TinyStore)
    return store.posted_ledger()


def _watches(store: Store) -> list[PaperWatch]:
    assert isinstance(store, SqlStore | TinyStore)
    return store.all_paper_watches()


def _import(store: Store, channels: list[ChannelConfig], runs: list[RunRecord], posted: PostedLedger) -> None:
    assert isinstance(store, SqlStore | TinyStore)
    store.import_state(channels, runs, posted)


def _verify(src: Store, dst: Store, where: str) -> None:
    """Read both sides back: any difference means the copy is not trustworthy."""
    ledger = _posted_ledger(src)
    checks: list[tuple[str, object, object, int]] = [
        ("channels", channels := src.channels(), dst.channels(), len(channels)),
        ("runs", runs := src.runs(), dst.runs(), len(runs)),
        ("posted keys", ledger, _posted_ledger(dst), sum(len(keys) for keys in ledger.values())),
        ("follow-up watches", watches := _watches(src), _watches(dst), len(watches)),
        ("reading lists, signals and one-paper messages", team := _team(src), _team(dst), len(team.saved)),
    ]
    for what, expected, actual, count in checks:
        if expected != actual:
            raise StoreError(f"Verification failed: the {what} in {where} differ from the source ({count} expected).")
