"""One deployment, 200 workspaces × 5 channels: each workspace paced by its own pacer, all at once.

``python -m bench.bench_workspaces [--quick]``. What is real: the bot's post run end to end in OAuth
mode (``run_due``: the store, one Hugging Face fetch, selection, rendering, the ledger, each
workspace's token looked up in the encrypted installation store, ``chat.postMessage`` through
slack_sdk) on the TinyDB file and its SQLite ledger. What is simulated: Slack, in another process, with
50 ms per call, and Slack's limits **per workspace** (the token's): one message per second per
channel, and a workspace token bucket; HTTP 429 with a whole-second ``Retry-After`` beyond them.
Every workspace has its own C0001…C0005: the channel ids collide on purpose.

Why the workspace cap is slowed down: at Slack's own (~300 posts a minute, bursts allowed) five
channels fit in one burst, so a workspace's floor would be one round trip and the run would only
measure the bot's own cost per post. Each workspace here allows **8 posts a minute, burst 1**, so one
workspace alone needs (5 − 1) / (8/60) s = 30 s plus a round trip: that is the floor of every
workspace, and the goal is the whole run within 1.3x of it. One pacer for all of them (the bot before
per-workspace pacers) would need the sum: 1,000 posts at 8 a minute, about 2 hours.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Result, Row, median, standalone
from bench.fakes_proc import FakeConfig, FakesProcess

NAME = "workspaces"
FRIDAY_0900 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
CLIENT_ID = "1111.2222"
SECRET_KEY = "kM5bT3mQ7cR2vX9wZ1yA4dF6gH8jK0lN2pS4uW6xY8A="
PACER_SHARE = 0.95


@dataclass(frozen=True)
class Shape:
    workspaces: int
    channels: int  # per workspace
    per_minute: float  # each workspace's cap
    latency: float
    runs: int

    @property
    def rate(self) -> float:
        return self.per_minute / 60

    def floor(self) -> float:
        """The fastest any client could post one workspace's digests within its limits (burst 1)."""
        return (self.channels - 1) / self.rate + self.latency

    def shared_floor(self) -> float:
        """The same posts through one pacer for every workspace: the sum of them."""
        return (self.workspaces * self.channels - 1) / self.rate + self.latency


FULL = Shape(200, 5, 8.0, 0.05, 3)
QUICK = Shape(10, 5, 120.0, 0.01, 1)


def team(n: int) -> str:
    return f"T{n:06d}"


def token(n: int) -> str:
    return f"xoxb-bench-{team(n).lower()}"


def seed(db: Path, shape: Shape) -> None:
    """The workspaces' channels (all due at 09:00 UTC, every topic) and their installations."""
    from slack_sdk.oauth.installation_store import Installation

    from bot.secret_box import SecretBox
    from bot.slack.installations import open_oauth_stores
    from bot.store.tinydb_store import TinyStore

    store = TinyStore(db)
    try:
        with store._writing():  # one file write for the whole seed (a private API, for this benchmark only)
            for n in range(shape.workspaces):
                for c in range(1, shape.channels + 1):
                    store.update_channel(
                        f"C{c:04d}", lambda cfg: cfg.replace(subscribed=True, max_papers=5), team_id=team(n)
                    )
        ledger = store.ledger_path
    finally:
        store.close()
    stores = open_oauth_stores(CLIENT_ID, SecretBox([SECRET_KEY]), sqlite_path=ledger)
    try:
        for n in range(shape.workspaces):
            stores.installations.save(
                Installation(
                    app_id="A0001",
                    team_id=team(n),
                    team_name=f"Workspace {n}",
                    bot_token=token(n),
                    bot_id="BBOT",
                    bot_user_id="UBOT",
                    user_id="U0INSTALLER",
                    installed_at=time.time(),
                )
            )
    finally:
        stores.engine.dispose()


@dataclass(frozen=True)
class Measured:
    duration: float
    posted: int
    missing: int
    duplicates: int
    wrong_token: int
    rate_limited: int
    workers: int


