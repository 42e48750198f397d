"""Two workspaces, one deployment, the same channel id in both: end to end over HTTP, on both stores.

Alpha (T0A1) and Beta (T0B2) install through "Add to Slack"; each subscribes its own channel C0001
(Slack channel ids are unique only within a workspace). Every command, button and modal from one of
them reads and changes only its own C0001; ``post-now`` posts to each with that workspace's token
(the fake Slack knows whose token each call carries and keeps each workspace's messages apart); an
uninstall of Alpha leaves Beta posting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.models import ChannelConfig
from bot.ui.settings_view import BLOCK_TOPICS, CALLBACK_ID
from tests.conftest import Clock, RunningBot
from tests.fakes import (
    FakeHF,
    FakeSlack,
    block_actions_payload,
    event_callback_body,
    interactive_body,
    make_entry,
    view_state_values,
    view_submission_payload,
)
from tests.oauth_flow import Installer

THURSDAY = "2026-08-20"
FRIDAY = "2026-08-21"
ALPHA, BETA, CHANNEL = "T0A1", "T0B2", "C0001"


@pytest.fixture
def two(oauth_bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock) -> Iterator[RunningBot]:
    """Both workspaces installed through the flow, each with its own C0001 subscribed the day before."""
    installer = Installer(oauth_bot.url, fake_slack)
    assert "installed in Alpha Lab" in installer.install(ALPHA, "Alpha Lab").text
    assert "installed in Beta Lab" in installer.install(BETA, "Beta Lab").text
    installer.close()
    fake_hf.days[THURSDAY] = [
        make_entry("2608.00001", "Process Reward Models for Agents", upvotes=90, day=THURSDAY),
        make_entry("2608.00002", "Speech Synthesis at Scale", upvotes=80, day=THURSDAY),
        make_entry("2608.00003", "Diffusion for Video", upvotes=70, day=THURSDAY),
    ]
    saved = clock()
    clock.set(saved - timedelta(days=1))
    assert "Subscribed" in oauth_bot.command("subscribe 09:00 UTC daily", team=ALPHA).text
    assert "Subscribed" in oauth_bot.command("subscribe 07:30 Europe/Berlin mon-fri", team=BETA).text
    clock.set(saved)
    yield oauth_bot


def channel(bot: RunningBot, team: str) -> ChannelConfig:
    config = bot.store.get_channel(CHANNEL, team_id=team)
    assert config is not None
    return config


def token_of(fake: FakeSlack, team: str) -> str:
    [token] = fake.tokens_of(team)
    return token


def test_the_same_channel_id_is_two_channels_each_changed_only_by_its_own_workspace(
    two: RunningBot, fake_slack: FakeSlack
) -> None:
    assert channel(two, ALPHA).timezone == "UTC" and channel(two, BETA).timezone == "Europe/Berlin"

    assert "speech" in two.command("follow speech", team=BETA).text
    assert "reward models" in two.command("follow reward models", team=ALPHA).text
    assert channel(two, ALPHA).filter_text == "reward models"
    assert channel(two, BETA).filter_text == "speech"
    assert "speech" not in two.command("topics", team=ALPHA).text
    assert "07:30" in two.command("status", team=BETA).text and "07:30" not in two.command("status", team=ALPHA).text

    # A button from Beta (clear the filter) clears Beta's C0001 only.
    url = fake_slack.response_url("beta-clear")
    payload = block_actions_payload("papers_clear_confirm", CHANNEL, team_id=BETA, response_url=url)
    assert two.post(interactive_body(payload)).status_code == 200
    assert "Cleared the filter" in fake_slack.wait_for_responses(1, name="beta-clear")[0]["text"]
    assert channel(two, BETA).filter_text == "" and channel(two, ALPHA).filter_text == "reward models"

    # A settings modal submitted in Alpha changes Alpha's C0001 only.
    two.command("settings", team=ALPHA, wait=False)
    [opened] = fake_slack.wait_for_calls("views.open", 1)
    assert opened.team == ALPHA  # opened with Alpha's token
    view = opened.args["view"]
    values = view_state_values(view, {BLOCK_TOPICS: "diffusion"})
    submission = view_submission_payload(CALLBACK_ID, values, private_metadata=view["private_metadata"], team_id=ALPHA)
    response = two.post(interactive_body(submission))
    assert response.status_code == 200 and "errors" not in response.text
    two.listener_pool.settle()
    assert channel(two, ALPHA).filter_text == "diffusion" and channel(two, BETA).filter_text == ""

    # Every answer went out with the asking workspace's own token.
    for call in fake_slack.calls():
        if call.method != "oauth.v2.access" and call.args.get("channel") == CHANNEL:
            assert call.headers["authorization"] == f"Bearer {token_of(fake_slack, call.team)}"


def test_post_now_posts_to_each_with_its_own_token_and_an_uninstall_leaves_the_other_posting(
    two: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock
) -> None:
    two.command("follow reward models", team=ALPHA)
    two.command("follow speech", team=BETA)
    fake_slack.reset()

    summary = two.services.runner.run_now(clock())

    assert summary.outcomes == {f"{ALPHA}/{CHANNEL}": "posted", f"{BETA}/{CHANNEL}": "posted"}
    alpha = [p for p in fake_slack.posts(CHANNEL, team=ALPHA) if p.args.get("blocks")]
    beta = [p for p in fake_slack.posts(CHANNEL, team=BETA) if p.args.get("blocks")]
    assert len(alpha) == 1 and len(beta) == 1  # one post each, never both in one workspace
    assert alpha[0].headers["authorization"] == f"Bearer {token_of(fake_slack, ALPHA)}"
    assert beta[0].headers["authorization"] == f"Bearer {token_of(fake_slack, BETA)}"
    assert "Process Reward Models" in json.dumps(alpha[0].args) and "Speech" not in json.dumps(alpha[0].args)
    assert "Speech Synthesis" in json.dumps(beta[0].args) and "Process Reward" not in json.dumps(beta[0].args)
    store = two.services.store
    assert store.posted_keys(CHANNEL, team_id=ALPHA) == {"2608.00001"}
    assert store.posted_keys(CHANNEL, team_id=BETA) == {"2608.00002"}
    assert two.services.runner.run_now(clock()).count("posted") == 0  # once a day, per workspace

    # Alpha uninstalls; the next day Beta still gets its post and Alpha's token is never used again.
    assert two.post(event_callback_body({"type": "app_uninstalled"}, team_id=ALPHA)).status_code == 200
    two.listener_pool.settle()
    fake_slack.revoke(ALPHA)
    fake_hf.days[FRIDAY] = [make_entry("2608.00011", "More Speech Models", upvotes=60, day=FRIDAY)]
    fake_slack.reset()
    clock.advance(days=1)

    later = two.services.runner.run_now(clock())

    assert later.outcomes == {f"{BETA}/{CHANNEL}": "posted"}
    assert fake_slack.calls(team=ALPHA) == []
    assert [p.team for p in fake_slack.posts(CHANNEL)] == [BETA]
    assert channel(two, ALPHA).paused_reason == "app_uninstalled"


def test_another_workspaces_history_is_not_searched(two: RunningBot, fake_slack: FakeSlack, clock: Clock) -> None:
    two.command("follow reward models", team=ALPHA)
    two.command("follow speech", team=BETA)
    two.services.runner.run_now(clock())
    mine = two.command("search --posted", team=ALPHA)
    theirs = two.command("search --posted", team=BETA)
    assert "Process Reward Models" in mine.text and "Speech Synthesis" not in mine.text
    assert "Speech Synthesis" in theirs.text and "Process Reward Models" not in theirs.text


@pytest.mark.parametrize("store_backend", ["tinydb"])  # a real process on the TinyDB file
def test_post_now_from_the_command_line_uses_each_installation(
    oauth_bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import CLIENT_ID, CLIENT_SECRET, SECRET_KEY

    installer = Installer(oauth_bot.url, fake_slack)
    installer.install(ALPHA, "Alpha Lab")
    installer.install(BETA, "Beta Lab")
    installer.close()
    oauth_bot.command("subscribe", team=ALPHA)
    oauth_bot.command("subscribe", team=BETA)
    settings = oauth_bot.services.settings
    oauth_bot.close()  # the TinyDB file has one process at a time
    fake_hf.days["2026-08-23"] = [make_entry("2608.00021", "Today's Paper", upvotes=5, day="2026-08-23")]
    fake_slack.reset()
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAPERS_BOT_", "DATABASE_URL"))}
    env.update(
        PYTHONPATH=str(root),
        PAPERS_BOT_DB=settings.db_path,
        HF_ENDPOINT=settings.hf_endpoint,
        SLACK_API_URL=settings.slack_api_url,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        PAPERS_BOT_SECRET_KEY=SECRET_KEY,
        PAPERS_BOT_SEMANTIC_MODEL="off",
    )

    result = subprocess.run(
        [sys.executable, "-m", "bot", "post-now", "--date", "2026-08-23"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert f"{ALPHA}/{CHANNEL}: posted" in result.stdout and f"{BETA}/{CHANNEL}: posted" in result.stdout
    posts = [p for p in fake_slack.posts(CHANNEL) if p.args.get("blocks")]
    assert sorted(p.team for p in posts) == [ALPHA, BETA]
    for post in posts:
        assert post.headers["authorization"] == f"Bearer {token_of(fake_slack, post.team)}"
    assert token_of(fake_slack, ALPHA) not in result.stdout + result.stderr


def test_alerts_go_to_the_operators_workspace_naming_the_failing_workspace(
    oauth_settings: object, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock
) -> None:
    """PAPERS_BOT_ALERT_CHANNEL=T…/C…: the alert is posted with that workspace's token, whichever
    workspace's channel failed, and says which one (a channel link would not resolve across workspaces)."""
    import dataclasses

    from bot.config import Settings
    from bot.services import build_services

    assert isinstance(oauth_settings, Settings)
    settings = dataclasses.replace(oauth_settings, alert_channel="C0ALERT", alert_team=ALPHA)
    bot = RunningBot(build_services(settings, clock=clock, hf_sleep=lambda _s: None), fake_slack, port=settings.port)
    try:
        installer = Installer(bot.url, fake_slack)
        installer.install(ALPHA, "Alpha Lab")
        installer.install(BETA, "Beta Lab")
        installer.close()
        bot.command("subscribe", team=BETA)
        fake_hf.days[THURSDAY] = [make_entry("2608.00001", "A Paper", upvotes=9, day=THURSDAY)]
        fake_slack.missing_channels.add(CHANNEL)  # Beta's channel is gone: paused, alerted
        bot.services.runner.run_now(clock())
        [alert] = fake_slack.posts("C0ALERT")
        assert alert.team == ALPHA and f"`{BETA}/{CHANNEL}`" in alert.args["text"]
    finally:
        bot.close()
