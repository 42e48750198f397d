"""The fake Slack and Hugging Face servers in a process of their own, driven over a pipe.

Why another process: the fakes validate every message (slack_sdk block models, the method catalog)
and run a thread per connection. In the bot's process they would compete for its GIL and the
benchmark would measure the fakes; in their own process they cost the bot only what a remote
service costs: the network round trip and the injected latency. The bot's memory is measured
without them, too.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Self

from bench.common import REPO

__all__ = ["FakeConfig", "FakesProcess"]


@dataclass(frozen=True)
class FakeConfig:
    latency: float = 0.05
    enforce_rate_limits: bool = True
    per_channel_per_sec: float = 1.0
    workspace_per_sec: float | None = None
    workspace_burst: int = 1
    day: str = "2026-08-20"
    papers: int = 100
    hf_latency: float = 0.0
    realistic: bool = True  # abstracts of ~200 words with keywords and authors (bench_filters' generator)
    unfurls_per_minute: int | None = None  # chat.unfurl's Tier 3 enforced as a sliding minute when set


def _serve(conn: Connection, config: FakeConfig) -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.fakes import FakeHF, FakeSlack, make_day

    slack = FakeSlack(
        enforce_rate_limits=config.enforce_rate_limits,
        per_channel_per_sec=config.per_channel_per_sec,
        workspace_per_sec=config.workspace_per_sec,
        workspace_burst=config.workspace_burst,
        latency=config.latency,
        schema_path=None,  # the JSON Schema pass is the slowest check and the tests already run it
        unfurls_per_minute=config.unfurls_per_minute,
    ).start()
    entries = realistic_day(config.day, config.papers) if config.realistic else make_day(config.day, config.papers)
    hf = FakeHF({config.day: entries}).start()
    if config.hf_latency:
        hf.delay("/api/", config.hf_latency)
    conn.send({"slack_api_url": slack.api_url, "slack_url": slack.base_url, "hf_url": hf.base_url})
    try:
        while True:
            command = conn.recv()
            if command == "stats":
                conn.send(_stats(slack, hf))
            elif isinstance(command, tuple) and command[0] == "configure":
                for name, value in command[1].items():
                    setattr(slack, name, value)  # FakeSlack reads its limits on every call
                conn.send("ok")
            elif isinstance(command, tuple) and command[0] == "hf_details":
                hf.paper_details.update(command[1])  # what /api/papers/{id} adds (numTotalModels, githubRepo…)
                conn.send("ok")
            elif command == "reset":
                slack.reset()
                hf.reset()
                if config.hf_latency:  # configuration, not a count: it stays
                    hf.delay("/api/", config.hf_latency)
                conn.send("ok")
            else:
                break
    finally:
        slack.stop()
        hf.stop()
        conn.send("stopped")


def realistic_day(day: str, n: int, seed: int = 2026) -> list[dict[str, Any]]:
    """A day list shaped like a real one: ``n`` papers with ~200-word abstracts, keywords, authors, orgs."""
    import random

    from bench.bench_filters import make_paper, vocabulary
    from tests.fakes import make_entry

    rng = random.Random(seed)
    vocab = vocabulary(rng)
    papers = sorted((make_paper(rng, vocab, i) for i in range(n)), key=lambda p: -p.upvotes)
    return [
        make_entry(
            f"2608.{10001 + i:05d}",
            p.title,
            upvotes=p.upvotes,
            day=day,
            abstract=p.abstract,
            authors=p.authors,
            ai_keywords=p.ai_keywords,
            github_repo=p.github_repo or None,
            organization=p.organization_id or None,
        )
        for i, p in enumerate(papers)
    ]


def _stats(slack: Any, hf: Any) -> dict[str, Any]:
    posts = slack.calls("chat.postMessage")
    digests = Counter(c.channel for c in posts if c.ok and c.args.get("blocks"))
    by_team = Counter(f"{c.team}/{c.channel}" for c in posts if c.ok and c.args.get("blocks"))
    return {
        "digests_by_team": dict(by_team),  # "T…/C…": digests posted with that workspace's token
        "post_calls": len(posts),
        "rate_limited": sum(1 for c in posts if c.status == 429),
        "digests": dict(digests),
        "violations": list(slack.violations[:5]),
        "internal_errors": list(slack.internal_errors[:5]) + list(hf.internal_errors[:5]),
        "hf_day_requests": hf.count("/api/daily_papers"),  # pages: 100 papers are two (100 + an empty page)
        "hf_day_lists": len({r.params.get("date") for r in hf.requests if r.path == "/api/daily_papers"}),
        "responses": len(slack.responses()),
        "unfurl_times": slack.unfurl_times(),  # target -> time.monotonic() (system-wide on Linux)
        "unfurl_calls": len(slack.calls("chat.unfurl")),
        "unfurl_rate_limited": sum(1 for c in slack.calls("chat.unfurl") if c.status == 429),
        "hf_paper_requests": hf.count("/api/papers/"),
        "replies": sum(1 for c in posts if c.ok and c.args.get("thread_ts")),
        "files": len(slack.files()),  # shared by files.completeUploadExternal (the recap's charts)
        "png_files": sum(1 for f in slack.files() if (f.get("data") or b"").startswith(b"\x89PNG")),
        "threads": sum(1 for c in posts if c.ok and c.args.get("thread_ts")),
    }


class FakesProcess:
    """``with FakesProcess(config) as fakes:`` → ``fakes.urls``, ``fakes.stats()``, ``fakes.reset()``."""

    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        ctx = multiprocessing.get_context("spawn")  # no inherited threads or locks from this process
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, config), daemon=True, name="bench-fakes")
        self.urls: dict[str, str] = {}

    def __enter__(self) -> Self:
        self._proc.start()
        if not self._conn.poll(30):
            raise RuntimeError("the fake servers did not start within 30 s")
        self.urls = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
            self._conn.poll(5)
        except (OSError, EOFError):
            pass
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()

    def stats(self) -> dict[str, Any]:
        self._conn.send("stats")
        return self._conn.recv()

    def configure(self, **limits: Any) -> None:
        """Change the fake Slack's limits (``workspace_per_sec``, ``workspace_burst``, ``latency``, …)."""
        self._conn.send(("configure", limits))
        self._conn.recv()

    def reset(self) -> None:
        self._conn.send("reset")
        self._conn.recv()

    def hf_details(self, details: dict[str, dict[str, Any]]) -> None:
        """Merge ``details[id]`` into the fake Hugging Face's ``/api/papers/{id}`` answers."""
        self._conn.send(("hf_details", details))
        self._conn.recv()