def one_run(fakes: FakesProcess, shape: Shape) -> Measured:
    from bot.config import Settings
    from bot.services import build_services
    from bot.slack.client import SlackPoster, make_web_client
    from bot.slack.pacing import Pacer

    with tempfile.TemporaryDirectory(prefix="bench-workspaces-") as tmp:
        db = Path(tmp) / "papers-bot.json"
        seed(db, shape)
        api = fakes.urls["slack_api_url"]
        settings = Settings(
            slack_signing_secret="bench-secret",
            slack_api_url=api,
            hf_endpoint=fakes.urls["hf_url"],
            db_path=str(db),
            slack_client_id=CLIENT_ID,
            slack_client_secret="bench-client-secret",
            secret_keys=(SECRET_KEY,),
        )
        services = build_services(settings, clock=lambda: FRIDAY_0900)
        try:
            # each workspace's pacer 5% under the fake's cap per workspace, as the bot's is under its reading
            # of Slack's (bot/slack/pacing.py): a pacer at exactly the cap meets a 429 on every bit of jitter
            services.workspaces.make_poster = lambda t: SlackPoster(
                make_web_client(t, api), pacer=Pacer(shape.rate * PACER_SHARE, burst=1)
            )
            fakes.reset()
            summary = services.runner.run_due(FRIDAY_0900)
        finally:
            services.close()
    stats = fakes.stats()
    if stats["violations"] or stats["internal_errors"]:
        raise RuntimeError(f"the fake saw problems: {stats['violations']} {stats['internal_errors']}")
    digests: dict[str, int] = stats["digests_by_team"]
    wanted = {f"{team(n)}/C{c:04d}" for n in range(shape.workspaces) for c in range(1, shape.channels + 1)}
    return Measured(
        duration=summary.duration,
        posted=sum(1 for key in wanted if digests.get(key, 0) >= 1),
        missing=sum(1 for key in wanted if digests.get(key, 0) == 0),
        duplicates=sum(max(0, n - 1) for n in digests.values()),
        wrong_token=sum(n for key, n in digests.items() if key not in wanted),
        rate_limited=stats["rate_limited"],
        workers=summary.workers,
    )


def run(quick: bool = False) -> Result:
    shape = QUICK if quick else FULL
    logging.disable(logging.WARNING)
    config = FakeConfig(latency=shape.latency, per_channel_per_sec=1.0, workspace_per_sec=shape.rate, workspace_burst=1)
    result = Result()
    with FakesProcess(config) as fakes:
        fakes.configure(tokens={token(n): team(n) for n in range(shape.workspaces)})
        runs = [one_run(fakes, shape) for _ in range(shape.runs)]
    wall = median([r.duration for r in runs])
    floor = shape.floor()
    ratio = wall / floor
    lost = max(r.missing for r in runs)
    dupes = max(r.duplicates + r.wrong_token for r in runs)
    bench = f"{shape.workspaces} workspaces x {shape.channels} ch"
    result.rows.append(
        Row(
            bench,
            "post run wall time",
            wall,
            "s",
            samples=len(runs),
            baseline=f"one shared pacer: {shape.shared_floor() / 60:.0f} min (sum of floors)",
            ratio=f"{ratio:.2f}x the slowest workspace's floor",
            goal="<= 1.3x floor",
            ok=ratio <= 1.3 and lost == 0 and dupes == 0,
            note=f"floor {floor:.1f} s ({shape.per_minute:g}/min per workspace, burst 1)",
        )
    )
    result.rows.append(
        Row(bench, "429s hit (max of runs)", max(r.rate_limited for r in runs), "count", samples=len(runs))
    )
    result.rows.append(
        Row(
            bench,
            "lost / duplicate / wrong-token posts",
            lost + dupes,
            "count",
            samples=len(runs),
            goal="0",
            ok=lost == 0 and dupes == 0,
            note=f"lost {lost}, duplicates or posted with another workspace's token {dupes}",
        )
    )
    result.rows.append(Row(bench, "worker threads", median([r.workers for r in runs]), "count", samples=len(runs)))
    result.notes.append(
        f"workspaces: {shape.workspaces} OAuth installations (tokens encrypted in the SQLite ledger), "
        f"{shape.channels} channels each with the same ids; fake Slack {shape.latency * 1000:.0f} ms/call, "
        f"1 msg/s/channel and {shape.per_minute:g} msgs/min per workspace (burst 1), each workspace its own buckets."
    )
    return result


if __name__ == "__main__":
    standalone(NAME, run)
