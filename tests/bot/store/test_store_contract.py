"""The ``Store`` contract, run on every backend: TinyDB and PostgreSQL must behave identically.

Backend-specific matters (TinyDB's file and process lock, PostgreSQL's migrations and cross-process
races) live in ``test_tinydb_store.py`` and ``test_sql_store.py``.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.errors import StoreError
from bot.models import ChannelConfig, FilterChange, RunKind, RunRecord, RunState
from bot.store import Store
from bot.store.base import SCHEMA_VERSION
from tests.bot.store.conftest import Backend

D1, D2, D3 = date(2024, 5, 6), date(2024, 5, 7), date(2024, 5, 8)

FULL_CONFIG = ChannelConfig(
    channel_id="C1",
    team_id="T1",
    subscribed=True,
    paused_reason="is_archived",
    post_time="07:30",
    timezone="Asia/Kolkata",
    weekdays=(0, 2, 4),
    max_papers=3,
    min_upvotes=5,
    filter_text='"diffusion" OR llm ünïcode 📚',
    post_format="compact",
    last_day=D1,
    active_since="2024-05-01T00:00:00+00:00",
    subscribed_by="U1",
    created_at="2024-05-01T00:00:00+00:00",
    updated_at="2024-05-02T00:00:00+00:00",
    history=(FilterChange("U1", "2024-05-01T00:00:00+00:00", "set: llm"),),
)


def claimed(channel_id: str = "C1", local_date: date = D2, run_id: str = "run-1", **changes: Any) -> RunRecord:
    record = RunRecord(channel_id, local_date, RunState.CLAIMED, run_id, datetime(2024, 5, 7, 9, 0, tzinfo=UTC))
    return record.replace(**changes)


def posted(record: RunRecord, days: tuple[date, ...], keys: tuple[str, ...]) -> RunRecord:
    return record.replace(state=RunState.POSTED, days=days, paper_keys=keys, ts=("1715072400.000100",))


def subscribe(store: Store, channel_id: str = "C1", **changes: Any) -> ChannelConfig:
    return store.update_channel(channel_id, lambda c: c.replace(subscribed=True, **changes))


def test_everything_round_trips_through_a_reopen(backend: Backend) -> None:
    record = posted(claimed(), (D1, D2), ("2405.00001", "2405.00002"))
    record = record.replace(team_id="T1")
    with backend.open() as store:
        assert store.update_channel("C1", lambda _: FULL_CONFIG, team_id="T1") == FULL_CONFIG
        assert store.claim_run(claimed(team_id="T1"))
        store.finish_run(record)
        assert store.schema_version == SCHEMA_VERSION

    with backend.open() as reopened:
        assert reopened.get_channel("C1", team_id="T1") == FULL_CONFIG.replace(last_day=D2)
        assert reopened.channels() == [FULL_CONFIG.replace(last_day=D2)]
        assert reopened.channels(team_id="T1") == [FULL_CONFIG.replace(last_day=D2)]
        assert reopened.channels(team_id="T2") == [] and reopened.get_channel("C1") is None
        assert reopened.get_run("C1", D2, team_id="T1") == record
        assert reopened.runs() == [record]
        assert reopened.posted_keys("C1", team_id="T1") == {"2405.00001", "2405.00002"}


def test_unknown_things_read_as_empty(any_store: Store) -> None:
    assert any_store.get_channel("C404") is None
    assert any_store.get_run("C404", D1) is None
    assert any_store.posted_keys("C404") == set()
    assert any_store.runs("C404") == []
    assert any_store.channels() == []


def test_channels_are_listed_in_creation_order(any_store: Store) -> None:
    for channel_id in ("C9", "C1", "C5"):
        subscribe(any_store, channel_id)
    subscribe(any_store, "C1", max_papers=2)  # an update keeps the place
    assert [c.channel_id for c in any_store.channels()] == ["C9", "C1", "C5"]


# ----- update_channel -----------------------------------------------------------------------------


def test_update_channel_creates_a_missing_channel_from_defaults(any_store: Store) -> None:
    seen: list[ChannelConfig] = []

    def change(config: ChannelConfig) -> ChannelConfig:
        seen.append(config)
        return config.replace(subscribed=True, subscribed_by="U1")

    stored = any_store.update_channel("C1", change)
    assert seen == [ChannelConfig("C1")]
    assert stored == ChannelConfig("C1", subscribed=True, subscribed_by="U1")
    assert any_store.get_channel("C1") == stored


def test_update_channel_applies_each_change_to_the_stored_config(any_store: Store) -> None:
    subscribe(any_store, max_papers=4)
    any_store.update_channel("C1", lambda c: c.replace(max_papers=c.max_papers + 1))
    stored = any_store.update_channel("C1", lambda c: c.replace(filter_text="llm"))
    assert stored == ChannelConfig("C1", subscribed=True, max_papers=5, filter_text="llm")
    assert any_store.get_channel("C1") == stored
    assert len(any_store.channels()) == 1


def test_update_channel_returns_the_stored_form(any_store: Store) -> None:
    stored = any_store.update_channel("C1", lambda c: c.replace(weekdays=[1, 2]))
    assert stored.weekdays == (1, 2)
    assert any_store.get_channel("C1") == stored


def test_a_raising_change_writes_nothing(any_store: Store) -> None:
    subscribe(any_store, filter_text="llm")

    def boom(config: ChannelConfig) -> ChannelConfig:
        raise RuntimeError("user typed nonsense")

    with pytest.raises(RuntimeError, match="nonsense"):
        any_store.update_channel("C1", boom)
    with pytest.raises(RuntimeError):
        any_store.update_channel("C2", boom)
    assert any_store.get_channel("C1").filter_text == "llm"
    assert any_store.get_channel("C2") is None
    assert [c.channel_id for c in any_store.channels()] == ["C1"]


def test_change_must_return_the_same_channel(any_store: Store) -> None:
    with pytest.raises(ValueError, match="C1"):
        any_store.update_channel("C1", lambda c: ChannelConfig("C2"))
    assert any_store.channels() == []


def test_an_unchanged_config_is_returned_as_stored(any_store: Store) -> None:
    subscribe(any_store)
    assert any_store.update_channel("C1", lambda c: c) == any_store.get_channel("C1")


# ----- the run ledger -----------------------------------------------------------------------------


@pytest.mark.parametrize("state", [RunState.CLAIMED, RunState.POSTED, RunState.NOTHING])
def test_a_run_that_did_not_fail_cannot_be_claimed_again(any_store: Store, state: str) -> None:
    assert any_store.claim_run(claimed())
    if state != RunState.CLAIMED:
        any_store.finish_run(claimed().replace(state=state))
    assert not any_store.claim_run(claimed(run_id="run-2"))
    assert any_store.get_run("C1", D2).run_id == "run-1"
    assert any_store.get_run("C1", D2).state == state


def test_the_same_channel_can_claim_another_date_and_another_channel_the_same_date(any_store: Store) -> None:
    assert any_store.claim_run(claimed())
    assert any_store.claim_run(claimed(local_date=D3))
    assert any_store.claim_run(claimed(channel_id="C2"))
    assert len(any_store.runs()) == 3


def test_a_failed_run_is_replaced_and_attempts_count_up(any_store: Store) -> None:
    assert any_store.claim_run(claimed())
    any_store.fail_run(claimed(error="ratelimited"))
    assert any_store.get_run("C1", D2).state == RunState.FAILED
    assert any_store.get_run("C1", D2).error == "ratelimited"

    assert any_store.claim_run(claimed(run_id="run-2"))
    assert any_store.get_run("C1", D2).run_id == "run-2"
    assert any_store.get_run("C1", D2).attempts == 2

    any_store.fail_run(claimed(run_id="run-2"))  # the caller's record still says attempts=1
    assert any_store.get_run("C1", D2).attempts == 2
    assert any_store.claim_run(claimed(run_id="run-3"))
    any_store.finish_run(posted(claimed(run_id="run-3"), (D1,), ("2405.00001",)))

    final = any_store.get_run("C1", D2)
    assert (final.state, final.run_id, final.attempts) == (RunState.POSTED, "run-3", 3)
    assert len(any_store.runs("C1")) == 1


def test_finish_run_adds_posted_keys_and_advances_last_day(any_store: Store) -> None:
    subscribe(any_store, last_day=D1)
    any_store.claim_run(claimed())
    any_store.finish_run(posted(claimed(), (D2, D1), ("2405.00001", "2405.00002")))
    assert any_store.posted_keys("C1") == {"2405.00001", "2405.00002"}
    assert any_store.get_channel("C1").last_day == D2
    assert any_store.get_channel("C1").subscribed  # the rest of the channel is kept


def test_finish_run_of_an_unknown_channel_creates_it(any_store: Store) -> None:
    any_store.claim_run(claimed("C7"))
    any_store.finish_run(posted(claimed("C7"), (D1,), ("a",)))
    assert any_store.get_channel("C7") == ChannelConfig("C7", last_day=D1)


def test_posted_keys_accumulate(any_store: Store) -> None:
    any_store.claim_run(claimed(local_date=D2))
    any_store.finish_run(posted(claimed(local_date=D2), (D1,), ("a",)))
    any_store.claim_run(claimed(local_date=D3))
    any_store.finish_run(posted(claimed(local_date=D3), (D2,), ("a", "b")))
    assert any_store.posted_keys("C1") == {"a", "b"}
    assert any_store.posted_keys("C2") == set()


def test_last_day_never_moves_backwards(any_store: Store) -> None:
    subscribe(any_store, last_day=D3)
    any_store.claim_run(claimed())
    any_store.finish_run(posted(claimed(), (D1, D2), ("late",)))
    assert any_store.get_channel("C1").last_day == D3
    assert "late" in any_store.posted_keys("C1")


def test_a_run_with_nothing_to_post_advances_last_day_but_adds_no_keys(any_store: Store) -> None:
    any_store.claim_run(claimed())
    any_store.finish_run(claimed().replace(state=RunState.NOTHING, days=(D1,)))
    assert any_store.get_run("C1", D2).state == RunState.NOTHING
    assert any_store.posted_keys("C1") == set()
    assert any_store.get_channel("C1").last_day == D1


def test_run_methods_refuse_records_in_the_wrong_state(any_store: Store) -> None:
    with pytest.raises(ValueError):
        any_store.claim_run(claimed().replace(state=RunState.POSTED))
    with pytest.raises(ValueError):
        any_store.finish_run(claimed())
    assert any_store.runs() == []


def test_a_finished_run_cannot_be_marked_failed(any_store: Store) -> None:
    any_store.claim_run(claimed())
    any_store.finish_run(posted(claimed(), (D1,), ("a",)))
    with pytest.raises(ValueError, match="already finished"):
        any_store.fail_run(claimed(error="late error"))
    assert any_store.get_run("C1", D2).state == RunState.POSTED
    assert not any_store.claim_run(claimed(run_id="run-2"))


def test_runs_are_listed_oldest_first_and_per_channel(any_store: Store) -> None:
    for channel_id, day in [("C2", D3), ("C1", D3), ("C1", D1), ("C2", D2)]:
        any_store.claim_run(claimed(channel_id=channel_id, local_date=day))
    assert [(r.channel_id, r.local_date) for r in any_store.runs()] == [("C1", D1), ("C2", D2), ("C1", D3), ("C2", D3)]
    assert [r.local_date for r in any_store.runs("C2")] == [D2, D3]


def test_get_runs_reads_many_channel_days_at_once(any_store: Store) -> None:
    for channel in ("C1", "C2", "C3"):
        any_store.claim_run(claimed(channel, D2))
    any_store.claim_run(claimed("C1", D3))
    any_store.finish_run(posted(claimed("C2", D2), (D1,), ("a",)))

    found = any_store.get_runs([("C1", D2), ("C2", D2), ("C1", D3), ("C4", D2), ("C3", D1)])
    assert sorted(found) == [("C1", D2), ("C1", D3), ("C2", D2)]  # unknown pairs are simply absent
    assert found[("C2", D2)] == any_store.get_run("C2", D2) and found[("C2", D2)].state == RunState.POSTED
    assert any_store.get_runs([]) == {}
    many = any_store.get_runs([(f"C{i}", D2) for i in range(1, 1200)])  # past SQLite's parameter limit
    assert sorted(many) == [("C1", D2), ("C2", D2), ("C3", D2)]


def test_open_runs_are_the_claims_and_the_digests_owing_a_continuation(any_store: Store) -> None:
    D4 = date(2024, 5, 9)
    any_store.claim_run(claimed(local_date=D1, run_id="done"))
    any_store.finish_run(posted(claimed(local_date=D1, run_id="done"), (D1,), ("2405.00001",)))
    any_store.claim_run(claimed(local_date=D2, run_id="cut-short"))
    cut_short = posted(claimed(local_date=D2, run_id="cut-short"), (D2,), ("2405.00002",))
    any_store.finish_run(cut_short.replace(unsent=("2405.00003",)))
    any_store.claim_run(claimed(local_date=D3, run_id="refused"))
    any_store.fail_run(claimed(local_date=D3, run_id="refused").replace(state=RunState.FAILED))
    any_store.claim_run(claimed(local_date=D4, run_id="in-flight"))
    any_store.claim_run(claimed(channel_id="C2", local_date=D4, run_id="elsewhere"))

    open_runs = any_store.open_runs("C1")
    assert [r.run_id for r in open_runs] == ["cut-short", "in-flight"]
    assert open_runs[0].unsent == ("2405.00003",)
    assert any_store.open_runs("C3") == []


def test_prune_drops_old_runs_but_keeps_posted_keys(backend: Backend) -> None:
    with backend.open() as store:
        for day in (D1, D2, D3):
            store.claim_run(claimed(local_date=day))
            store.finish_run(posted(claimed(local_date=day), (day,), (f"k-{day}",)))
        assert store.prune(D3) == 2
        assert store.prune(D3) == 0
        assert [r.local_date for r in store.runs()] == [D3]
        assert store.get_run("C1", D1) is None
        assert len(store.posted_keys("C1")) == 3
        assert store.claim_run(claimed(local_date=D1))
    with backend.open() as reopened:
        assert [r.local_date for r in reopened.runs()] == [D1, D3]


def test_a_closed_store_refuses_calls_and_close_is_idempotent(backend: Backend) -> None:
    store = backend.open()
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_channel("C1")


# ----- threads -----------------------------------------------------------------------------------


def test_fifty_threads_updating_one_channel_lose_nothing(any_store: Store) -> None:
    threads_n = 50
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def add(n: int) -> None:
        def change(config: ChannelConfig) -> ChannelConfig:
            entry = FilterChange(f"U{n}", "2024-05-07T09:00:00+00:00", f"added t{n}")
            return config.replace(filter_text=f"{config.filter_text} t{n}".strip(), history=(*config.history, entry))

        try:
            barrier.wait()
            any_store.update_channel("C1", change)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    expected = {f"t{n}" for n in range(threads_n)}
    assert errors == []
    stored = any_store.get_channel("C1")
    assert set(stored.filter_text.split()) == expected
    assert {h.summary.removeprefix("added ") for h in stored.history} == expected


def test_threads_mixing_every_operation_keep_the_ledger_consistent(any_store: Store) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            channel_id = f"C{n % 5}"
            subscribe(any_store, channel_id)
            record = claimed(channel_id, D2, run_id=f"r{n}")
            if any_store.claim_run(record):
                any_store.finish_run(posted(record, (D1,), (f"k{n}",)))
            any_store.posted_keys(channel_id)
            any_store.runs()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    runs = any_store.runs()
    assert sorted(r.channel_id for r in runs) == [f"C{i}" for i in range(5)]  # exactly one claim won each
    for run in runs:
        assert run.state == RunState.POSTED
        assert any_store.posted_keys(run.channel_id) == set(run.paper_keys)


def test_each_kind_of_post_is_claimed_once_per_period_beside_the_digest(any_store: Store) -> None:
    digest = claimed("C1", D2, team_id="T1")
    recap = claimed("C1", D2, run_id="recap-1", kind=RunKind.RECAP, period="2024-W19", team_id="T1")
    follow_up = claimed("C1", D2, run_id="fu-1", kind=RunKind.FOLLOW_UP, period="2405.00001", team_id="T1")
    assert any_store.claim_run(digest) and any_store.claim_run(recap) and any_store.claim_run(follow_up)
    assert not any_store.claim_run(recap.replace(run_id="recap-2"))  # once per week
    assert any_store.claim_run(recap.replace(run_id="recap-3", period="2024-W20", local_date=D3))
    any_store.finish_run(recap.replace(state=RunState.POSTED, ts=("1.2",)))

    assert any_store.get_run("C1", D2, team_id="T1") == digest  # the digest is untouched by the other kinds
    stored = any_store.get_entry("C1", RunKind.RECAP, "2024-W19", team_id="T1")
    assert stored is not None and (stored.state, stored.team_id, stored.run_id) == (RunState.POSTED, "T1", "recap-1")
    assert any_store.get_entry("C1", RunKind.FOLLOW_UP, "2405.00001", team_id="T1") == follow_up
    assert any_store.get_entry("C1", RunKind.RECAP, "2024-W21", team_id="T1") is None
    assert sorted((r.kind, r.period) for r in any_store.runs("C1", team_id="T1")) == [
        ("digest", "2024-05-07"),
        ("follow-up", "2405.00001"),
        ("recap", "2024-W19"),
        ("recap", "2024-W20"),
    ]
    assert any_store.get_runs([("C1", D2)], team_id="T1") == {("C1", D2): digest}
    assert any_store.get_runs([("C1", D2)]) == {}  # another workspace's C1 has nothing


def test_a_run_of_another_kind_needs_a_period() -> None:
    with pytest.raises(ValueError, match="needs a period"):
        claimed("C1", D2, kind=RunKind.RECAP)
