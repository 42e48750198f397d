"""The store's follow-up part (issue 17), on every backend: the ledger read by kind and date, and the
per-workspace paper watches. Plus the embedded ledger's upgrade: a file written before watches existed."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from bot.models import PaperLinks, PaperWatch, RunKind, RunRecord, RunState
from bot.store import Store
from bot.store.sqlite_ledger import ledger_path_for
from bot.store.tinydb_store import TinyStore
from tests.bot.store.conftest import Backend

AT = datetime(2026, 8, 21, 14, 0, tzinfo=UTC)


def digest(channel: str, day: date, keys: tuple[str, ...] = ("2608.00001",), team: str = "T1") -> RunRecord:
    return RunRecord(channel, day, RunState.CLAIMED, f"run-{channel}-{day}", AT, paper_keys=keys, team_id=team)


def follow_up(channel: str, day: date, period: str, team: str = "T1") -> RunRecord:
    return RunRecord(
        channel,
        day,
        RunState.CLAIMED,
        f"fu-{channel}-{period}",
        AT,
        kind=RunKind.FOLLOW_UP,
        period=period,
        team_id=team,
    )


def watch(team: str, key: str, checked: date, **changes: object) -> PaperWatch:
    return PaperWatch(team, key, AT, checked, **changes)  # type: ignore[arg-type]


def test_ledger_since_reads_one_kind_from_a_date_across_channels(any_store: Store) -> None:
    for channel, day in (("C1", date(2026, 8, 1)), ("C1", date(2026, 8, 10)), ("C2", date(2026, 8, 12))):
        any_store.claim_run(digest(channel, day))
    any_store.claim_run(follow_up("C1", date(2026, 8, 12), "2608.00001/code"))

    digests = any_store.ledger_since(RunKind.DIGEST, date(2026, 8, 10))
    assert [(r.channel_id, r.local_date) for r in digests] == [("C1", date(2026, 8, 10)), ("C2", date(2026, 8, 12))]
    assert all(r.kind == RunKind.DIGEST for r in digests)
    [reply] = any_store.ledger_since(RunKind.FOLLOW_UP, date(2026, 8, 1))
    assert reply.period == "2608.00001/code" and reply.channel_id == "C1"
    assert any_store.ledger_since(RunKind.RECAP, date(2026, 1, 1)) == []


def test_a_follow_up_is_claimed_once_per_paper_and_item_beside_the_digests(any_store: Store) -> None:
    day = date(2026, 8, 21)
    assert any_store.claim_run(digest("C1", day))
    assert any_store.claim_run(follow_up("C1", day, "2608.00001/code"))
    assert any_store.claim_run(follow_up("C1", day, "2608.00001/models"))
    assert not any_store.claim_run(follow_up("C1", date(2026, 8, 22), "2608.00001/code"))  # another day: still once
    assert any_store.claim_run(follow_up("C2", day, "2608.00001/code"))  # another channel
    assert any_store.claim_run(follow_up("C1", day, "2608.00001/code", team="T2"))  # another workspace's C1
    stored = any_store.get_entry("C1", RunKind.FOLLOW_UP, "2608.00001/code", team_id="T1")
    assert stored is not None and stored.state == RunState.CLAIMED
    any_store.finish_run(stored.replace(state=RunState.POSTED, ts=("1.2",)))
    told = any_store.get_entry("C1", RunKind.FOLLOW_UP, "2608.00001/code", team_id="T1")
    assert told is not None and told.ts == ("1.2",)
    theirs = any_store.get_entry("C1", RunKind.FOLLOW_UP, "2608.00001/code", team_id="T2")
    assert theirs is not None and theirs.state == RunState.CLAIMED  # T2's C1 is another channel
    assert any_store.get_run("C1", day, team_id="T1").kind == RunKind.DIGEST  # type: ignore[union-attr]


def test_paper_watches_round_trip_per_workspace(backend: Backend) -> None:
    full = watch(
        "T1",
        "2608.00001",
        date(2026, 8, 21),
        links=PaperLinks("https://github.com/o/r", 120, 2, 0, 1),
        baseline=("datasets",),
        appeared=(("code", AT), ("models", AT.replace(hour=15))),
    )
    other_team = watch("T2", "2608.00001", date(2026, 8, 20))
    with backend.open() as store:
        assert store.paper_watches([("T1", "2608.00001")]) == {}
        store.save_paper_watches([full, other_team, watch("T1", "2608.00002", date(2026, 8, 21))])
    with backend.open() as store:
        found = store.paper_watches([("T1", "2608.00001"), ("T2", "2608.00001"), ("T3", "2608.00001")])
        assert found == {("T1", "2608.00001"): full, ("T2", "2608.00001"): other_team}
        assert found[("T1", "2608.00001")].appeared_at("models") == AT.replace(hour=15)
        # Replacing keeps one row per (workspace, paper).
        store.save_paper_watches([full.replace(checked_on=date(2026, 8, 22))])
        again = store.paper_watches([("T1", "2608.00001")])
        assert again[("T1", "2608.00001")].checked_on == date(2026, 8, 22)


def test_many_watches_are_read_in_chunks(any_store: Store) -> None:
    keys = [f"2608.{i:05d}" for i in range(1200)]  # more than one SQL parameter chunk
    any_store.save_paper_watches([watch("T1", k, date(2026, 8, 21)) for k in keys])
    assert len(any_store.paper_watches(("T1", k) for k in keys)) == 1200


def test_prune_drops_only_watches_not_checked_since(any_store: Store) -> None:
    any_store.save_paper_watches(
        [watch("T1", "2607.00001", date(2026, 7, 1)), watch("T1", "2608.00001", date(2026, 8, 21))]
    )
    assert any_store.prune_paper_watches(date(2026, 8, 1)) == 1
    assert set(any_store.paper_watches([("T1", "2607.00001"), ("T1", "2608.00001")])) == {("T1", "2608.00001")}


def test_a_ledger_written_before_follow_ups_existed_opens_and_keeps_its_runs(db_path: Path) -> None:
    """The release before issue 17 created no ``paper_watches`` table; opening its ledger adds it."""
    with TinyStore(db_path) as store:
        store.update_channel("C1", lambda c: c.replace(subscribed=True), team_id="T1")
        store.claim_run(digest("C1", date(2026, 8, 20)))
    with sqlite3.connect(ledger_path_for(db_path)) as conn:
        conn.execute("DROP TABLE paper_watches")  # what the older release left behind
    with TinyStore(db_path) as store:
        assert store.get_run("C1", date(2026, 8, 20), team_id="T1") is not None
        store.save_paper_watches([watch("T1", "2608.00001", date(2026, 8, 21))])
        assert store.paper_watches([("T1", "2608.00001")])
