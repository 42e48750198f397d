"""The PostgreSQL backend of ``Store`` (SQLAlchemy 2 Core, psycopg 3): state that outlives the disk.

Behaviour is the TinyDB backend's, method for method (the same tests run on both). What differs is
*who* enforces it: TinyDB relies on one process and a lock; here every guarantee is a database
transaction or constraint, so any number of bot processes may share the database:

* ``update_channel`` inserts the channel if missing, then ``SELECT … FOR UPDATE`` locks its row for
  the read-change-write; concurrent changes (threads or processes) queue instead of losing updates.
* ``claim_run`` relies on the primary key (team_id, channel_id, kind, period): two racing processes cannot both
  claim a day. Replacing a FAILED run locks the row first, so only one of them wins that too.
* ``finish_run`` writes the run, the posted keys (primary key (team_id, channel_id, paper_key)) and
  ``last_day`` in one transaction: all of it or none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Float,
    Integer,
    Text,
    cast,
    create_engine,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.config import redact_url
from bot.errors import StoreError
from bot.models import (
    ChannelConfig,
    PaperRef,
    PaperWatch,
    RunKind,
    RunRecord,
    RunState,
    SavedPaper,
    Signal,
    Workspace,
)
from bot.store import ledger_rules as rules
from bot.store.base import SCHEMA_VERSION, TeamState
from bot.store.sql_tables import (
    channels_t,
    paper_messages_t,
    paper_watches_t,
    posted_t,
    runs_t,
    saved_t,
    signals_t,
    workspaces_t,
)
from bot.store.sqlite_ledger import PostedLedger

__all__ = ["SqlStore"]


class SqlStore:
    """``Store`` on PostgreSQL. ``url`` is a SQLAlchemy URL (``postgresql+psycopg://…``).

    The pool is small (at most 15 connections a process; hosted plans allow as few as 20 in all):
    every call holds a connection for a few milliseconds, so Bolt's listener threads and the post
    run's fan-out workers wait briefly for one rather than each holding its own.
    """

    def __init__(self, url: str, *, pool_size: int = 5, max_overflow: int = 10, migrate: bool = True) -> None:
        self.url_redacted = redact_url(url)
        self._closed = False
        try:
            self._engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,  # a server restart must not fail the next command
                pool_timeout=60,
                connect_args={"connect_timeout": 10},
            )
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise StoreError(f"Cannot use the database URL {self.url_redacted}: {exc}") from None
        try:
            if migrate:
                from bot.store.migrations import upgrade

                upgrade(self._engine, self.url_redacted)
            else:
                self._engine.connect().close()
        except OperationalError as exc:
            self._engine.dispose()
            raise StoreError(f"Cannot connect to the database {self.url_redacted}: {_reason(exc)}") from None
        except BaseException:
            self._engine.dispose()
            raise

    # ----- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Every write is committed when its method returns, so closing only returns the connections."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    @property
    def engine(self) -> Engine:
        """The connection pool, shared with slack_sdk's installation and state stores (OAuth mode)."""
        return self._engine

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One transaction; database failures become ``StoreError`` (callers' own errors pass through)."""
        if self._closed:
            raise StoreError(f"The database {self.url_redacted} is closed.")
        try:
            with self._engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreError(f"The database {self.url_redacted} failed: {_reason(exc)}") from None

    # ----- channels --------------------------------------------------------------------------------

    def get_channel(self, channel_id: str, *, team_id: str = "") -> ChannelConfig | None:
        with self._tx() as conn:
            doc = conn.scalar(select(channels_t.c.doc).where(*_channel_key(team_id, channel_id)))
        return None if doc is None else ChannelConfig.from_doc(doc)

    def channels(self, *, team_id: str | None = None) -> list[ChannelConfig]:
        query = select(channels_t.c.doc).order_by(channels_t.c.seq)
        if team_id is not None:
            query = query.where(channels_t.c.team_id == team_id)
        with self._tx() as conn:
            docs = conn.scalars(query).all()
        return [ChannelConfig.from_doc(doc) for doc in docs]

    def update_channel(
        self, channel_id: str, change: Callable[[ChannelConfig], ChannelConfig], *, team_id: str = ""
    ) -> ChannelConfig:
        with self._tx() as conn:
            created = _lock_channel(conn, team_id, channel_id)
            current = None if created else _locked_doc(conn, team_id, channel_id)
            new = change(current or ChannelConfig(channel_id, team_id=team_id))
            if not isinstance(new, ChannelConfig) or (new.team_id, new.channel_id) != (team_id, channel_id):
                raise ValueError(f"update_channel({channel_id!r}): change must return that channel's config")
            if current is not None and new == current:
                return current
            doc = new.to_doc()
            _write_channel(conn, team_id, channel_id, doc)
        return ChannelConfig.from_doc(doc)

    # ----- posted ledger ---------------------------------------------------------------------------

    def posted_keys(self, channel_id: str, *, team_id: str = "") -> set[str]:
        where = posted_t.c.team_id == team_id, posted_t.c.channel_id == channel_id
        with self._tx() as conn:
            return set(conn.scalars(select(posted_t.c.paper_key).where(*where)))

    # ----- runs ------------------------------------------------------------------------------------

    def get_run(self, channel_id: str, local_date: date, *, team_id: str = "") -> RunRecord | None:
        return self.get_entry(channel_id, RunKind.DIGEST, local_date.isoformat(), team_id=team_id)

    def get_entry(self, channel_id: str, kind: str, period: str, *, team_id: str = "") -> RunRecord | None:
        with self._tx() as conn:
            doc = conn.scalar(select(runs_t.c.doc).where(*_run_key((team_id, channel_id, kind, period))))
        return None if doc is None else RunRecord.from_doc(doc)

    def get_runs(self, keys: Iterable[tuple[str, date]], *, team_id: str = "") -> dict[tuple[str, date], RunRecord]:
        wanted = list(
            dict.fromkeys((team_id, channel_id, RunKind.DIGEST.value, day.isoformat()) for channel_id, day in keys)
        )
        if not wanted:
            return {}
        columns = tuple_(runs_t.c.team_id, runs_t.c.channel_id, runs_t.c.kind, runs_t.c.period)
        query = select(runs_t.c.doc).where(columns.in_(wanted))
        with self._tx() as conn:
            records = [RunRecord.from_doc(doc) for doc in conn.scalars(query)]
        return {(r.channel_id, r.local_date): r for r in records}

    def claim_run(self, record: RunRecord) -> bool:
        rules.require_state(record, "claim_run", RunState.CLAIMED)
        with self._tx() as conn:
            inserted = conn.execute(
                insert(runs_t).values(**_run_row(record)).on_conflict_do_nothing().returning(runs_t.c.state)
            ).first()
            if inserted is not None:
                return True
            claimed = rules.claimed_again(record, _locked_run(conn, record.key))
            if claimed is None or claimed is record:  # refused, or the row vanished: never claim blind
                return False
            _write_run(conn, claimed)
            return True

    def finish_run(self, record: RunRecord) -> None:
        rules.require_state(record, "finish_run", RunState.POSTED, RunState.NOTHING)
        with self._tx() as conn:
            stored = _locked_run(conn, record.key)
            _write_run(conn, rules.keep_attempts(record, stored))
            newest = max(record.days) if record.days else None
            if record.state == RunState.POSTED and record.paper_keys:
                rows = [
                    {"team_id": record.team_id, "channel_id": record.channel_id, "paper_key": k, "day": newest}
                    for k in record.paper_keys
                ]
                conn.execute(insert(posted_t).on_conflict_do_nothing(), rows)  # a re-post keeps the first day
            if newest is not None:
                self._advance_last_day(conn, record)

    @staticmethod
    def _advance_last_day(conn: Connection, record: RunRecord) -> None:
        team_id, channel_id = record.team_id, record.channel_id
        created = _lock_channel(conn, team_id, channel_id)
        current = ChannelConfig(channel_id, team_id=team_id) if created else _locked_doc(conn, team_id, channel_id)
        moved = rules.advanced_last_day(current.last_day if current else None, record)
        if current is not None and moved is not None:
            _write_channel(conn, team_id, channel_id, current.replace(last_day=moved).to_doc())

    def fail_run(self, record: RunRecord) -> None:
        with self._tx() as conn:
            stored = _locked_run(conn, record.key)
            rules.check_may_fail(record, stored)
            _write_run(conn, rules.keep_attempts(record.replace(state=RunState.FAILED), stored))

    def runs(self, channel_id: str | None = None, *, team_id: str = "") -> list[RunRecord]:
        query = select(runs_t.c.doc)
        if channel_id is not None:
            query = query.where(runs_t.c.team_id == team_id, runs_t.c.channel_id == channel_id)
        with self._tx() as conn:
            records = [RunRecord.from_doc(doc) for doc in conn.scalars(query)]
        return sorted(records, key=rules.run_order)

    def open_runs(self, channel_id: str, *, team_id: str = "") -> list[RunRecord]:
        owing = runs_t.c.doc["unsent"].astext.notin_(["[]"])  # NULL (no such key) is not owing
        query = select(runs_t.c.doc).where(
            runs_t.c.team_id == team_id,
            runs_t.c.channel_id == channel_id,
            runs_t.c.kind == RunKind.DIGEST.value,
            or_(runs_t.c.state == RunState.CLAIMED.value, owing),
        )
        with self._tx() as conn:
            records = [RunRecord.from_doc(doc) for doc in conn.scalars(query)]
        return sorted(records, key=rules.run_order)

    def prune(self, before: date) -> int:
        with self._tx() as conn:
            return conn.execute(delete(runs_t).where(runs_t.c.local_date < before)).rowcount

    def adopt_unowned(self, team_id: str) -> int:
        """Everything stored without a workspace joins ``team_id`` (single-token mode, at start-up);
        where the workspace already has the same key, its own row stays. One transaction."""
        if not team_id:
            return 0
        with self._tx() as conn:
            mine = select(channels_t.c.channel_id).where(channels_t.c.team_id == team_id)
            conn.execute(delete(channels_t).where(channels_t.c.team_id == "", channels_t.c.channel_id.in_(mine)))
            moved = conn.execute(
                update(channels_t)
                .where(channels_t.c.team_id == "")
                .values(team_id=team_id, doc=_with_team(channels_t.c.doc, team_id))
            ).rowcount
            for table, key in _TEAM_KEYED:
                theirs = table.alias("theirs")
                clash = (
                    select(theirs.c.team_id)
                    .where(theirs.c.team_id == team_id, *(theirs.c[k] == table.c[k] for k in key))
                    .exists()
                )
                conn.execute(delete(table).where(table.c.team_id == "", clash))
                values: dict[str, Any] = {"team_id": team_id}
                if table is runs_t or table is paper_watches_t:  # their documents carry the workspace too
                    values["doc"] = _with_team(table.c.doc, team_id)
                conn.execute(update(table).where(table.c.team_id == "").values(**values))
        return int(moved)

    # ----- workspaces (issue 15) --------------------------------------------------------------------

    def save_workspace(self, workspace: Workspace) -> None:
        statement = insert(workspaces_t).values(team_id=workspace.team_id, doc=workspace.to_doc())
        with self._tx() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[workspaces_t.c.team_id], set_={"doc": statement.excluded.doc}
                )
            )

    def get_workspace(self, team_id: str) -> Workspace | None:
        with self._tx() as conn:
            doc = conn.scalar(select(workspaces_t.c.doc).where(workspaces_t.c.team_id == team_id))
        return None if doc is None else Workspace.from_doc(doc)

    def workspaces(self) -> list[Workspace]:
        with self._tx() as conn:
            docs = conn.scalars(select(workspaces_t.c.doc).order_by(workspaces_t.c.team_id)).all()
        return [Workspace.from_doc(doc) for doc in docs]

    def forget_workspace(self, team_id: str) -> int:
        with self._tx() as conn:
            removed = conn.execute(delete(channels_t).where(channels_t.c.team_id == team_id)).rowcount
            for table, _key in _TEAM_KEYED:
                conn.execute(delete(table).where(table.c.team_id == team_id))
            conn.execute(delete(workspaces_t).where(workspaces_t.c.team_id == team_id))
        return int(removed)

    # ----- follow-ups in the thread (issue 17) ------------------------------------------------------

    def ledger_since(self, kind: str, since: date) -> list[RunRecord]:
        query = select(runs_t.c.doc).where(runs_t.c.local_date >= since, runs_t.c.kind == str(kind))
        with self._tx() as conn:
            records = [RunRecord.from_doc(doc) for doc in conn.scalars(query)]
        return sorted(records, key=rules.run_order)

    def paper_watches(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PaperWatch]:
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], PaperWatch] = {}
        with self._tx() as conn:
            for start in range(0, len(wanted), 1000):
                chunk = wanted[start : start + 1000]
                query = select(paper_watches_t.c.doc).where(
                    tuple_(paper_watches_t.c.team_id, paper_watches_t.c.paper_key).in_(chunk)
                )
                for doc in conn.scalars(query):
                    watch = PaperWatch.from_doc(doc)
                    found[watch.key] = watch
        return found

    def all_paper_watches(self) -> list[PaperWatch]:
        """Every follow-up watch (``migrate-store``)."""
        query = select(paper_watches_t.c.doc).order_by(paper_watches_t.c.team_id, paper_watches_t.c.paper_key)
        with self._tx() as conn:
            return [PaperWatch.from_doc(doc) for doc in conn.scalars(query)]

    def save_paper_watches(self, watches: Iterable[PaperWatch]) -> None:
        rows = [
            {"team_id": w.team_id, "paper_key": w.paper_key, "checked_on": w.checked_on, "doc": w.to_doc()}
            for w in watches
        ]
        if not rows:
            return
        statement = insert(paper_watches_t)
        upsert = statement.on_conflict_do_update(
            index_elements=[paper_watches_t.c.team_id, paper_watches_t.c.paper_key],
            set_={"checked_on": statement.excluded.checked_on, "doc": statement.excluded.doc},
        )
        with self._tx() as conn:
            for start in range(0, len(rows), 1000):
                conn.execute(upsert, rows[start : start + 1000])

    def prune_paper_watches(self, checked_before: date) -> int:
        with self._tx() as conn:
            return conn.execute(delete(paper_watches_t).where(paper_watches_t.c.checked_on < checked_before)).rowcount

    # ----- the team layer (issue 16) ---------------------------------------------------------------

    def save_paper(self, saved: SavedPaper) -> bool:
        row = {
            "team_id": saved.team_id,
            "user_id": saved.user_id,
            "paper_key": saved.key,
            "saved_at": saved.saved_at,
            "read_at": saved.read_at,
            "paper": saved.paper.to_doc(),
        }
        with self._tx() as conn:
            statement = insert(saved_t).values(**row).on_conflict_do_nothing().returning(saved_t.c.paper_key)
            return conn.execute(statement).first() is not None

    def saved_papers(self, team_id: str, user_id: str) -> list[SavedPaper]:
        query = (
            select(saved_t.c.saved_at, saved_t.c.read_at, saved_t.c.paper)
            .where(saved_t.c.team_id == team_id, saved_t.c.user_id == user_id)
            .order_by(saved_t.c.read_at.is_not(None), saved_t.c.saved_at.desc(), saved_t.c.paper_key)
        )
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [SavedPaper(team_id, user_id, PaperRef.from_doc(p), at, read) for at, read, p in rows]

    def reading_list(self, team_id: str, user_id: str, *, offset: int, limit: int) -> tuple[list[SavedPaper], int, int]:
        mine = (saved_t.c.team_id == team_id, saved_t.c.user_id == user_id)
        counts = select(func.count(), func.count() - func.count(saved_t.c.read_at)).where(*mine)
        query = (
            select(saved_t.c.saved_at, saved_t.c.read_at, saved_t.c.paper)
            .where(*mine)
            .order_by(saved_t.c.read_at.is_not(None), saved_t.c.saved_at.desc(), saved_t.c.paper_key)
            .limit(max(0, limit))
            .offset(max(0, offset))
        )
        with self._tx() as conn:
            total, unread = conn.execute(counts).one()
            rows = conn.execute(query).all()
        page = [SavedPaper(team_id, user_id, PaperRef.from_doc(p), at, read) for at, read, p in rows]
        return page, int(total), int(unread)

    def set_read(self, team_id: str, user_id: str, key: str, read_at: datetime | None) -> bool:
        with self._tx() as conn:
            return (
                conn.execute(update(saved_t).where(*_saved_key(team_id, user_id, key)).values(read_at=read_at)).rowcount
                == 1
            )

    def remove_saved(self, team_id: str, user_id: str, key: str) -> bool:
        with self._tx() as conn:
            return conn.execute(delete(saved_t).where(*_saved_key(team_id, user_id, key))).rowcount == 1

    def save_counts(self, team_id: str, keys: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        query = (
            select(saved_t.c.paper_key, func.count())
            .where(saved_t.c.team_id == team_id, saved_t.c.paper_key.in_(wanted))
            .group_by(saved_t.c.paper_key)
        )
        with self._tx() as conn:
            return {key: int(n) for key, n in conn.execute(query).all()}

    def add_signal(self, signal: Signal) -> bool:
        row = {**_signal_row(signal), "at": signal.at, "paper": signal.paper.to_doc()}
        with self._tx() as conn:
            statement = insert(signals_t).values(**row).on_conflict_do_nothing().returning(signals_t.c.paper_key)
            return conn.execute(statement).first() is not None

    def remove_signal(self, signal: Signal) -> bool:
        key = _signal_row(signal)
        with self._tx() as conn:
            return (
                conn.execute(
                    delete(signals_t).where(*(signals_t.c[name] == value for name, value in key.items()))
                ).rowcount
                == 1
            )

    def signals(self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None) -> list[Signal]:
        query = select(
            signals_t.c.channel_id,
            signals_t.c.user_id,
            signals_t.c.kind,
            signals_t.c.reaction,
            signals_t.c.at,
            signals_t.c.paper,
        ).where(signals_t.c.team_id == team_id, signals_t.c.at >= since)
        if channel_ids is not None:
            query = query.where(signals_t.c.channel_id.in_(sorted(set(channel_ids))))
        with self._tx() as conn:
            rows = conn.execute(query).all()
        found = [
            Signal(team_id, channel, user, kind, PaperRef.from_doc(paper), at, reaction)
            for channel, user, kind, reaction, at, paper in rows
        ]
        return sorted(found, key=lambda s: (s.at, s.channel_id, s.key, s.user_id))

    def signal_counts(
        self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None, per_channel: int = 3
    ) -> list[tuple[str, PaperRef, int]]:
        people = func.count(signals_t.c.user_id.distinct())
        upvotes = func.max(signals_t.c.paper["upvotes"].astext.cast(Integer))
        grouped = (
            select(
                signals_t.c.channel_id,
                people.label("people"),
                func.min(signals_t.c.paper.cast(Text)).label("paper"),  # any copy: they are the same paper
                func.row_number()
                .over(
                    partition_by=signals_t.c.channel_id,
                    order_by=(people.desc(), upvotes.desc().nulls_last(), signals_t.c.paper_key),
                )
                .label("rank"),
            )
            .where(signals_t.c.team_id == team_id, signals_t.c.at >= since)
            .group_by(signals_t.c.channel_id, signals_t.c.paper_key)
        )
        if channel_ids is not None:
            grouped = grouped.where(signals_t.c.channel_id.in_(sorted(set(channel_ids))))
        ranked = grouped.subquery()
        query = (
            select(ranked.c.channel_id, ranked.c.people, ranked.c.paper)
            .where(ranked.c.rank <= per_channel)
            .order_by(ranked.c.channel_id, ranked.c.rank)
        )
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [(channel, PaperRef.from_doc(json.loads(doc)), int(n)) for channel, n, doc in rows]

    def remember_message(self, team_id: str, channel_id: str, ts: str, paper: PaperRef) -> None:
        statement = insert(paper_messages_t).values(team_id=team_id, channel_id=channel_id, ts=ts, paper=paper.to_doc())
        with self._tx() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[paper_messages_t.c.team_id, paper_messages_t.c.channel_id, paper_messages_t.c.ts],
                    set_={"paper": statement.excluded.paper},
                )
            )

    def message_paper(self, team_id: str, channel_id: str, ts: str) -> PaperRef | None:
        query = select(paper_messages_t.c.paper).where(
            paper_messages_t.c.team_id == team_id,
            paper_messages_t.c.channel_id == channel_id,
            paper_messages_t.c.ts == ts,
        )
        with self._tx() as conn:
            doc = conn.scalar(query)
        return None if doc is None else PaperRef.from_doc(doc)

    def prune_signals(self, before: datetime) -> int:
        with self._tx() as conn:
            removed = conn.execute(delete(signals_t).where(signals_t.c.at < before)).rowcount
            conn.execute(delete(paper_messages_t).where(paper_messages_t.c.ts.cast(Float) < before.timestamp()))
        return int(removed)

    def forget_user(self, team_id: str, user_id: str) -> tuple[int, int]:
        with self._tx() as conn:
            saves = conn.execute(
                delete(saved_t).where(saved_t.c.team_id == team_id, saved_t.c.user_id == user_id)
            ).rowcount
            signals = conn.execute(
                delete(signals_t).where(signals_t.c.team_id == team_id, signals_t.c.user_id == user_id)
            ).rowcount
        return int(saves), int(signals)

    # ----- bulk copy (``migrate-store``) ------------------------------------------------------------

    def posted_ledger(self) -> PostedLedger:
        """Every channel's posted keys with the Hugging Face day each was first posted for."""
        ledger: PostedLedger = {}
        with self._tx() as conn:
            for team_id, channel_id, key, day in conn.execute(
                select(posted_t.c.team_id, posted_t.c.channel_id, posted_t.c.paper_key, posted_t.c.day)
            ):
                ledger.setdefault((team_id, channel_id), {})[key] = day
        return ledger

    def team_state(self) -> TeamState:
        """Every reading list, signal and one-paper message (``migrate-store``), in a stable order."""
        with self._tx() as conn:
            saved = conn.execute(
                select(
                    saved_t.c.team_id, saved_t.c.user_id, saved_t.c.saved_at, saved_t.c.read_at, saved_t.c.paper
                ).order_by(saved_t.c.team_id, saved_t.c.user_id, saved_t.c.paper_key)
            ).all()
            signals = conn.execute(
                select(
                    signals_t.c.team_id,
                    signals_t.c.channel_id,
                    signals_t.c.user_id,
                    signals_t.c.kind,
                    signals_t.c.reaction,
                    signals_t.c.at,
                    signals_t.c.paper,
                ).order_by(
                    *(signals_t.c[n] for n in ("team_id", "channel_id", "paper_key", "user_id", "kind", "reaction"))
                )
            ).all()
            messages = conn.execute(
                select(paper_messages_t).order_by(
                    paper_messages_t.c.team_id, paper_messages_t.c.channel_id, paper_messages_t.c.ts
                )
            ).all()
        return TeamState(
            [SavedPaper(t, u, PaperRef.from_doc(p), at, r) for t, u, at, r, p in saved],
            [Signal(t, c, u, k, PaperRef.from_doc(p), at, r) for t, c, u, k, r, at, p in signals],
            [(t, c, ts, PaperRef.from_doc(p)) for t, c, ts, p in messages],
        )

    def import_team(self, state: TeamState) -> None:
        """Load a copied team layer in one transaction (``migrate-store``, into an empty database)."""
        with self._tx() as conn:
            if state.saved:
                conn.execute(
                    insert(saved_t),
                    [
                        {
                            "team_id": s.team_id,
                            "user_id": s.user_id,
                            "paper_key": s.key,
                            "saved_at": s.saved_at,
                            "read_at": s.read_at,
                            "paper": s.paper.to_doc(),
                        }
                        for s in state.saved
                    ],
                )
            if state.signals:
                conn.execute(
                    insert(signals_t),
                    [{**_signal_row(s), "at": s.at, "paper": s.paper.to_doc()} for s in state.signals],
                )
            if state.messages:
                conn.execute(
                    insert(paper_messages_t),
                    [{"team_id": t, "channel_id": c, "ts": ts, "paper": p.to_doc()} for t, c, ts, p in state.messages],
                )

    def import_state(self, channels: list[ChannelConfig], runs: list[RunRecord], posted: PostedLedger) -> None:
        """Load a whole copied state into this empty database in one transaction: all of it or none."""
        with self._tx() as conn:
            if conn.scalar(select(func.count()).select_from(channels_t)) or conn.scalar(
                select(func.count()).select_from(runs_t)
            ):
                raise StoreError(f"The database {self.url_redacted} is not empty; copy only into an empty one.")
            for config in channels:  # one by one: ``seq`` must follow the source's order
                conn.execute(
                    insert(channels_t).values(team_id=config.team_id, channel_id=config.channel_id, doc=config.to_doc())
                )
            if runs:
                conn.execute(insert(runs_t), [_run_row(r) for r in runs])
            rows = [
                {"team_id": t, "channel_id": c, "paper_key": k, "day": d}
                for (t, c), keys in posted.items()
                for k, d in keys.items()
            ]
            if rows:
                conn.execute(insert(posted_t), rows)


