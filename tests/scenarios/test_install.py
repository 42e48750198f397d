"""OAuth mode over HTTP: "Add to Slack" against the fake Slack, on both store backends.

What a user sees (the pages) and what is stored (the installation, the workspace record) for the
ways an install goes: allowed, cancelled, a tampered state, a replayed one, an expired one; and
rotation of tokens the app was given with refresh tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import text

from bot.posting.scheduler import PostScheduler
from tests.conftest import CLIENT_ID, Clock, RunningBot
from tests.fakes import FakeHF, FakeSlack, event_callback_body, make_day
from tests.oauth_flow import Installer

THURSDAY = "2026-08-20"


@pytest.fixture
def installer(oauth_bot: RunningBot, fake_slack: FakeSlack) -> Iterator[Installer]:
    flow = Installer(oauth_bot.url, fake_slack)
    yield flow
    flow.close()


def stored_bot_token(bot: RunningBot, team_id: str) -> str | None:
    assert bot.services.oauth is not None
    found = bot.services.oauth.installations.find_bot(enterprise_id=None, team_id=team_id)
    return found.bot_token if found else None


def nothing_stored(bot: RunningBot, team_id: str) -> bool:
    return stored_bot_token(bot, team_id) is None and bot.store.get_workspace(team_id) is None


def test_the_landing_page_explains_and_offers_add_to_slack(oauth_bot: RunningBot) -> None:
    page = oauth_bot.http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/slack/install"' in page.text and ">Add to Slack<" in page.text
    for scope in ("commands", "chat:write", "chat:write.public", "users:read", "channels:history", "groups:history"):
        assert f"<dt>{scope}</dt>" in page.text
    assert "30 days later" in page.text  # what it keeps and for how long
    assert "script-src" not in page.headers["content-security-policy"]  # no script may run at all
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_install_sends_the_browser_to_slack_with_a_state_bound_to_it(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack
) -> None:
    started = installer.start()
    url = urlsplit(started.authorize_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake_slack.base_url}/oauth/v2/authorize"
    query = parse_qs(url.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == [
        "commands,chat:write,chat:write.public,users:read,channels:history,groups:history,"
        "links:read,links:write,reactions:read,files:write,im:write,channels:read,groups:read"
    ]
    assert query["redirect_uri"] == [oauth_bot.services.settings.slack_redirect_uri]
    assert started.cookie == f"slack-app-oauth-state={started.state}"


def test_allow_installs_the_workspace_and_names_it(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack
) -> None:
    page = installer.install("T0A1", "Alpha Lab")

    assert page.status_code == 200
    assert "papers-bot is installed in Alpha Lab" in page.text
    assert "/papers subscribe" in page.text
    assert "slack-app-oauth-state=deleted" in page.headers["set-cookie"]
    assert stored_bot_token(oauth_bot, "T0A1") == fake_slack.tokens_of("T0A1")[0]
    workspace = oauth_bot.store.get_workspace("T0A1")
    assert workspace is not None and workspace.team_name == "Alpha Lab" and workspace.installed


def test_cancel_shows_why_and_stores_nothing(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack
) -> None:
    page = installer.install("T0A1", "Alpha Lab", allow=False)

    assert page.status_code == 200
    assert "The installation was cancelled" in page.text and 'href="/slack/install"' in page.text
    assert nothing_stored(oauth_bot, "T0A1")
    assert fake_slack.calls("oauth.v2.access") == []


def test_a_tampered_state_gets_the_failure_page_and_nothing_is_stored(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack
) -> None:
    fake_slack.install_as("T0A1", "Alpha Lab")
    started = installer.start()
    redirect = urlsplit(installer.decide(started))
    query = parse_qs(redirect.query)
    tampered = f"{redirect.path}?{urlencode({'code': query['code'][0], 'state': started.state[:-4] + 'beef'})}"

    page = installer.finish(tampered, started.cookie)

    assert page.status_code == 400
    assert "This install link has expired" in page.text and "Try again" in page.text
    assert nothing_stored(oauth_bot, "T0A1")
    assert fake_slack.calls("oauth.v2.access") == []  # the code was never even exchanged


def test_a_state_without_its_browser_cookie_is_refused(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack
) -> None:
    fake_slack.install_as("T0A1", "Alpha Lab")
    started = installer.start()
    page = installer.finish(installer.decide(started), cookie=None)  # e.g. a link sent to someone else
    assert page.status_code == 400 and "This install link has expired" in page.text
    assert nothing_stored(oauth_bot, "T0A1")


def test_a_replayed_redirect_is_refused_and_installs_nothing_more(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack
) -> None:
    fake_slack.install_as("T0A1", "Alpha Lab")
    started = installer.start()
    redirect = installer.decide(started)
    assert installer.finish(redirect, started.cookie).status_code == 200
    token = stored_bot_token(oauth_bot, "T0A1")

    replay = installer.finish(redirect, started.cookie)

    assert replay.status_code == 401 and "This install link has expired" in replay.text
    assert len(fake_slack.calls("oauth.v2.access")) == 1
    assert stored_bot_token(oauth_bot, "T0A1") == token


def test_an_expired_state_is_refused(oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack) -> None:
    fake_slack.install_as("T0A1", "Alpha Lab")
    started = installer.start()
    redirect = installer.decide(started)
    assert oauth_bot.services.oauth is not None
    with oauth_bot.services.oauth.engine.begin() as conn:  # eleven minutes pass
        past = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
        conn.execute(text("UPDATE slack_oauth_states SET expire_at = :past"), {"past": past})

    page = installer.finish(redirect, started.cookie)

    assert page.status_code == 401 and "This install link has expired" in page.text
    assert nothing_stored(oauth_bot, "T0A1")


def test_a_workspace_subscribes_and_gets_posts_with_its_own_token(
    oauth_bot: RunningBot,
    installer: Installer,
    fake_slack: FakeSlack,
    fake_hf: FakeHF,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    installer.install("T0A1", "Alpha Lab")
    reply = oauth_bot.command("subscribe 09:00 UTC daily", channel="C0A", team="T0A1")
    assert "Subscribed" in reply.text
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)

    summary = oauth_bot.services.runner.run_now(clock())

    assert summary.outcomes == {"T0A1/C0A": "posted"}
    posts = fake_slack.posts("C0A")
    assert posts and all(p.team == "T0A1" for p in posts)
    token = fake_slack.tokens_of("T0A1")[0]
    assert all(p.headers["authorization"] == f"Bearer {token}" for p in posts)
    assert caplog.records and token not in caplog.text  # the bot's own logs, even at DEBUG


def test_a_command_from_a_workspace_that_never_installed_is_turned_away(
    oauth_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    result = oauth_bot.command("subscribe", channel="C0Z", team="T0ZZ")
    assert "reinstall" in result.text.lower() or "installation" in result.text.lower()
    assert oauth_bot.store.get_channel("C0Z", team_id="T0ZZ") is None
    assert fake_slack.posts() == []


def test_rotating_tokens_are_refreshed_before_they_expire_and_saved_encrypted(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock
) -> None:
    fake_slack.token_rotation = True
    fake_slack.token_lifetime = 3600  # an hour: within the two hours before expiry when it is rotated
    installer.install("T0A1", "Alpha Lab")
    first = fake_slack.tokens_of("T0A1")[0]
    assert first.startswith("xoxe.xoxb-")
    oauth_bot.command("subscribe 09:00 UTC daily", channel="C0A", team="T0A1")  # Bolt rotates for the request
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)

    oauth_bot.services.runner.run_now(clock())

    digest = [p for p in fake_slack.posts("C0A") if p.args.get("metadata")]
    assert digest, "the digest was posted"
    used = digest[0].headers["authorization"].removeprefix("Bearer ")
    assert used != first and fake_slack.tokens[used] == "T0A1"
    assert stored_bot_token(oauth_bot, "T0A1") in fake_slack.tokens_of("T0A1")[1:]
    refreshes = [c for c in fake_slack.calls("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
    assert refreshes and all(c.ok for c in refreshes)


# ----- removal: app_uninstalled / tokens_revoked, purge after 30 days ---------------------------------


def two_workspaces(bot: RunningBot, installer: Installer, clock: Clock) -> None:
    """Alpha (T0A1) subscribes C0A, Beta (T0B2) subscribes C0B, the day before, so today's slot is owed."""
    installer.install("T0A1", "Alpha Lab")
    installer.install("T0B2", "Beta Lab")
    saved = clock()
    clock.set(saved - timedelta(days=1))
    assert "Subscribed" in bot.command("subscribe 09:00 UTC daily", channel="C0A", team="T0A1").text
    assert "Subscribed" in bot.command("subscribe 09:00 UTC daily", channel="C0B", team="T0B2").text
    clock.set(saved)


