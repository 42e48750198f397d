"""Shared fixtures: the fake Slack and Hugging Face servers, a controlled clock, and the real app
served over HTTP and driven by signed slash commands."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import build_app
from bot.config import Settings
from bot.services import Services, build_services
from bot.slack.in_flight import InFlight
from bot.slack.server import SlackHTTPServer
from bot.store import Store
from bot.store.scoped import TeamStore
from tests.fakes import FakeHF, FakeSlack, signed_headers, slash_command_body

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token-0001"
# The shared fixtures and specs beside the checkout (``../shared``), or wherever PAPERS_BOT_SHARED_DIR says:
# every test that reads them goes through this one name.
SHARED = Path(os.environ.get("PAPERS_BOT_SHARED_DIR") or Path(__file__).resolve().parents[1].parent / "shared")
# Matching in meaning stays off unless a test passes a model itself (tests/bot/test_semantic.py): the
# suite must behave the same with and without the `semantic` extra installed. Set before any bot starts,
# so bots started as subprocesses inherit it.
os.environ.setdefault("PAPERS_BOT_SEMANTIC_MODEL", "off")


class Clock:
    """A settable clock for the app (the scheduler tick and command replies read it)."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        with self._lock:
            self._now = now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake
        assert fake.violations == [], fake.violations
        assert fake.unknown_calls == []
        assert fake.internal_errors == []


@pytest.fixture
def fake_hf() -> Iterator[FakeHF]:
    with FakeHF() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 8, 21, 9, 0, tzinfo=UTC))  # a Friday


@pytest.fixture
def store_backend() -> str:
    """The store the app under test uses; ``tests/scenarios`` overrides this to run on both backends."""
    return "tinydb"


@pytest.fixture
def settings(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF, store_backend: str, request: pytest.FixtureRequest
) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        hf_endpoint=fake_hf.base_url,
        db_path=str(tmp_path / "papers-bot.json"),
        timezone="UTC",
        database_url=request.getfixturevalue("pg_url") if store_backend == "postgres" else "",
        # Slack's budget for apps outside its Marketplace is one history read a minute; tests that are
        # not about that budget read as often as they need (tests/reliability/test_history_budget.py is).
        history_per_minute=6000.0,
        arxiv_api_url="http://127.0.0.1:9/api/query",  # never the internet; link-card tests use FakeArxiv
    )


@dataclass
class CommandResult:
    status: int
    reply: dict[str, Any] | None  # what reached the response_url (the user's private answer)

    @property
    def text(self) -> str:
        """Everything the user reads: the reply text plus the text in its blocks."""
        if not self.reply:
            return ""
        parts = [self.reply.get("text") or ""]
        parts.extend(_block_texts(self.reply.get("blocks") or []))
        return "\n".join(parts)


def _block_texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        for key, item in value.items():
            if key != "text" or not isinstance(item, str):
                found.extend(_block_texts(item))
        return found
    if isinstance(value, list):
        return [t for item in value for t in _block_texts(item)]
    return []