# ----- statements shared by the methods ---------------------------------------------------------------


# Every table keyed by workspace but ``channels``, with the rest of its key: what ``adopt_unowned`` moves
# and ``forget_workspace`` deletes (the ledger, posted papers, follow-up state and the team layer).
_TEAM_KEYED: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (runs_t, ("channel_id", "kind", "period")),
    (posted_t, ("channel_id", "paper_key")),
    (paper_watches_t, ("paper_key",)),
    (saved_t, ("user_id", "paper_key")),
    (signals_t, ("channel_id", "paper_key", "user_id", "kind", "reaction")),
    (paper_messages_t, ("channel_id", "ts")),
)


def _with_team(doc: Any, team_id: str) -> Any:
    """The JSONB document with its ``team_id`` set (``doc || {"team_id": …}``)."""
    return doc.op("||")(func.jsonb_build_object("team_id", cast(team_id, Text)))


def _channel_key(team_id: str, channel_id: str) -> tuple[Any, Any]:
    return channels_t.c.team_id == team_id, channels_t.c.channel_id == channel_id


def _lock_channel(conn: Connection, team_id: str, channel_id: str) -> bool:
    """Make the row exist (so there is something to lock), then lock it; True when it was just created."""
    created = conn.execute(
        insert(channels_t)
        .values(team_id=team_id, channel_id=channel_id, doc=ChannelConfig(channel_id, team_id=team_id).to_doc())
        .on_conflict_do_nothing()
        .returning(channels_t.c.channel_id)
    ).first()
    if created is None:
        conn.execute(select(channels_t.c.channel_id).where(*_channel_key(team_id, channel_id)).with_for_update())
    return created is not None


