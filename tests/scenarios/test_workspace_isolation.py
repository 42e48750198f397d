"""Two workspaces, one deployment, the same channel id in both: end to end over HTTP, on both stores.

Alpha (T0A1) and Beta (T0B2) install through "Add to Slack"; each subscribes its own channel C0001
(Slack channel ids are unique only within a workspace). Every command, button and modal from one of
them reads and changes only its own C0001; ``post-now`` posts to each with that workspace's token
(the fake Slack knows whose token each call carries and keeps each workspace's messages apart); an
uninstall of Alpha leaves Beta posting. The same holds for the team layer (Save, the Home tab, "Saved
by", .bib exports), link cards, follow-up replies and weekly recaps, with colliding user ids too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.models import ChannelConfig, PaperRef, RunKind, RunState, Signal, SignalKind
from bot.ui.ids import HOME_READ, SAVE_ACTION
from bot.ui.settings_view import BLOCK_TOPICS, CALLBACK_ID
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import (
    FakeHF,
    FakeSlack,
    block_actions_payload,
    event_callback_body,
    interactive_body,
    link_shared_event,
    make_entry,
    view_state_values,
    view_submission_payload,
)
from tests.fakes.slack import Call
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


# --- the team layer, link cards, follow-ups and recaps (issues 16 and 17) in two workspaces -------------
#
# The same channel id (C0001) and the same user id (U0001) in Alpha and Beta: a Save, a Home tab, a
# "Saved by" update, a .bib export, a link card, a follow-up reply and a weekly recap each read only
# their workspace's records and go out with that workspace's token.

FRIDAY_1600 = datetime(2026, 8, 21, 16, 0, tzinfo=UTC)


def digest_of(bot: RunningBot, fake_slack: FakeSlack, team: str) -> dict[str, Any]:
    """The workspace's digest in its C0001, as it stands in Slack now (found by the ledger's ts)."""
    run = bot.services.store.get_run(CHANNEL, date(2026, 8, 21), team_id=team)
    assert run is not None and run.ts
    message = fake_slack.message(CHANNEL, run.ts[0])
    assert message is not None and message["team"] == team
    return message


def save_in(bot: RunningBot, fake_slack: FakeSlack, team: str, key: str, user: str, name: str) -> str:
    """``user`` of ``team`` presses Save on ``key``'s card in that workspace's digest; the private answer."""
    message = digest_of(bot, fake_slack, team)
    url = fake_slack.response_url(name)
    payload = block_actions_payload(
        SAVE_ACTION, key, team_id=team, user_id=user, response_url=url, message_ts=message["ts"]
    )
    payload["message"] = message
    assert bot.post(interactive_body(payload)).status_code == 200
    [answer] = fake_slack.wait_for_responses(1, name=name)
    bot.listener_pool.settle()
    return str(answer["text"])


def open_home_in(bot: RunningBot, fake_slack: FakeSlack, team: str, user: str = "U0001") -> Call:
    before = len(fake_slack.calls("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0001", "tab": "home"}
    assert bot.post(event_callback_body(event, team_id=team)).status_code == 200
    return fake_slack.wait_for_calls("views.publish", before + 1)[-1]


def assert_each_call_used_its_own_token(fake_slack: FakeSlack) -> None:
    for call in fake_slack.calls():
        if call.method != "oauth.v2.access" and call.team in (ALPHA, BETA):
            assert call.headers["authorization"] == f"Bearer {token_of(fake_slack, call.team)}", call.method


def test_save_the_home_tab_and_a_bib_export_stay_in_their_workspace_with_its_token(
    two: RunningBot, fake_slack: FakeSlack, clock: Clock
) -> None:
    assert two.services.runner.run_now(clock()).count("posted") == 2  # all three papers in each C0001
    fake_slack.reset()

    alpha = save_in(two, fake_slack, ALPHA, "2608.00001", "U0001", "a1")
    beta = save_in(two, fake_slack, BETA, "2608.00002", "U0001", "b1")
    save_in(two, fake_slack, BETA, "2608.00002", "U0002", "b2")

    assert "Process Reward Models for Agents" in alpha and "Speech" not in alpha
    assert "Speech Synthesis at Scale" in beta and "Process Reward" not in beta
    store = two.services.store  # the whole store: each workspace's records under its own key
    assert [s.key for s in store.saved_papers(ALPHA, "U0001")] == ["2608.00001"]
    assert [s.key for s in store.saved_papers(BETA, "U0001")] == ["2608.00002"]
    assert store.save_counts(ALPHA, ["2608.00001", "2608.00002"]) == {"2608.00001": 1}
    assert store.save_counts(BETA, ["2608.00001", "2608.00002"]) == {"2608.00002": 2}
    week = clock() - timedelta(days=7)
    assert [(c, p.key, n) for c, p, n in store.signal_counts(ALPHA, since=week)] == [(CHANNEL, "2608.00001", 1)]
    assert [(c, p.key, n) for c, p, n in store.signal_counts(BETA, since=week)] == [(CHANNEL, "2608.00002", 2)]

    # "Saved by N" went onto each workspace's own post, with its own token, counting its own people.
    updates = fake_slack.calls("chat.update")
    assert sorted(u.team for u in updates) == [ALPHA, BETA, BETA]
    for update in updates:
        assert update.args["ts"] == digest_of(two, fake_slack, update.team)["ts"]
    alpha_post = json.dumps(digest_of(two, fake_slack, ALPHA)["blocks"], ensure_ascii=False)
    beta_post = json.dumps(digest_of(two, fake_slack, BETA)["blocks"], ensure_ascii=False)
    assert alpha_post.count("Saved by") == 1 and "Saved by 1" in alpha_post and "Saved by 2" not in alpha_post
    assert beta_post.count("Saved by") == 1 and "Saved by 2" in beta_post

    # U0001's Home tab in each workspace: its own reading list and team picks, published with its token.
    fake_slack.user_channels["U0001"] = [CHANNEL]
    home_a = open_home_in(two, fake_slack, ALPHA)
    home_b = open_home_in(two, fake_slack, BETA)
    assert (home_a.team, home_b.team) == (ALPHA, BETA)
    text_a, text_b = texts_of(home_a.args["view"]), texts_of(home_b.args["view"])
    assert "Process Reward Models" in text_a and "Speech Synthesis" not in text_a
    assert "Speech Synthesis" in text_b and "Process Reward Models" not in text_b
    assert sorted(c.team for c in fake_slack.calls("users.conversations")) == [ALPHA, BETA]

    # Mark read in Beta's Home tab: Beta's item only.
    view = {**home_b.args["view"], "type": "home", "id": "VBETA"}
    payload = block_actions_payload(HOME_READ, "2608.00002", team_id=BETA, user_id="U0001", view=view)
    assert two.post(interactive_body(payload)).status_code == 200
    fake_slack.wait_for_calls("views.publish", 3)
    two.listener_pool.settle()
    assert [s.read_at is not None for s in store.saved_papers(BETA, "U0001")] == [True]
    assert [s.read_at is None for s in store.saved_papers(ALPHA, "U0001")] == [True]
    assert fake_slack.calls("views.publish")[-1].team == BETA

    # /papers export saved in Beta: the .bib holds Beta's list and reaches U0001's DM with Beta's bot.
    assert "Sent `papers-saved-" in two.command("export saved", team=BETA).text
    [upload] = [u for u in fake_slack.uploads.values() if u["filename"].endswith(".bib")]
    bib = upload["data"].decode()
    assert upload["team"] == BETA and "2608.00002" in bib and "2608.00001" not in bib
    assert [c.team for c in fake_slack.calls("conversations.open")] == [BETA]
    assert [c.team for c in fake_slack.calls("files.completeUploadExternal")] == [BETA]
    assert_each_call_used_its_own_token(fake_slack)


def test_a_link_card_in_one_workspace_is_unfurled_with_its_token_and_never_for_an_uninstalled_one(
    two: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    fake_hf.extra_papers = [make_entry("2608.00099", "Cards for Beta", upvotes=12)]

    def share(team: str, ts: str) -> None:
        url = "https://arxiv.org/abs/2608.00099"
        event = link_shared_event([url], channel=CHANNEL, message_ts=ts)
        fake_slack.share_links((CHANNEL, ts), [url])
        assert two.post(event_callback_body(event, team_id=team)).status_code == 200
        assert two.services.unfurler is not None and two.services.unfurler.wait_idle(20)

    share(BETA, "1700000500.000100")
    [card] = fake_slack.calls("chat.unfurl")
    assert card.team == BETA and card.headers["authorization"] == f"Bearer {token_of(fake_slack, BETA)}"
    assert card.args["ts"] == "1700000500.000100" and "Cards for Beta" in json.dumps(card.args["unfurls"])

    assert two.post(event_callback_body({"type": "app_uninstalled"}, team_id=ALPHA)).status_code == 200
    two.listener_pool.settle()
    share(ALPHA, "1700000600.000100")  # Alpha has no installation now: no card, and nobody else's token
    assert [c.team for c in fake_slack.calls("chat.unfurl")] == [BETA]


def test_follow_up_replies_and_weekly_recaps_go_to_each_workspace_with_its_token(
    two: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock
) -> None:
    fake_hf.clock = clock
    for team, spec in ((ALPHA, "fri 16:00"), (BETA, "fri 16:00")):
        assert "recap" in two.command(f"set recap {spec}", team=team).text
    assert two.services.runner.run_now(clock()).count("posted") == 2  # the same three papers in both C0001s
    checker, recaps = two.services.follow_ups, two.services.recaps
    assert checker is not None and recaps is not None
    checker.take_baselines(clock())
    posts = {team: digest_of(two, fake_slack, team)["ts"] for team in (ALPHA, BETA)}

    # The next day 2608.00002 gains code: one reply in each workspace's thread, each with its own token.
    saturday = clock() + timedelta(days=1)
    fake_hf.change_paper("2608.00002", saturday, githubRepo="https://github.com/acme/speech", githubStars=7)
    clock.set(saturday + timedelta(hours=5))
    summary = checker.run()
    assert (summary.replies, summary.errors) == (2, {})
    for team in (ALPHA, BETA):
        [reply] = [m for m in fake_slack.thread(CHANNEL, posts[team])]
        assert reply["team"] == team and "Code released" in texts_of(reply)
        entry = two.services.store.get_entry(CHANNEL, RunKind.FOLLOW_UP, "2608.00002/code", team_id=team)
        assert entry is not None and entry.state == RunState.POSTED and entry.ts == (reply["ts"],)
    replies = [c for c in fake_slack.posts(CHANNEL) if c.args.get("thread_ts")]
    assert sorted((c.team, c.args["thread_ts"]) for c in replies) == sorted((t, ts) for t, ts in posts.items())
    assert checker.run().replies == 0  # told once per workspace

    # The weekly recap: Beta's signals rank Beta's recap only; each posted and charted with its token.
    two.services.store.add_signal(
        Signal(BETA, CHANNEL, "U0002", SignalKind.SAVE, PaperRef("2608.00003", "Diffusion for Video"), FRIDAY_1600)
    )
    fake_slack.reset()
    done = recaps.run_due(FRIDAY_1600)
    assert done.outcomes == {f"{ALPHA}/{CHANNEL}": "posted", f"{BETA}/{CHANNEL}": "posted"}, done.errors
    recap = {c.team: texts_of(c.args) for c in fake_slack.posts(CHANNEL) if "Weekly recap" in texts_of(c.args)}
    assert set(recap) == {ALPHA, BETA}
    assert "👥 1 here" in recap[BETA] and "👥" not in recap[ALPHA]
    assert recap[BETA].index("Diffusion for Video") < recap[BETA].index("Process Reward Models")
    assert recap[ALPHA].index("Process Reward Models") < recap[ALPHA].index("Diffusion for Video")  # upvotes
    assert sorted(u["team"] for u in fake_slack.uploads.values()) == [ALPHA, BETA]  # each chart, its token
    for team in (ALPHA, BETA):
        entry = two.services.store.get_entry(CHANNEL, RunKind.RECAP, "2026-W34", team_id=team)
        assert entry is not None and entry.state == RunState.POSTED
    assert_each_call_used_its_own_token(fake_slack)
