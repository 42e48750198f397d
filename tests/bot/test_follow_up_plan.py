"""The pure rules of follow-ups: what a look teaches (``observe``) and which replies are owed
(``plan_replies``): new since *this* post, never twice, one reply per post and day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.feed.papers import Paper
from bot.models import PaperLinks, PaperWatch, RunKind, RunRecord, RunState
from bot.posting.follow_up_plan import (
    MAX_PAPERS_PER_REPLY,
    Thread,
    links_of,
    observe,
    period_for,
    plan_replies,
    threads_of,
)
from bot.store.ledger_rules import MAX_ATTEMPTS

POSTED = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 8, 23, 14, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def paper(key: str = "2608.00001", *, repo: str = "", models: int = 0, spaces: int = 0) -> Paper:
    extra = {"numTotalModels": models, "numTotalDatasets": 0, "numTotalSpaces": spaces}
    return Paper(key, f"Title {key}", github_repo=repo, github_stars=7 if repo else None, extra=extra)


def watch(key: str, *appeared: tuple[str, datetime], baseline: tuple[str, ...] = (), team: str = "T1") -> PaperWatch:
    return PaperWatch(team, key, POSTED + timedelta(minutes=1), NOW.date(), PaperLinks(), baseline, appeared)


def thread(channel: str = "C1", ts: str = "1.1", keys: tuple[str, ...] = ("2608.00001",), **kw: object) -> Thread:
    return Thread(channel, str(kw.get("team", "T1")), ts, kw.get("posted_at", POSTED), keys)  # type: ignore[arg-type]


def entry(channel: str, key: str, item: str, state: str, **changes: object) -> RunRecord:
    record = RunRecord(
        channel,
        NOW.date() - timedelta(days=1),
        state,
        "old-run",
        NOW - timedelta(days=1),
        kind=RunKind.FOLLOW_UP,
        period=period_for(key, item),
        paper_keys=(key,),
        team_id="T1",
    )
    return record.replace(**changes)


def owed(batches: list) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(b.channel_id, b.thread.thread_ts, o.paper_key, o.items) for b in batches for o in b.owed]


# --- observe ---------------------------------------------------------------------------------------


def test_the_first_look_is_the_baseline_and_announces_nothing() -> None:
    first = observe(None, team_id="T1", paper_key="2608.00001", paper=paper(repo="https://github.com/o/r"), now=NOW)
    assert first.baseline == ("code",) and first.appeared == () and first.checked_on == NOW.date()
    assert first.title == "Title 2608.00001" and first.links.stars == 7


def test_later_looks_record_each_new_item_once_with_when_it_was_seen() -> None:
    first = observe(None, team_id="T1", paper_key="2608.00001", paper=paper(), now=NOW)
    later = NOW + timedelta(days=1)
    second = observe(first, team_id="T1", paper_key="2608.00001", paper=paper(repo="https://x/y", models=2), now=later)
    assert second.appeared == (("code", later), ("models", later))
    third = observe(
        second, team_id="T1", paper_key="2608.00001", paper=paper(models=5, spaces=1), now=later + later.resolution
    )
    assert [item for item, _ in third.appeared] == ["code", "models", "spaces"]  # a repo that vanished stays told
    assert third.appeared_at("code") == later and third.links.models == 5


def test_a_paper_hugging_face_does_not_know_counts_as_looked_at() -> None:
    first = observe(None, team_id="T1", paper_key="2608.00001", paper=None, now=NOW)
    assert first.baseline == () and first.checked_on == NOW.date()
    again = observe(first, team_id="T1", paper_key="2608.00001", paper=None, now=NOW + timedelta(days=1))
    assert again.checked_on == (NOW + timedelta(days=1)).date() and again.appeared == ()


def test_links_of_reads_the_counts_of_the_paper_page() -> None:
    assert links_of(paper(repo="https://github.com/o/r", models=2, spaces=1)) == PaperLinks(
        "https://github.com/o/r", 7, 2, 0, 1
    )
    assert links_of(Paper("2608.00001", "t")) == PaperLinks()  # a list entry: no counts at all


# --- threads_of ------------------------------------------------------------------------------------


def test_threads_are_the_posted_digests_of_the_window() -> None:
    def run(channel: str, days_ago: float, **changes: object) -> RunRecord:
        claimed = NOW - timedelta(days=days_ago)
        record = RunRecord(channel, claimed.date(), RunState.POSTED, "r", claimed, paper_keys=("k",), ts=("9.9",))
        return record.replace(**changes)

    records = [
        run("C1", 1),
        run("C2", 13.9, team_id="T9"),
        run("C3", 14.1),  # too old
        run("C4", 1, state=RunState.CLAIMED),  # not (yet) in the channel
        run("C5", 1, ts=()),
        run("C6", 1, paper_keys=()),
        run("C7", 1, kind=RunKind.RECAP, period="2026-W34"),
    ]
    found = threads_of(records, now=NOW, window=timedelta(days=14), team_of={"C1": "T1", "C2": "T2"})
    assert [(t.channel_id, t.team_id, t.thread_ts) for t in found] == [("C1", "T1", "9.9"), ("C2", "T9", "9.9")]


# --- plan_replies ----------------------------------------------------------------------------------


def test_only_what_appeared_after_the_post_and_not_at_the_first_look_is_owed() -> None:
    watches = {
        ("T1", "2608.00001"): watch(
            "2608.00001", ("code", NOW - timedelta(hours=1)), ("models", POSTED - timedelta(hours=1))
        ),
        ("T1", "2608.00002"): watch("2608.00002", ("spaces", NOW), baseline=("spaces",)),
    }
    batches, held = plan_replies([thread(keys=("2608.00001", "2608.00002"))], watches, {}, now=NOW, lease=LEASE)
    assert owed(batches) == [("C1", "1.1", "2608.00001", ("code",))] and held == 0


def test_papers_of_one_post_share_one_reply_and_two_posts_get_one_each() -> None:
    seen = NOW - timedelta(hours=1)
    watches = {("T1", k): watch(k, ("code", seen)) for k in ("2608.00001", "2608.00002", "2608.00003")}
    threads = [thread(ts="1.1", keys=("2608.00001", "2608.00002")), thread(ts="2.2", keys=("2608.00003",))]
    batches, _ = plan_replies(threads, watches, {}, now=NOW, lease=LEASE)
    assert [(b.thread.thread_ts, [o.paper_key for o in b.owed]) for b in batches] == [
        ("1.1", ["2608.00001", "2608.00002"]),
        ("2.2", ["2608.00003"]),
    ]
    assert batches[0].watches["2608.00002"] is watches[("T1", "2608.00002")]


def test_the_ledger_decides_what_was_told_and_what_may_be_tried_again() -> None:
    seen = NOW - timedelta(hours=1)
    items = ("code", "models", "datasets", "spaces")
    watches = {("T1", "2608.00001"): watch("2608.00001", *((i, seen) for i in items))}
    key = "2608.00001"
    announced = {
        ("T1", "C1", period_for(key, "code")): entry("C1", key, "code", RunState.POSTED),
        ("T1", "C1", period_for(key, "models")): entry("C1", key, "models", RunState.FAILED, attempts=2),
        ("T1", "C1", period_for(key, "datasets")): entry("C1", key, "datasets", RunState.FAILED, attempts=MAX_ATTEMPTS),
        ("T1", "C1", period_for(key, "spaces")): entry("C1", key, "spaces", RunState.CLAIMED),  # a dead process's, old
    }
    [batch], _ = plan_replies([thread()], watches, announced, now=NOW, lease=LEASE)
    [paper_owed] = batch.owed
    assert paper_owed.items == ("models", "spaces")
    assert {e.period for e in paper_owed.earlier} == {period_for(key, "models"), period_for(key, "spaces")}

    being_sent = {
        ("T1", "C1", period_for(key, i)): entry("C1", key, i, RunState.CLAIMED, claimed_at=NOW) for i in items
    }
    batches, held = plan_replies([thread()], watches, being_sent, now=NOW, lease=LEASE)
    assert batches == [] and held == 0  # another thread or process is on it right now


def test_a_thread_that_had_its_reply_today_keeps_the_rest_for_tomorrow() -> None:
    seen = NOW - timedelta(hours=1)
    watches = {("T1", k): watch(k, ("code", seen)) for k in ("2608.00001", "2608.00002")}
    told_today = entry("C1", "2608.00001", "code", RunState.POSTED, local_date=NOW.date())
    announced = {("T1", "C1", told_today.period): told_today}
    threads = [thread(keys=("2608.00001", "2608.00002"))]
    batches, held = plan_replies(threads, watches, announced, now=NOW, lease=LEASE)
    assert batches == [] and held == 1
    tomorrow = NOW + timedelta(days=1)
    batches, held = plan_replies(threads, watches, announced, now=tomorrow, lease=LEASE)
    assert owed(batches) == [("C1", "1.1", "2608.00002", ("code",))] and held == 0


def test_a_reply_names_at_most_twenty_papers_and_the_rest_wait_a_day() -> None:
    keys = tuple(f"2608.{i:05d}" for i in range(MAX_PAPERS_PER_REPLY + 3))
    watches = {("T1", k): watch(k, ("code", NOW - timedelta(hours=1))) for k in keys}
    [batch], held = plan_replies([thread(keys=keys)], watches, {}, now=NOW, lease=LEASE)
    assert len(batch.owed) == MAX_PAPERS_PER_REPLY and held == 3


def test_channels_and_workspaces_are_kept_apart() -> None:
    seen = NOW - timedelta(hours=1)
    watches = {("T2", "2608.00001"): watch("2608.00001", ("code", seen), team="T2")}
    threads = [thread("C1", team="T1"), thread("C2", team="T2")]
    told_in_c1 = {("T1", "C1", period_for("2608.00001", "code")): entry("C1", "2608.00001", "code", RunState.POSTED)}
    batches, _ = plan_replies(threads, watches, told_in_c1, now=NOW, lease=LEASE)
    assert owed(batches) == [("C2", "1.1", "2608.00001", ("code",))]  # T1 has no watch; C1's entry is C1's


def test_a_later_post_of_the_paper_in_the_same_channel_owns_its_news() -> None:
    watches = {("T1", "2608.00001"): watch("2608.00001", ("code", NOW - timedelta(hours=1)))}
    older = thread(ts="1.1", posted_at=POSTED)
    newer = thread(ts="2.2", posted_at=POSTED + timedelta(days=1))
    batches, _ = plan_replies([older, newer], watches, {}, now=NOW, lease=LEASE)
    assert owed(batches) == [("C1", "2.2", "2608.00001", ("code",))]


def test_dates_of_the_entries_do_not_matter_for_what_was_told() -> None:
    told_long_ago = entry("C1", "2608.00001", "code", RunState.POSTED, local_date=date(2026, 8, 1))
    watches = {("T1", "2608.00001"): watch("2608.00001", ("code", NOW - timedelta(hours=1)))}
    batches, _ = plan_replies(
        [thread()], watches, {("T1", "C1", told_long_ago.period): told_long_ago}, now=NOW, lease=LEASE
    )
    assert batches == []


def test_the_same_channel_id_in_two_workspaces_is_two_channels() -> None:
    """C1 of T1 and C1 of T2 are different channels: what T1's C1 was told (today, or ever) neither
    holds back nor stands for T2's C1, and each thread gets its own workspace's news."""
    seen = NOW - timedelta(hours=1)
    key = "2608.00001"
    watches = {(team, key): watch(key, ("code", seen), team=team) for team in ("T1", "T2")}
    threads = [thread("C1", ts="1.1", team="T1"), thread("C1", ts="7.7", team="T2")]
    told_in_t1 = entry("C1", key, "code", RunState.POSTED, local_date=NOW.date())
    batches, held = plan_replies(threads, watches, {("T1", "C1", told_in_t1.period): told_in_t1}, now=NOW, lease=LEASE)
    assert [(b.thread.team_id, b.channel_id, b.thread.thread_ts) for b in batches] == [("T2", "C1", "7.7")]
    assert held == 0 and batches[0].watches[key] is watches[("T2", key)]
