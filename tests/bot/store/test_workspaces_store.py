"""Workspaces on both backends: their records, forgetting one, and the installations (tokens encrypted
at rest) in slack_sdk's SQLAlchemy stores on the same database."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from bot.models import PaperRef, PaperWatch, RunKind, RunRecord, RunState, SavedPaper, Signal, SignalKind, Workspace
from bot.secret_box import SecretBox
from bot.slack.installations import OAuthStores, open_oauth_stores
from bot.store import Store
from bot.store.scoped import CrossWorkspaceError, TeamStore
from bot.store.tinydb_store import TinyStore
from tests.bot.store.conftest import Backend

KEY = "kM5bT3mQ7cR2vX9wZ1yA4dF6gH8jK0lN2pS4uW6xY8A="
TOKEN_A = "xoxb-1111-aaaa-secret-token-of-workspace-a"
TOKEN_B = "xoxb-2222-bbbb-secret-token-of-workspace-b"
D1 = date(2026, 8, 20)
AT = datetime(2026, 8, 20, 9, 0, tzinfo=UTC)


def installation(team: str, token: str, *, installed_at: float | None = None, **extra: object) -> Installation:
    return Installation(
        app_id="A0001",
        team_id=team,
        team_name=f"Team {team}",
        bot_token=token,
        bot_id=f"B{team}",
        bot_user_id=f"U{team}",
        bot_scopes="commands,chat:write",
        user_id="U0INSTALLER",
        installed_at=installed_at if installed_at is not None else time.time(),
        **extra,  # type: ignore[arg-type]
    )


def oauth_stores(store: Store, keys: tuple[str, ...] = (KEY,)) -> OAuthStores:
    box = SecretBox(keys)
    if isinstance(store, TinyStore):
        return open_oauth_stores("1234.5678", box, sqlite_path=store.ledger_path)
    return open_oauth_stores("1234.5678", box, engine=store.engine)  # type: ignore[attr-defined]


def test_workspace_records_round_trip_and_list_by_team(backend: Backend) -> None:
    store = backend.open()
    store.save_workspace(Workspace("T2", "Beta", installed_at="2026-08-21T09:00:00+00:00"))
    store.save_workspace(Workspace("T1", "Alpha", installed_at="2026-08-20T09:00:00+00:00"))
    store.save_workspace(Workspace("T2", "Beta renamed", installed_at="2026-08-21T09:00:00+00:00"))
    store.close()
    store = backend.open()
    assert [w.team_name for w in store.workspaces()] == ["Alpha", "Beta renamed"]
    assert store.get_workspace("T1") == Workspace("T1", "Alpha", installed_at="2026-08-20T09:00:00+00:00")
    assert store.get_workspace("T9") is None
    store.close()


def _posted_channel(store: Store, team: str, channel: str, paper: str, **settings: object) -> None:
    store.update_channel(channel, lambda c: c.replace(subscribed=True, **settings), team_id=team)
    record = RunRecord(channel, D1, RunState.CLAIMED, f"run-{team}-{channel}", datetime(2026, 8, 20, 9, tzinfo=UTC))
    record = record.replace(team_id=team)
    assert store.claim_run(record)
    store.finish_run(record.replace(state=RunState.POSTED, days=(D1,), paper_keys=(paper,)))


def test_the_same_channel_id_in_two_workspaces_is_two_channels(backend: Backend) -> None:
    store = backend.open()
    _posted_channel(store, "T1", "C1", "2608.00001", filter_text="rlhf")
    _posted_channel(store, "T2", "C1", "2608.00002", filter_text="speech")
    store.close()
    store = backend.open()  # and so it stays after a reopen
    one, two = store.get_channel("C1", team_id="T1"), store.get_channel("C1", team_id="T2")
    assert one is not None and two is not None
    assert (one.team_id, one.filter_text, one.last_day) == ("T1", "rlhf", D1)
    assert (two.team_id, two.filter_text) == ("T2", "speech")
    assert store.posted_keys("C1", team_id="T1") == {"2608.00001"}
    assert store.posted_keys("C1", team_id="T2") == {"2608.00002"}
    run_one, run_two = store.get_run("C1", D1, team_id="T1"), store.get_run("C1", D1, team_id="T2")
    assert run_one is not None and run_two is not None and run_one.run_id != run_two.run_id
    assert sorted(c.team_id for c in store.channels()) == ["T1", "T2"]
    store.close()


def test_forget_workspace_removes_its_channels_runs_and_posted_papers_and_nothing_else(any_store: Store) -> None:
    for team, channel in (("T1", "C1"), ("T1", "C2"), ("T2", "C3"), ("T2", "C1")):
        _posted_channel(any_store, team, channel, f"2608.0000{channel[-1]}")
    any_store.save_workspace(Workspace("T1", "Alpha"))
    any_store.save_workspace(Workspace("T2", "Beta"))

    assert any_store.forget_workspace("T1") == 2

    assert sorted((c.team_id, c.channel_id) for c in any_store.channels()) == [("T2", "C1"), ("T2", "C3")]
    assert any_store.get_channel("C1", team_id="T1") is None and any_store.runs("C1", team_id="T1") == []
    assert any_store.posted_keys("C1", team_id="T1") == set()
    assert any_store.posted_keys("C1", team_id="T2") == {"2608.00001"} and len(any_store.runs("C1", team_id="T2")) == 1
    assert [w.team_id for w in any_store.workspaces()] == ["T2"]
    assert any_store.forget_workspace("T1") == 0  # twice is harmless


def test_records_without_a_workspace_are_adopted_and_the_workspaces_own_win(any_store: Store) -> None:
    _posted_channel(any_store, "", "C1", "2608.00001", filter_text="old")
    _posted_channel(any_store, "", "C2", "2608.00002", filter_text="kept")
    _posted_channel(any_store, "T1", "C1", "2608.00003", filter_text="new")

    assert any_store.adopt_unowned("T1") == 1  # C2; C1 already had the workspace's own record

    assert sorted((c.team_id, c.channel_id, c.filter_text) for c in any_store.channels()) == [
        ("T1", "C1", "new"),
        ("T1", "C2", "kept"),
    ]
    assert any_store.posted_keys("C2", team_id="T1") == {"2608.00002"}
    run = any_store.get_run("C2", D1, team_id="T1")
    assert run is not None and run.team_id == "T1"
    assert any_store.get_run("C2", D1) is None and any_store.posted_keys("C2") == set()
    assert any_store.adopt_unowned("T1") == 0


def test_installations_are_found_by_team_with_their_own_token(any_store: Store) -> None:
    stores = oauth_stores(any_store)
    stores.installations.save(installation("T1", TOKEN_A))
    stores.installations.save(installation("T2", TOKEN_B))

    bot_a = stores.installations.find_bot(enterprise_id=None, team_id="T1")
    bot_b = stores.installations.find_bot(enterprise_id=None, team_id="T2")
    assert bot_a is not None and bot_a.bot_token == TOKEN_A
    assert bot_b is not None and bot_b.bot_token == TOKEN_B
    found = stores.installations.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token == TOKEN_A and found.team_name == "Team T1"

    stores.installations.delete_all(enterprise_id=None, team_id="T1")
    assert stores.installations.find_bot(enterprise_id=None, team_id="T1") is None
    assert stores.installations.find_installation(enterprise_id=None, team_id="T1") is None
    assert stores.installations.find_bot(enterprise_id=None, team_id="T2") is not None


def _raw_token_columns(any_store: Store) -> list[str]:
    """Every token column as the database holds it, read around slack_sdk and our wrapper."""
    queries = [
        "SELECT bot_token, bot_refresh_token, user_token FROM slack_installations",
        "SELECT bot_token, bot_refresh_token, NULL FROM slack_bots",
    ]
    values: list[str] = []
    if isinstance(any_store, TinyStore):
        assert any_store.ledger_path is not None
        with sqlite3.connect(any_store.ledger_path) as conn:
            for query in queries:
                values += [v for row in conn.execute(query) for v in row if v]
        return values
    with any_store.engine.connect() as conn:  # type: ignore[attr-defined]
        for query in queries:
            values += [v for row in conn.execute(text(query)) for v in row if v]
    return values


def test_tokens_are_encrypted_at_rest(any_store: Store) -> None:
    stores = oauth_stores(any_store)
    refresh = "xoxe-1-refresh-token-secret"
    user_token = "xoxp-user-token-secret"
    stores.installations.save(installation("T1", TOKEN_A, bot_refresh_token=refresh, user_token=user_token))

    raw = _raw_token_columns(any_store)
    assert len(raw) == 5  # bot token + refresh token + user token, and the bot row's two
    assert all(value.startswith("fernet:") for value in raw)
    assert not any(secret in value for value in raw for secret in (TOKEN_A, refresh, user_token, "xox"))


def test_a_token_sealed_with_another_key_reads_as_not_installed(
    any_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    oauth_stores(any_store).installations.save(installation("T1", TOKEN_A))
    other = oauth_stores(any_store, keys=(Fernet.generate_key().decode(),))
    assert other.installations.find_bot(enterprise_id=None, team_id="T1") is None
    assert "cannot be decrypted" in caplog.text and "fernet:" not in caplog.text


def test_a_new_key_first_still_opens_tokens_sealed_with_the_old_one(any_store: Store) -> None:
    oauth_stores(any_store).installations.save(installation("T1", TOKEN_A))
    rotated = oauth_stores(any_store, keys=(Fernet.generate_key().decode(), KEY))
    bot = rotated.installations.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == TOKEN_A


def test_the_state_store_accepts_a_state_once(any_store: Store) -> None:
    states = oauth_stores(any_store).states
    state = states.issue()
    assert states.consume(state) is True
    assert states.consume(state) is False  # replayed
    assert states.consume("forged-state") is False


def test_an_in_memory_store_keeps_installations_for_its_lifetime(tmp_path: Path) -> None:
    with TinyStore(None) as store:
        stores = oauth_stores(store)
        stores.installations.save(installation("T1", TOKEN_A))
        bot = stores.installations.find_bot(enterprise_id=None, team_id="T1")
        assert bot is not None and bot.bot_token == TOKEN_A


def test_forgetting_a_workspace_keeps_another_workspaces_channel_settings(any_store: Store) -> None:
    any_store.update_channel("C1", lambda c: c.replace(subscribed=True), team_id="T1")
    any_store.update_channel("C2", lambda c: c.replace(subscribed=True, filter_text="rlhf"), team_id="T2")
    any_store.forget_workspace("T1")
    kept = any_store.get_channel("C2", team_id="T2")
    assert kept is not None and (kept.team_id, kept.subscribed, kept.filter_text) == ("T2", True, "rlhf")


# --- the follow-up state and the team layer (issues 16, 17) belong to their workspace too -------------


def _team_layer(store: Store, team: str, paper: str) -> None:
    ref = PaperRef(paper, f"Paper {paper}")
    store.save_paper(SavedPaper(team, "U1", ref, AT))
    store.add_signal(Signal(team, "C1", "U1", SignalKind.SAVE, ref, AT))
    store.remember_message(team, "C1", "1700000000.000100", ref)
    store.save_paper_watches([PaperWatch(team, paper, AT, AT.date())])


def test_forget_workspace_takes_its_reading_lists_signals_messages_and_watches(any_store: Store) -> None:
    for team, paper in (("T1", "2608.00001"), ("T2", "2608.00002")):
        _posted_channel(any_store, team, "C1", paper)
        _team_layer(any_store, team, paper)

    assert any_store.forget_workspace("T1") == 1

    assert any_store.saved_papers("T1", "U1") == [] and any_store.signals("T1", since=AT) == []
    assert any_store.message_paper("T1", "C1", "1700000000.000100") is None
    assert any_store.paper_watches([("T1", "2608.00001")]) == {}
    assert [s.key for s in any_store.saved_papers("T2", "U1")] == ["2608.00002"]  # the other one keeps all
    assert [s.key for s in any_store.signals("T2", since=AT)] == ["2608.00002"]
    assert any_store.message_paper("T2", "C1", "1700000000.000100") is not None
    assert set(any_store.paper_watches([("T2", "2608.00002")])) == {("T2", "2608.00002")}


def test_team_layer_records_without_a_workspace_are_adopted_and_the_workspaces_own_win(any_store: Store) -> None:
    _team_layer(any_store, "", "2608.00001")
    any_store.save_paper(SavedPaper("T1", "U1", PaperRef("2608.00001", "Mine already"), AT))

    any_store.adopt_unowned("T1")

    [saved] = any_store.saved_papers("T1", "U1")
    assert saved.paper.title == "Mine already" and any_store.saved_papers("", "U1") == []
    assert [s.key for s in any_store.signals("T1", since=AT)] == ["2608.00001"]
    assert any_store.message_paper("T1", "C1", "1700000000.000100") is not None
    watch = any_store.paper_watches([("T1", "2608.00001")])[("T1", "2608.00001")]
    assert watch.team_id == "T1" and any_store.paper_watches([("", "2608.00001")]) == {}


def test_a_workspaces_view_reads_and_writes_only_its_own_team_layer(any_store: Store) -> None:
    """``TeamStore`` (what listeners get from ``Services.for_team``) for issues 16 and 17's methods."""
    mine, theirs = TeamStore(any_store, "T1"), TeamStore(any_store, "T2")
    _team_layer(mine, "", "2608.00001")  # a record without a workspace is the view's
    _team_layer(theirs, "T2", "2608.00002")

    assert [s.team_id for s in any_store.saved_papers("T1", "U1")] == ["T1"]
    assert [s.key for s in mine.saved_papers("T1", "U1")] == ["2608.00001"]
    assert mine.reading_list("T1", "U1", offset=0, limit=5)[1:] == (1, 1)
    assert mine.save_counts("T1", ["2608.00001", "2608.00002"]) == {"2608.00001": 1}
    assert [(c, p.key, n) for c, p, n in mine.signal_counts("T1", since=AT)] == [("C1", "2608.00001", 1)]
    assert set(mine.paper_watches([("T1", "2608.00001")])) == {("T1", "2608.00001")}
    for attempt in (
        lambda: mine.saved_papers("T2", "U1"),
        lambda: mine.save_counts("T2", ["2608.00002"]),
        lambda: mine.signals("T2", since=AT),
        lambda: mine.message_paper("T2", "C1", "1700000000.000100"),
        lambda: mine.set_read("T2", "U1", "2608.00002", AT),
        lambda: mine.remove_saved("T2", "U1", "2608.00002"),
        lambda: mine.forget_user("T2", "U1"),
        lambda: mine.save_paper(SavedPaper("T2", "U9", PaperRef("2608.00009"), AT)),
        lambda: mine.add_signal(Signal("T2", "C1", "U9", SignalKind.SAVE, PaperRef("2608.00009"), AT)),
        lambda: mine.paper_watches([("T2", "2608.00002")]),
        lambda: mine.save_paper_watches([PaperWatch("T2", "2608.00009", AT, AT.date())]),
        lambda: mine.prune_signals(AT),
        lambda: mine.prune_paper_watches(AT.date()),
    ):
        with pytest.raises(CrossWorkspaceError):
            attempt()
    assert [s.key for s in any_store.saved_papers("T2", "U1")] == ["2608.00002"]  # nothing of T2's changed
    assert mine.forget_user("T1", "U1") == (1, 1) and theirs.saved_papers("T2", "U1") != []
    run = RunRecord("C1", D1, RunState.CLAIMED, "r-t2", AT, kind=RunKind.FOLLOW_UP, period="p/code", team_id="T2")
    any_store.claim_run(run)
    assert mine.ledger_since(RunKind.FOLLOW_UP, D1) == [] and len(theirs.ledger_since(RunKind.FOLLOW_UP, D1)) == 1
