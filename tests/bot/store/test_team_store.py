"""The team layer of the ``Store`` contract (issue 16), on every backend: reading lists, signals, the
bot's one-paper messages, forgetting a person, and workspaces kept apart."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from bot.models import PaperRef, SavedPaper, Signal, SignalKind
from bot.store import Store
from tests.bot.store.conftest import Backend

T0 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
PAPER = PaperRef("2608.00100", "Speculative decoding", ("Ada Lovelace", "Alan Turing"), date(2026, 8, 19), None, 12)


def paper(n: int) -> PaperRef:
    return PaperRef(f"2608.{n:05d}", f"Paper {n}", ("Grace Hopper",), date(2026, 8, 19), date(2026, 8, 20), n)


def saved(n: int, *, user: str = "U1", team: str = "T1", at: datetime = T0) -> SavedPaper:
    return SavedPaper(team, user, paper(n), at)


def signal(
    n: int,
    user: str = "U1",
    *,
    kind: str = SignalKind.SAVE,
    channel: str = "C1",
    team: str = "T1",
    at: datetime = T0,
    reaction: str = "",
) -> Signal:
    return Signal(team, channel, user, kind, paper(n), at, reaction)


def test_a_reading_list_keeps_everything_unread_first_newest_first_across_a_reopen(backend: Backend) -> None:
    with backend.open() as store:
        for n in range(1, 5):
            assert store.save_paper(saved(n, at=T0 + timedelta(minutes=n)))
        assert store.save_paper(SavedPaper("T1", "U1", PAPER, T0 - timedelta(days=1)))
        assert not store.save_paper(saved(1, at=T0 + timedelta(hours=5)))  # already there: nothing changes
        assert store.set_read("T1", "U1", "2608.00004", T0 + timedelta(hours=1))
        assert not store.set_read("T1", "U1", "2608.09999", T0)
    with backend.open() as store:
        listed = store.saved_papers("T1", "U1")
        assert [s.key for s in listed] == ["2608.00003", "2608.00002", "2608.00001", "2608.00100", "2608.00004"]
        assert listed[2].saved_at == T0 + timedelta(minutes=1) and listed[2].unread  # the first save stands
        assert listed[4].read_at == T0 + timedelta(hours=1) and not listed[4].unread
        whole = next(s for s in store.saved_papers("T1", "U1") if s.key == PAPER.key)
        assert whole.paper == PAPER  # title, authors in order, dates, upvotes
        assert store.set_read("T1", "U1", "2608.00004", None)
        assert store.saved_papers("T1", "U1")[0].key == "2608.00004"
        assert store.remove_saved("T1", "U1", "2608.00002") and not store.remove_saved("T1", "U1", "2608.00002")
        assert [s.key for s in store.saved_papers("T1", "U1")].count("2608.00002") == 0


def test_save_counts_count_people_of_the_workspace_only(any_store: Store) -> None:
    for user in ("U1", "U2", "U3"):
        any_store.save_paper(saved(1, user=user))
    any_store.save_paper(saved(2, user="U1"))
    any_store.save_paper(saved(1, user="U9", team="T2"))  # another workspace
    assert any_store.save_counts("T1", ["2608.00001", "2608.00002", "2608.00003"]) == {
        "2608.00001": 3,
        "2608.00002": 1,
    }
    assert any_store.save_counts("T2", ["2608.00001"]) == {"2608.00001": 1}
    assert any_store.save_counts("T1", []) == {}
    assert any_store.saved_papers("T2", "U1") == []


def test_a_signal_counts_once_however_often_it_is_toggled(any_store: Store) -> None:
    thumbs = signal(1, "U2", kind=SignalKind.REACTION, reaction="+1")
    assert any_store.add_signal(thumbs)
    assert not any_store.add_signal(thumbs)  # the same reaction again
    assert any_store.add_signal(signal(1, "U2", kind=SignalKind.REACTION, reaction="tada"))
    assert any_store.add_signal(signal(1, "U2", kind=SignalKind.SHARE))
    assert any_store.remove_signal(thumbs) and not any_store.remove_signal(thumbs)
    assert any_store.add_signal(thumbs)
    found = any_store.signals("T1", since=T0 - timedelta(days=7))
    assert sorted((s.kind, s.reaction) for s in found) == [("reaction", "+1"), ("reaction", "tada"), ("share", "")]


def test_signals_are_read_by_workspace_time_and_channel(any_store: Store) -> None:
    any_store.add_signal(signal(1, "U1", at=T0 - timedelta(days=8)))
    any_store.add_signal(signal(2, "U1", at=T0 - timedelta(days=1)))
    any_store.add_signal(signal(3, "U2", channel="C2", at=T0))
    any_store.add_signal(signal(4, "U2", channel="C1", team="T2", at=T0))
    week = any_store.signals("T1", since=T0 - timedelta(days=7))
    assert [(s.channel_id, s.key) for s in week] == [("C1", "2608.00002"), ("C2", "2608.00003")]
    assert [s.key for s in any_store.signals("T1", since=T0 - timedelta(days=7), channel_ids=["C2"])] == ["2608.00003"]
    assert any_store.signals("T1", since=T0 - timedelta(days=7), channel_ids=[]) == []
    assert [s.key for s in any_store.signals("T2", since=T0 - timedelta(days=30))] == ["2608.00004"]
    assert week[0].paper == paper(2) and week[0].at == T0 - timedelta(days=1)


def test_one_paper_messages_are_remembered_per_workspace_and_channel(any_store: Store) -> None:
    any_store.remember_message("T1", "C1", "1700000000.000100", PAPER)
    assert any_store.message_paper("T1", "C1", "1700000000.000100") == PAPER
    assert any_store.message_paper("T1", "C2", "1700000000.000100") is None
    assert any_store.message_paper("T2", "C1", "1700000000.000100") is None
    any_store.remember_message("T1", "C1", "1700000000.000100", paper(7))  # the same ts again: the newer wins
    assert any_store.message_paper("T1", "C1", "1700000000.000100") == paper(7)


def test_forget_user_removes_the_persons_list_and_signals_and_nobody_elses(any_store: Store) -> None:
    for n in range(3):
        any_store.save_paper(saved(n, user="U1"))
    any_store.save_paper(saved(1, user="U2"))
    any_store.save_paper(saved(1, user="U1", team="T2"))
    any_store.add_signal(signal(1, "U1"))
    any_store.add_signal(signal(1, "U1", kind=SignalKind.REACTION, reaction="eyes"))
    any_store.add_signal(signal(1, "U2"))
    assert any_store.forget_user("T1", "U1") == (3, 2)
    assert any_store.saved_papers("T1", "U1") == []
    assert [s.user_id for s in any_store.signals("T1", since=T0 - timedelta(days=1))] == ["U2"]
    assert [s.key for s in any_store.saved_papers("T1", "U2")] == ["2608.00001"]
    assert len(any_store.saved_papers("T2", "U1")) == 1  # the same person id in another workspace stays
    assert any_store.forget_user("T1", "U1") == (0, 0)


def test_concurrent_saves_of_one_paper_store_it_once(any_store: Store) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def save() -> None:
        outcome = any_store.save_paper(saved(1))
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=save) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1 and len(any_store.saved_papers("T1", "U1")) == 1


def test_a_reading_list_page_and_its_counts(any_store: Store) -> None:
    for n in range(7):
        any_store.save_paper(saved(n, at=T0 + timedelta(minutes=n)))
    any_store.set_read("T1", "U1", "2608.00006", T0 + timedelta(hours=1))
    any_store.save_paper(saved(1, user="U2"))
    page, total, unread = any_store.reading_list("T1", "U1", offset=2, limit=3)
    assert (total, unread) == (7, 6)
    assert [s.key for s in page] == [s.key for s in any_store.saved_papers("T1", "U1")][2:5]
    assert any_store.reading_list("T1", "U1", offset=7, limit=3) == ([], 7, 6)
    assert any_store.reading_list("T9", "U1", offset=0, limit=3) == ([], 0, 0)


def test_signal_counts_count_different_people_per_channel_and_paper(any_store: Store) -> None:
    any_store.add_signal(signal(1, "U1"))
    any_store.add_signal(signal(1, "U1", kind=SignalKind.REACTION, reaction="fire"))  # the same person again
    any_store.add_signal(signal(1, "U2", kind=SignalKind.SHARE))
    any_store.add_signal(signal(2, "U3"))
    any_store.add_signal(signal(1, "U4", channel="C2"))
    any_store.add_signal(signal(3, "U5", at=T0 - timedelta(days=30)))  # too old
    any_store.add_signal(signal(1, "U6", team="T2"))  # another workspace
    since = T0 - timedelta(days=7)
    any_store.add_signal(signal(4, "U7", channel="C2"))
    any_store.add_signal(signal(5, "U7", channel="C2"))  # more upvotes than 2608.00004: ranks before it
    assert [(c, p.key, n) for c, p, n in any_store.signal_counts("T1", since=since, per_channel=2)] == [
        ("C1", "2608.00001", 2),
        ("C1", "2608.00002", 1),
        ("C2", "2608.00005", 1),
        ("C2", "2608.00004", 1),
    ]
    only = any_store.signal_counts("T1", since=since, channel_ids=["C2"], per_channel=5)
    assert [(c, p.key, n) for c, p, n in only] == [("C2", k, 1) for k in ("2608.00005", "2608.00004", "2608.00001")]
    assert only[2][1] == paper(1) and any_store.signal_counts("T1", since=since, channel_ids=[]) == []


def test_old_signals_and_message_records_are_pruned_reading_lists_never(any_store: Store) -> None:
    any_store.add_signal(signal(1, "U1", at=T0 - timedelta(days=200)))
    any_store.add_signal(signal(2, "U1", at=T0 - timedelta(days=2)))
    old_ts, new_ts = f"{(T0 - timedelta(days=200)).timestamp():.6f}", f"{(T0 - timedelta(days=2)).timestamp():.6f}"
    any_store.remember_message("T1", "C1", old_ts, paper(1))
    any_store.remember_message("T1", "C1", new_ts, paper(2))
    any_store.save_paper(saved(1, at=T0 - timedelta(days=900)))
    assert any_store.prune_signals(T0 - timedelta(days=120)) == 1
    assert [s.key for s in any_store.signals("T1", since=T0 - timedelta(days=999))] == ["2608.00002"]
    assert any_store.message_paper("T1", "C1", old_ts) is None and any_store.message_paper("T1", "C1", new_ts)
    assert len(any_store.saved_papers("T1", "U1")) == 1