def send_event(bot: RunningBot, event: dict[str, object], team_id: str) -> None:
    assert bot.post(event_callback_body(event, team_id=team_id)).status_code == 200
    bot.listener_pool.settle()


@pytest.mark.parametrize(
    "event",
    [{"type": "app_uninstalled"}, {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}],
    ids=["app_uninstalled", "tokens_revoked"],
)
def test_removal_deletes_the_tokens_at_once_pauses_its_channels_and_leaves_the_other_workspace_posting(
    oauth_bot: RunningBot,
    installer: Installer,
    fake_slack: FakeSlack,
    fake_hf: FakeHF,
    clock: Clock,
    event: dict[str, object],
) -> None:
    two_workspaces(oauth_bot, installer, clock)
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    fake_slack.revoke("T0A1")  # Slack has already invalidated Alpha's token when the event arrives

    send_event(oauth_bot, event, "T0A1")
    send_event(oauth_bot, event, "T0A1")  # Slack redelivers: nothing more happens

    assert stored_bot_token(oauth_bot, "T0A1") is None
    alpha = oauth_bot.store.get_channel("C0A", team_id="T0A1")
    assert alpha is not None and alpha.paused_reason == event["type"]
    workspace = oauth_bot.store.get_workspace("T0A1")
    assert workspace is not None and workspace.removed_reason == event["type"] and workspace.removed_at
    beta = oauth_bot.store.get_channel("C0B", team_id="T0B2")
    assert beta is not None and beta.active and stored_bot_token(oauth_bot, "T0B2") is not None

    fake_slack.reset()
    summary = oauth_bot.services.runner.run_due(clock())

    assert summary.outcomes == {"T0B2/C0B": "posted"}
    assert fake_slack.calls(team="T0A1") == []  # nothing was even tried with Alpha's dead token
    assert fake_slack.posts("C0B", team="T0B2")


