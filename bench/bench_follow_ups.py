"""The daily follow-up check for 1,000 posted papers x 500 channels.

``python -m bench.bench_follow_ups [--quick]``. What is real: the check end to end in this process
(``FollowUpChecker.run``: the ledger's digests of the last 14 days, the watches, one ``/api/papers/{id}``
per paper through the real ``HFClient``, the plan, each reply claimed and recorded in the ledger and
posted through slack_sdk) on the TinyDB + SQLite store on disk. What is simulated, in another process:
Slack (50 ms a call, no limit: the bot's own cost is what is measured; Slack's pace is applied after,
from its documented figure) and Hugging Face (100 ms a paper page).

The data: 500 subscribed channels, each with the 10 daily posts of the last two weeks, 10 papers a post
(100 papers a channel, every channel a different mix of the 1,000); every paper looked at before. Then
one paper in twenty (50) gains code and a model: each post holding one of them is owed one reply.
Measured: Hugging Face requests (the claim: one per paper, whatever the number of channels), replies
and their correctness (one per owed post, none twice), the run's wall time and store side, and a
second run the same day (nothing to ask, nothing to send).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Result, Row, RssSampler, rss_kib, standalone
from bench.fakes_proc import FakeConfig, FakesProcess, realistic_day

NAME = "follow-ups"
NOW = datetime(2026, 9, 4, 14, 0, tzinfo=UTC)  # a Friday, the daily check's hour
DAY = "2026-08-20"
SLACK_POSTS_PER_MINUTE = 285  # the pacer's workspace rate (bot/slack/pacing.py)
HF_PER_SECOND = 1.0  # the check's Hugging Face pace as shipped (bot/posting/follow_ups.py)


def _weekdays_before(now: datetime, n: int) -> list[date]:
    days: list[date] = []
    day = now.date() - timedelta(days=1)
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


def seed(path: Path, papers: int, channels: int, posts: int, per_post: int) -> tuple[set[str], set[str], int, int]:
    """The store; returns the papers in the window's posts, the ones that grow, and how many replies are
    owed (posts of the last 14 days holding a paper that grows), and the (channel, paper) pairs in them."""
    from bot.models import ChannelConfig, PaperLinks, PaperWatch, RunRecord, RunState
    from bot.store.tinydb_store import TinyStore

    ids = [f"2608.{10001 + i:05d}" for i in range(papers)]
    entries = {e["paper"]["id"]: e["paper"] for e in realistic_day(DAY, papers)}
    growing = {ids[i] for i in range(0, papers, 20)}
    days = _weekdays_before(NOW, posts)
    runs, posted, owed, in_window, pairs = [], {}, 0, set(), 0
    for c in range(channels):
        channel = f"C{c:08d}"
        for d, day in enumerate(days):
            keys = tuple(ids[(c * 37 + d * per_post + j) % papers] for j in range(per_post))
            claimed = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
            runs.append(
                RunRecord(
                    channel,
                    day,
                    RunState.POSTED,
                    f"r{c}-{d}",
                    claimed,
                    days=(day - timedelta(days=1),),
                    paper_keys=keys,
                    ts=(f"1800000000.{c * posts + d:06d}",),
                    team_id="T1",
                )
            )
            posted.setdefault(("T1", channel), {}).update(dict.fromkeys(keys, day))
            if NOW - claimed <= timedelta(days=14):  # ten weekdays reach back 14 days and 5 hours
                owed += any(k in growing for k in keys)
                in_window.update(keys)
                pairs += len(keys)
    first_look = datetime(days[0].year, days[0].month, days[0].day, 9, 1, tzinfo=UTC)
    watches = []
    for key in ids:
        repo = "" if key in growing else str(entries[key].get("githubRepo") or "")
        links = PaperLinks(repo=repo)
        watches.append(PaperWatch("T1", key, first_look, NOW.date() - timedelta(days=1), links, links.present()))
    store = TinyStore(path)
    try:
        with store._writing():  # one write for the whole seed (a private API, for this benchmark only)
            for c in range(channels):
                store.update_channel(
                    f"C{c:08d}", lambda cfg: cfg.replace(subscribed=True, active_since="2026-01-01"), team_id="T1"
                )
        store._ledger.replace_all(runs, posted, {})
        store.save_paper_watches(watches)
        assert isinstance(store.get_channel("C00000000", team_id="T1"), ChannelConfig)
    finally:
        store.close()
    return in_window, growing, owed, pairs


def run(quick: bool = False) -> Result:
    papers, channels, posts, per_post = (100, 20, 10, 10) if quick else (1000, 500, 10, 10)
    result = Result()
    logging.getLogger("bot").setLevel(logging.WARNING)
    config = FakeConfig(latency=0.05, enforce_rate_limits=False, papers=papers, day=DAY, hf_latency=0.1)
    with tempfile.TemporaryDirectory(prefix="bench-follow-ups-") as tmp, FakesProcess(config) as fakes:
        db = Path(tmp) / "papers-bot.json"
        checked, growing, owed, pairs = seed(db, papers, channels, posts, per_post)
        fakes.hf_details(
            {k: {"githubRepo": f"https://github.com/acme/{k}", "githubStars": 42, "numTotalModels": 2} for k in growing}
        )
        fakes.reset()
        first, second, store_side, peak_mib = _check_twice(fakes, db)
        stats = fakes.stats()
    hf_first, replies_first, duration_first = first
    hf_second, replies_second, duration_second = second
    slack_floor = replies_first / SLACK_POSTS_PER_MINUTE * 60
    label = f"{papers:,} papers x {channels} ch"
    result.rows += [
        Row(
            "follow-ups",
            f"{label}: Hugging Face requests",
            hf_first,
            "count",
            baseline=f"one per channel and paper: {pairs:,}",
            ratio=f"{pairs / max(hf_first, 1):.0f}x fewer",
            goal=f"= {len(checked):,} papers in the window",
            ok=hf_first == len(checked),
        ),
        Row(
            "follow-ups",
            f"{label}: thread replies (owed posts)",
            replies_first,
            "count",
            goal=f"= {owed:,}, none twice",
            ok=replies_first == owed == stats["replies"],
            note=f"{len(growing)} papers gained code and a model",
        ),
        Row(
            "follow-ups",
            f"{label}: check wall time (Slack and HF unthrottled)",
            duration_first,
            "s",
            ratio=f"store reads {store_side * 1000:.0f} ms; peak RSS {peak_mib:.0f} MiB",
            note="the bot's own cost",
        ),
        Row(
            "follow-ups",
            f"{label}: at the shipped paces (computed)",
            papers / HF_PER_SECOND + slack_floor,
            "s",
            ratio=f"HF 1/s: {papers / HF_PER_SECOND / 60:.1f} min + Slack 285/min: {slack_floor / 60:.1f} min",
            note="a daily background job on the leader",
        ),
        Row(
            "follow-ups",
            f"{label}: second run the same day",
            duration_second,
            "s",
            goal="0 requests, 0 replies",
            ok=hf_second == 0 and replies_second == 0,
        ),
    ]
    result.notes.append(
        f"follow-ups: {channels} channels x {posts} posts x {per_post} papers over the last two weeks "
        f"({papers:,} distinct papers, TinyDB + SQLite on disk); Hugging Face 100 ms a paper page, 4 requests in "
        "flight; Slack 50 ms a call, 8 replies in flight; the shipped paces are applied to the counts afterwards."
    )
    return result


def _check_twice(fakes: FakesProcess, db: Path) -> tuple[tuple[int, int, float], tuple[int, int, float], float, float]:
    from bot.config import Settings
    from bot.models import RunKind
    from bot.posting.follow_ups import FollowUpChecker
    from bot.services import build_services

    settings = Settings(
        slack_bot_token="xoxb-bench-0001",
        slack_api_url=fakes.urls["slack_api_url"],
        hf_endpoint=fakes.urls["hf_url"],
        arxiv_api_url="http://127.0.0.1:9/api/query",
        db_path=str(db),
    )
    services = build_services(settings, clock=lambda: NOW, related=None)
    try:
        services.poster.pacer.reconfigure(100_000, burst=100_000, key_interval=0.0, key_burst=100_000)
        checker = FollowUpChecker(
            services.store, services.hf, services.runner.workspaces, clock=lambda: NOW, hf_rate=None
        )
        started = time.perf_counter()
        digests = services.store.ledger_since(RunKind.DIGEST, NOW.date() - timedelta(days=16))
        keys = {(r.team_id, k) for r in digests for k in r.paper_keys}
        services.store.paper_watches(keys)
        services.store.ledger_since(RunKind.FOLLOW_UP, NOW.date() - timedelta(days=16))
        store_side = time.perf_counter() - started
        before = rss_kib()
        with RssSampler().running() as sampler:
            first = checker.run(NOW)
        peak_mib = max(sampler.peak, before) / 1024
        second = checker.run(NOW + timedelta(hours=1))
    finally:
        services.close()
    return (
        (first.hf_requests, first.replies, first.duration),
        (second.hf_requests, second.replies, second.duration),
        store_side,
        peak_mib,
    )


if __name__ == "__main__":
    standalone(NAME, run)
