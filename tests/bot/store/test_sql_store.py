"""SqlStore specifics: constraints that hold across processes, migrations, errors without passwords."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from bot.errors import StoreError
from bot.models import ChannelConfig, PaperWatch, RunKind, RunRecord, RunState
from bot.store.migrations import head_revision
from bot.store.sql_store import SqlStore

pytestmark = pytest.mark.postgres

D1, D2 = date(2024, 5, 6), date(2024, 5, 7)


def claimed(channel_id: str = "C1", run_id: str = "run-1") -> RunRecord:
    return RunRecord(channel_id, D2, RunState.CLAIMED, run_id, datetime(2024, 5, 7, 9, tzinfo=UTC))


def test_the_ledger_constraints_are_in_the_database(pg_url: str) -> None:
    with SqlStore(pg_url) as store:
        store.claim_run(claimed())
        store.finish_run(claimed().replace(state=RunState.POSTED, days=(D1,), paper_keys=("2405.00001",)))
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        for statement in (
            "INSERT INTO posted (channel_id, paper_key) VALUES ('C1', '2405.00001')",
            "INSERT INTO runs (channel_id, kind, period, local_date, team_id, state, attempts, doc) "
            "VALUES ('C1', 'digest', '2024-05-07', '2024-05-07', '', 'claimed', 1, '{}')",
        ):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_stores_in_racing_processes_claim_each_day_once(pg_url: str) -> None:
    """Separate stores have separate connections, exactly like separate processes."""
    stores = [SqlStore(pg_url, pool_size=2) for _ in range(4)]
    barrier = threading.Barrier(len(stores) * 5)
    wins: list[str] = []
    errors: list[BaseException] = []

    def race(store: SqlStore, n: int) -> None:
        try:
            barrier.wait()
            for channel in ("C1", "C2", "C3"):
                if store.claim_run(claimed(channel, run_id=f"r{n}")):
                    wins.append(channel)
                    store.update_channel(channel, lambda c, n=n: c.replace(filter_text=f"{c.filter_text} w{n}".strip()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(s, i * 10 + j)) for i, s in enumerate(stores) for j in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert sorted(wins) == ["C1", "C2", "C3"]
        assert all(len(stores[0].get_channel(c).filter_text.split()) == 1 for c in ("C1", "C2", "C3"))
    finally:
        for store in stores:
            store.close()


def test_a_failed_run_is_reclaimed_by_only_one_racer(pg_url: str) -> None:
    with SqlStore(pg_url) as first:
        first.claim_run(claimed())
        first.fail_run(claimed())
    stores = [SqlStore(pg_url, pool_size=1) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    results: list[bool] = []

    def race(store: SqlStore, n: int) -> None:
        barrier.wait()
        results.append(store.claim_run(claimed(run_id=f"r{n}")))

    threads = [threading.Thread(target=race, args=(s, n)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(results) == [False] * 5 + [True]
        assert stores[0].get_run("C1", D2).attempts == 2
    finally:
        for store in stores:
            store.close()


def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(5)

    def open_one() -> None:
        try:
            barrier.wait()
            opened.append(SqlStore(pg_url, pool_size=1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in opened:
        store.close()
    assert errors == []
    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
    engine.dispose()


def test_a_schema_0001_ledger_is_upgraded_to_kinds_and_periods(pg_url: str) -> None:
    """Runs written before revision 0002 (keyed by channel and local date) read as digests after it."""
    from alembic import command

    from bot.store.migrations import alembic_config

    engine = create_engine(pg_url, poolclass=NullPool)
    old = claimed()
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        doc = {k: v for k, v in old.to_doc().items() if k not in ("kind", "period", "team_id")}  # 0001's shape
        conn.execute(
            text(
                "INSERT INTO runs (channel_id, local_date, state, attempts, doc) VALUES ('C1', :d, 'claimed', 1, :doc)"
            ),
            {"d": D2, "doc": json.dumps(doc)},
        )
    engine.dispose()
    with SqlStore(pg_url) as store:
        assert store.get_run("C1", D2) == old
        assert store.get_entry("C1", "digest", "2024-05-07") == old
        assert not store.claim_run(claimed(run_id="again"))  # still once per channel and day


def test_a_database_from_a_newer_papers_bot_is_refused(pg_url: str) -> None:
    with SqlStore(pg_url) as store:
        store.update_channel("C1", lambda c: c.replace(subscribed=True))
    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer papers-bot"):
        SqlStore(pg_url)


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as refused:
        SqlStore("postgresql+psycopg://bot:s3cret-pw@127.0.0.1:1/papers")
    message = str(refused.value)
    assert "s3cret-pw" not in message
    assert "bot:***@127.0.0.1:1/papers" in message
    assert "\n" not in message


def test_a_database_failure_mid_use_is_a_store_error(pg_url: str) -> None:
    with SqlStore(pg_url) as store:
        store.update_channel("C1", lambda c: c)
        engine = create_engine(pg_url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE channels CASCADE"))
        engine.dispose()
        with pytest.raises(Exception, match="channels"):
            store.get_channel("C1")


def test_channel_documents_are_jsonb_beside_key_columns(pg_url: str) -> None:
    with SqlStore(pg_url) as store:
        store.update_channel("C1", lambda c: c.replace(filter_text="llm", weekdays=(1,)))
    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.connect() as conn:
        doc = conn.execute(text("SELECT doc FROM channels WHERE channel_id = 'C1'")).scalar_one()
    engine.dispose()
    assert ChannelConfig.from_doc(doc) == ChannelConfig("C1", filter_text="llm", weekdays=(1,))


def test_a_revision_0002_database_keeps_everything_under_each_channels_workspace(pg_url: str) -> None:
    """Channels, runs and posted papers from before workspaces joined the keys (revision 0005) take their
    channel's workspace; what had none stays "" until the bot's workspace adopts it at start-up."""
    from alembic import command

    from bot.store.migrations import alembic_config

    engine = create_engine(pg_url, poolclass=NullPool)
    run = claimed().replace(state=RunState.POSTED, days=(D1,), paper_keys=("2405.00001",))
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        for channel, team in (("C1", "T1"), ("C2", "")):
            conn.execute(
                text("INSERT INTO channels (channel_id, doc) VALUES (:c, :doc)"),
                {"c": channel, "doc": json.dumps(ChannelConfig(channel, team_id=team, subscribed=True).to_doc())},
            )
        doc = {**run.to_doc(), "team_id": ""}  # recorded before the run knew its workspace
        conn.execute(
            text(
                "INSERT INTO runs (channel_id, kind, period, local_date, team_id, state, attempts, doc) "
                "VALUES ('C1', 'digest', :p, :d, '', 'posted', 1, :doc)"
            ),
            {"p": D2.isoformat(), "d": D2, "doc": json.dumps(doc)},
        )
        conn.execute(
            text("INSERT INTO posted (channel_id, paper_key) VALUES ('C1', '2405.00001'), ('C2', '2405.00002')")
        )
    engine.dispose()

    with SqlStore(pg_url) as store:
        one = store.get_channel("C1", team_id="T1")
        assert one is not None and one.subscribed
        assert store.get_run("C1", D2, team_id="T1") == run.replace(team_id="T1")
        assert store.posted_keys("C1", team_id="T1") == {"2405.00001"}
        assert not store.claim_run(claimed().replace(team_id="T1", run_id="again"))  # still once a day
        assert store.get_channel("C2") is not None and store.posted_keys("C2") == {"2405.00002"}
        assert store.adopt_unowned("T1") == 1
        two = store.get_channel("C2", team_id="T1")
        assert two is not None and two.team_id == "T1" and store.posted_keys("C2", team_id="T1") == {"2405.00002"}


def test_a_database_main_wrote_at_revision_0004_keeps_its_team_layer_and_follow_ups_under_0005(pg_url: str) -> None:
    """Main before issue 15 stopped at ``0004_team_layer``: its reading lists, signals, one-paper messages
    and follow-up watches were keyed by workspace already and pass 0005 untouched, beside its channels,
    recaps and posted papers, which gain their channel's workspace."""
    from alembic import command

    from bot.store.migrations import alembic_config

    at = datetime(2026, 8, 21, 9, tzinfo=UTC)
    paper = {"key": "2405.00001", "title": "Saved in main", "authors": ["A. Author"], "upvotes": 3}
    recap = claimed().replace(kind=RunKind.RECAP, period="2026-W34", state=RunState.POSTED, ts=("1.1",))
    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0004_team_layer")
        conn.execute(
            text("INSERT INTO channels (channel_id, doc) VALUES ('C1', :doc)"),
            {"doc": json.dumps(ChannelConfig("C1", team_id="T1", subscribed=True, recap_day=4).to_doc())},
        )
        conn.execute(
            text(
                "INSERT INTO runs (channel_id, kind, period, local_date, team_id, state, attempts, doc) "
                "VALUES ('C1', 'recap', '2026-W34', :d, 'T1', 'posted', 1, :doc)"
            ),
            {"d": D1, "doc": json.dumps({**recap.to_doc(), "team_id": "T1"})},
        )
        conn.execute(text("INSERT INTO posted (channel_id, paper_key) VALUES ('C1', '2405.00001')"))
        conn.execute(
            text("INSERT INTO saved VALUES ('T1', 'U1', '2405.00001', :at, NULL, :p)"),
            {"at": at, "p": json.dumps(paper)},
        )
        conn.execute(
            text("INSERT INTO signals VALUES ('T1', 'C1', '2405.00001', 'U1', 'save', '', :at, :p)"),
            {"at": at, "p": json.dumps(paper)},
        )
        conn.execute(text("INSERT INTO paper_messages VALUES ('T1', 'C1', '1.1', :p)"), {"p": json.dumps(paper)})
        watch = PaperWatch("T1", "2405.00001", at, D1, baseline=("code",))
        conn.execute(
            text("INSERT INTO paper_watches VALUES ('T1', '2405.00001', :d, :doc)"),
            {"d": D1, "doc": json.dumps(watch.to_doc())},
        )
    engine.dispose()

    with SqlStore(pg_url) as store:
        assert store.get_entry("C1", RunKind.RECAP, "2026-W34", team_id="T1") == recap.replace(team_id="T1")
        assert store.posted_keys("C1", team_id="T1") == {"2405.00001"}
        [saved] = store.saved_papers("T1", "U1")
        assert saved.paper.title == "Saved in main" and saved.saved_at == at
        assert [(c, p.key, n) for c, p, n in store.signal_counts("T1", since=at)] == [("C1", "2405.00001", 1)]
        assert store.message_paper("T1", "C1", "1.1") is not None
        assert store.paper_watches([("T1", "2405.00001")]) == {("T1", "2405.00001"): watch}
        assert store.forget_workspace("T1") == 1  # and the purge takes all of it
        assert store.saved_papers("T1", "U1") == [] and store.paper_watches([("T1", "2405.00001")]) == {}