def test_only_user_tokens_revoked_changes_nothing(oauth_bot: RunningBot, installer: Installer, clock: Clock) -> None:
    two_workspaces(oauth_bot, installer, clock)
    send_event(oauth_bot, {"type": "tokens_revoked", "tokens": {"oauth": ["U0INSTALLER"]}}, "T0A1")
    assert stored_bot_token(oauth_bot, "T0A1") is not None
    channel = oauth_bot.store.get_channel("C0A", team_id="T0A1")
    assert channel is not None and channel.active


def test_a_token_slack_revokes_without_telling_stops_only_its_own_workspace(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock
) -> None:
    two_workspaces(oauth_bot, installer, clock)
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    fake_slack.revoke("T0A1")  # no event (yet): the first post finds out

    summary = oauth_bot.services.runner.run_due(clock())

    assert summary.outcomes["T0B2/C0B"] == "posted" and summary.outcomes["T0A1/C0A"] == "failed"
    assert oauth_bot.services.workspaces.rejected("T0A1") == "token_revoked"
    assert oauth_bot.services.workspaces.rejected("T0B2") == ""
    assert oauth_bot.services.runner.token_rejected == ""  # /healthz: one workspace is not the process's health


def test_a_reinstall_resumes_the_channels_the_removal_paused(
    oauth_bot: RunningBot, installer: Installer, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock
) -> None:
    two_workspaces(oauth_bot, installer, clock)
    send_event(oauth_bot, {"type": "app_uninstalled"}, "T0A1")
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)

    page = installer.install("T0A1", "Alpha Lab")

    assert "papers-bot is installed in Alpha Lab" in page.text
    channel = oauth_bot.store.get_channel("C0A", team_id="T0A1")
    assert channel is not None and channel.active
    workspace = oauth_bot.store.get_workspace("T0A1")
    assert workspace is not None and workspace.installed
    new_token = fake_slack.tokens_of("T0A1")[-1]
    fake_slack.reset()
    assert oauth_bot.services.runner.run_due(clock()).outcomes == {"T0A1/C0A": "posted", "T0B2/C0B": "posted"}
    assert all(p.headers["authorization"] == f"Bearer {new_token}" for p in fake_slack.posts("C0A"))


def test_a_removed_workspace_is_purged_after_30_days_and_not_before(
    oauth_bot: RunningBot, installer: Installer, clock: Clock
) -> None:
    two_workspaces(oauth_bot, installer, clock)
    send_event(oauth_bot, {"type": "app_uninstalled"}, "T0A1")
    installs = oauth_bot.services.installs
    assert installs is not None

    clock.advance(days=29, hours=23)
    assert installs.purge_due() == []
    assert oauth_bot.store.get_channel("C0A", team_id="T0A1") is not None

    clock.advance(hours=1)
    scheduler = PostScheduler(oauth_bot.services.runner, oauth_bot.store, installs=installs)
    scheduler._prune()  # the daily job

    assert (
        oauth_bot.store.get_channel("C0A", team_id="T0A1") is None and oauth_bot.store.runs("C0A", team_id="T0A1") == []
    )
    assert oauth_bot.store.get_workspace("T0A1") is None
    assert (
        oauth_bot.store.get_channel("C0B", team_id="T0B2") is not None
        and oauth_bot.store.get_workspace("T0B2") is not None
    )