def _locked_doc(conn: Connection, team_id: str, channel_id: str) -> ChannelConfig | None:
    doc = conn.scalar(select(channels_t.c.doc).where(*_channel_key(team_id, channel_id)))
    return None if doc is None else ChannelConfig.from_doc(doc)


def _write_channel(conn: Connection, team_id: str, channel_id: str, doc: dict[str, Any]) -> None:
    conn.execute(update(channels_t).where(*_channel_key(team_id, channel_id)).values(doc=doc, updated_at=func.now()))


def _run_key(key: tuple[str, str, str, str]) -> tuple[Any, Any, Any, Any]:
    team_id, channel_id, kind, period = key
    return (
        runs_t.c.team_id == team_id,
        runs_t.c.channel_id == channel_id,
        runs_t.c.kind == kind,
        runs_t.c.period == period,
    )


def _run_row(record: RunRecord) -> dict[str, Any]:
    return {
        "channel_id": record.channel_id,
        "kind": str(record.kind),
        "period": record.period,
        "local_date": record.local_date,
        "team_id": record.team_id,
        "state": str(record.state),
        "attempts": record.attempts,
        "doc": record.to_doc(),
    }


def _locked_run(conn: Connection, key: tuple[str, str, str, str]) -> RunRecord | None:
    doc = conn.scalar(select(runs_t.c.doc).where(*_run_key(key)).with_for_update())
    return None if doc is None else RunRecord.from_doc(doc)


def _write_run(conn: Connection, record: RunRecord) -> None:
    row = _run_row(record)
    statement = insert(runs_t).values(**row)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[runs_t.c.team_id, runs_t.c.channel_id, runs_t.c.kind, runs_t.c.period],
            set_={
                "state": row["state"],
                "attempts": row["attempts"],
                "local_date": row["local_date"],
                "doc": statement.excluded.doc,
            },
        )
    )


def _saved_key(team_id: str, user_id: str, key: str) -> tuple[Any, Any, Any]:
    return saved_t.c.team_id == team_id, saved_t.c.user_id == user_id, saved_t.c.paper_key == key


def _signal_row(signal: Signal) -> dict[str, str]:
    return {
        "team_id": signal.team_id,
        "channel_id": signal.channel_id,
        "paper_key": signal.key,
        "user_id": signal.user_id,
        "kind": str(signal.kind),
        "reaction": signal.reaction,
    }


def _reason(exc: OperationalError) -> str:
    """psycopg's first line (server unreachable, auth failed…); never the URL, which may hold a password."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