class TrackedPool(ThreadPoolExecutor):
    """The listener pool, remembering its work so a test can wait until everything after ack() ran."""

    def __init__(self) -> None:
        super().__init__(max_workers=32, thread_name_prefix="listener")
        self.futures: list[Future[Any]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future

    def settle(self, timeout: float = 10.0) -> None:
        _, pending = wait(list(self.futures), timeout=timeout)
        assert not pending, "listener work still running"


class RunningBot:
    """The real Bolt app behind the real HTTP server, talking to the fakes."""

    def __init__(self, services: Services, fake_slack: FakeSlack, *, port: int = 0) -> None:
        self.services = services
        self.fake_slack = fake_slack
        in_flight = InFlight()  # wired as ``python -m bot serve`` wires it
        self.listener_pool = TrackedPool()
        self.app = build_app(services, in_flight=in_flight, listener_pool=self.listener_pool)
        self.server = SlackHTTPServer(self.app, port=port, host="127.0.0.1", in_flight=in_flight)
        self.server.start_background()
        self.url = f"http://127.0.0.1:{self.server.port}"
        # Generous: a loaded CI machine can be slow; the ack latency itself is measured in bench/.
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self._replies = 0

    @property
    def store(self) -> Store:
        """What the tests read and seed: with one token, the bot's workspace's view (every command is
        that workspace's); in OAuth mode the whole store (name the workspace: ``team_id=``)."""
        if self.services.workspaces.oauth:
            return self.services.store
        return TeamStore(self.services.store, self.services.home_team)

    def post(self, body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> httpx.Response:
        headers = signed_headers(body, secret, timestamp)
        return self.http.post("/slack/events", content=body.encode(), headers=headers)

    def command(
        self, text: str, *, channel: str = "C0001", user: str = "U0001", wait: bool = True, team: str = "T0001"
    ) -> CommandResult:
        """Send ``/papers <text>`` as Slack would and return the private reply that follows."""
        self._replies += 1
        name = f"r{self._replies}"
        body = slash_command_body(
            text, channel_id=channel, user_id=user, team_id=team, response_url=self.fake_slack.response_url(name)
        )
        response = self.post(body)
        reply = None
        if wait and response.status_code == 200:
            reply = self.fake_slack.wait_for_responses(1, name=name)[0]
        return CommandResult(response.status_code, reply)

    def close(self) -> None:
        if self.http.is_closed:  # a test may stop the bot itself (to run the CLI on its files)
            return
        self.http.close()
        self.server.shutdown()
        self.listener_pool.shutdown(wait=False, cancel_futures=True)
        self.services.close()


@pytest.fixture
def bot(settings: Settings, clock: Clock, fake_slack: FakeSlack) -> Iterator[RunningBot]:
    services = build_services(settings, clock=clock, hf_sleep=lambda _s: None)
    running = RunningBot(services, fake_slack)
    yield running
    running.close()


def texts_of(call_args: dict[str, Any]) -> str:
    """All user-visible text of a posted message (fallback and blocks)."""
    return "\n".join([call_args.get("text") or "", *_block_texts(call_args.get("blocks") or [])])


def load_shared_json(name: str) -> Any:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared fixtures are only on the developers' machines)")
    return json.loads(path.read_text())


# ----- PostgreSQL (the second store backend) ------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server's URL: ``$PAPERS_BOT_TEST_DATABASE_URL`` (``.ci/run`` starts one), else a
    throwaway cluster started here when ``initdb`` exists, else the PostgreSQL tests skip.

    Under pytest-xdist this is per worker: on ``$PAPERS_BOT_TEST_DATABASE_URL``'s server each worker
    works in a database it creates (and drops at the end); a worker without it starts its own cluster."""
    from tests import pg

    url = os.environ.get(pg.ENV_VAR, "").strip()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if url and worker:
        with pg.worker_database(url, worker) as worker_url:
            yield worker_url
        return
    if url:
        yield url
        return
    bin_dir = pg.find_pg_bin()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL tests need initdb/pg_ctl (apt-get install postgresql) or ${pg.ENV_VAR}")
    cluster = pg.PgCluster(bin_dir)
    try:
        cluster.start()
    except Exception as exc:  # e.g. no postgres user, no runuser: say why instead of failing every test
        cluster.stop()
        pytest.skip(f"could not start a throwaway PostgreSQL cluster: {exc}")
    yield cluster.url
    cluster.stop()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty schema for one test; the URL confines every connection to it."""
    from tests import pg

    with pg.fresh_schema(pg_server) as url:
        yield url


# ----- OAuth mode ("Add to Slack" for many workspaces) ---------------------------------------------

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret-0123456789"
SECRET_KEY = "kM5bT3mQ7cR2vX9wZ1yA4dF6gH8jK0lN2pS4uW6xY8A="  # a Fernet key (32 bytes, URL-safe base64)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def oauth_settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    """The app as one deployment for many workspaces, against the fake Slack; its port is chosen here
    because the Redirect URL registered with Slack must name it."""
    import dataclasses

    port = free_port()
    redirect = f"http://127.0.0.1:{port}/slack/oauth_redirect"
    fake_slack.configure_oauth(CLIENT_ID, CLIENT_SECRET, redirect)
    return dataclasses.replace(
        settings,
        slack_bot_token="",
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_redirect_uri=redirect,
        slack_authorize_url=f"{fake_slack.base_url}/oauth/v2/authorize",
        secret_keys=(SECRET_KEY,),
        port=port,
    )


@pytest.fixture
def oauth_bot(oauth_settings: Settings, clock: Clock, fake_slack: FakeSlack) -> Iterator[RunningBot]:
    services = build_services(oauth_settings, clock=clock, hf_sleep=lambda _s: None)
    running = RunningBot(services, fake_slack, port=oauth_settings.port)
    yield running
    running.close()
