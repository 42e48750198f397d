"""The fakes are only worth something if they behave like the services: prove it with real clients.

Every Slack test talks through slack_sdk's own ``WebClient``/``WebhookClient`` and every HF test
through ``httpx``, so what is asserted here is what the app will see.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import handler as retry_handler_module
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.conftest import SHARED

from . import slack as slack_module
from .entries import make_day, make_entry
from .hf import FakeHF
from .signing import (
    block_actions_payload,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)
from .slack import FakeSlack, check_blocks

SHARED_ARXIV = SHARED / "fixtures" / "arxiv"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Top paper* <https://arxiv.org/abs/2608.1|x>"}}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(private_channels={"CPRIV"}, admins={"UADMIN"}, owners={"UOWNER"}) as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record slack_sdk's retry sleeps instead of sleeping (keeps the file fast, proves Retry-After)."""
    sleeps: list[float] = []
    fake_time = SimpleNamespace(sleep=sleeps.append)
    monkeypatch.setattr("slack_sdk.http_retry.builtin_handlers.time", fake_time)
    monkeypatch.setattr(retry_handler_module, "time", fake_time)
    return sleeps


# ------------------------------------------------------------------------------------------------
# FakeSlack: happy paths
# ------------------------------------------------------------------------------------------------


def test_post_message_gets_increasing_ts_and_is_recorded(fake: FakeSlack, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C0001", text="Top papers", blocks=[SECTION], unfurl_links=False)
    second = client.chat_postMessage(channel="C0002", text="plain text only")

    assert first["ok"] and first["channel"] == "C0001"
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == [SECTION]
    [call] = fake.posts(channel="C0001")
    assert call.args["blocks"] == [SECTION]  # decoded, whatever the transport encoding
    assert call.args["unfurl_links"] is False
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert [c.method for c in fake.calls()] == ["chat.postMessage", "chat.postMessage"]
    assert fake.violations == [] and fake.unknown_calls == [] and fake.internal_errors == []


def test_form_encoded_blocks_string_is_decoded(fake: FakeSlack) -> None:
    """Slack documents blocks as "a JSON-based array … presented as a URL-encoded string"."""
    body = {"channel": "C0001", "text": "hi", "blocks": json.dumps([SECTION])}
    response = httpx.post(f"{fake.api_url}chat.postMessage", data=body, headers={"Authorization": "Bearer xoxb-t"})
    assert response.json()["ok"] is True
    assert fake.posts()[0].args["blocks"] == [SECTION]
    assert fake.violations == []


def test_read_methods_answer_from_configuration(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0001", text="hi")
    assert client.auth_test()["user_id"] == "UBOT"
    assert client.conversations_info(channel="CPRIV")["channel"]["is_private"] is True
    assert client.conversations_info(channel="C0001")["channel"]["is_private"] is False
    assert client.users_info(user="UADMIN")["user"]["is_admin"] is True
    assert client.users_info(user="UOWNER")["user"]["is_owner"] is True
    assert client.users_info(user="U0001")["user"]["is_admin"] is False
    link = client.chat_getPermalink(channel="C0001", message_ts=posted["ts"])["permalink"]
    assert link == "https://test.slack.com/archives/C0001/p1700000000000100"
    assert client.chat_postEphemeral(channel="C0001", user="U0001", text="only you")["message_ts"]
    assert client.conversations_join(channel="C0003")["ok"]
    updated = client.chat_update(channel="C0001", ts=posted["ts"], text="edited", blocks=[SECTION])
    assert fake.message("C0001", posted["ts"])["text"] == "edited" == updated["text"]
    assert fake.violations == []


def test_views_get_ids_and_home_tab_is_kept(fake: FakeSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [SECTION]}
    view_id = client.views_publish(user_id="U0001", view=home)["view"]["id"]
    again = client.views_publish(user_id="U0001", view=home)["view"]["id"]
    assert view_id == again and fake.home_views["U0001"]["blocks"] == [SECTION]
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Topics"}, "blocks": [SECTION]}
    opened = client.views_open(trigger_id="123.456", view=modal)["view"]
    assert client.views_update(view_id=opened["id"], view=modal)["view"]["id"] == opened["id"]
    assert fake.violations == []


def test_response_url_posts_are_recorded_and_awaitable(fake: FakeSlack) -> None:
    url = fake.response_url("cmd1")

    def reply_later() -> None:
        time.sleep(0.05)
        WebhookClient(url).send(text="Found 3 papers", blocks=[SECTION], response_type="ephemeral")

    threading.Thread(target=reply_later).start()
    [body] = fake.wait_for_responses(1, name="cmd1", timeout=2)
    assert body["response_type"] == "ephemeral" and body["blocks"] == [SECTION]
    assert fake.responses() == [body] and fake.responses("other") == []
    assert fake.violations == []


def test_wait_for_calls_times_out_with_a_useful_message(fake: FakeSlack) -> None:
    with pytest.raises(AssertionError, match=r"1 chat\.postMessage calls, got 0"):
        fake.wait_for_calls("chat.postMessage", 1, timeout=0.05)


# ------------------------------------------------------------------------------------------------
# FakeSlack: what it rejects
# ------------------------------------------------------------------------------------------------


def test_auth_is_required(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=fake.api_url).auth_test()
    assert missing.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as invalid:
        WebClient(token="xoxb-invalid", base_url=fake.api_url).auth_test()
    assert invalid.value.response["error"] == "invalid_auth"
    assert all(c.failed for c in fake.calls())


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
@pytest.mark.parametrize(
    ("blocks", "text", "expected"),
    [
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "t", "invalid_blocks"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "t", "invalid_blocks"),
        ([SECTION] * 51, "t", "invalid_blocks"),
        ([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "typo"}}], "t", "invalid_blocks"),
        ([{"type": "section", "text": {"type": "mrkdown", "text": "typo"}}], "t", "invalid_blocks"),
        ([SECTION], "", "invalid_blocks"),  # no top-level text fallback
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5, "t", "msg_blocks_too_long"),
    ],
    ids=["header-151", "section-3001", "51-blocks", "unknown-type", "bad-text-type", "no-fallback", "12k-total"],
)
def test_invalid_messages_are_flagged_and_refused(
    fake: FakeSlack, client: WebClient, blocks: list[dict[str, Any]], text: str, expected: str
) -> None:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0001", text=text, blocks=blocks)
    assert err.value.response["error"] == expected
    assert fake.violations and all(v.startswith("chat.postMessage: ") for v in fake.violations)
    assert fake.posts() == [] and fake.posts(include_failed=True)[0].failed


def test_catalog_flags_unknown_and_missing_args(fake: FakeSlack, client: WebClient) -> None:
    if fake.catalog is None:
        pytest.skip("shared/ method catalog not available")
    client.chat_postMessage(channel="C0001", text="hi", not_a_slack_arg="x")
    assert fake.violations == ["chat.postMessage: args unknown to the method catalog ['not_a_slack_arg']"]
    fake.reset()
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.postEphemeral", json={"channel": "C0001", "text": "no user"})
    assert err.value.response["error"] == "invalid_arguments"
    assert "missing required args ['user']" in fake.violations[0]


def test_unknown_methods_are_collected(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError):
        client.api_call("conversations.kick", params={"channel": "C1", "user": "U1"})
    assert [c.method for c in fake.unknown_calls] == ["conversations.kick"]
    fake.on("conversations.kick", {"ok": True})
    assert client.api_call("conversations.kick", params={"channel": "C1", "user": "U1"})["ok"]


def test_response_url_blocks_are_validated(fake: FakeSlack) -> None:
    bad = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 200}}]
    response = WebhookClient(fake.response_url()).send(text="t", blocks=bad)
    assert response.status_code == 400 and response.body == "invalid_blocks"
    assert fake.violations and fake.violations[0].startswith("response_url r1: ")


def test_scopes_are_checked_when_granted_scopes_are_given() -> None:
    with FakeSlack(scopes={"chat:write"}) as fake:
        if fake.catalog is None:
            pytest.skip("shared/ method catalog not available")
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        client.chat_postMessage(channel="C0001", text="ok")
        with pytest.raises(SlackApiError) as err:
            client.users_info(user="U0001")
        assert err.value.response["error"] == "missing_scope"
        assert err.value.response["needed"] == "users:read"


def test_works_without_shared_specs(tmp_path: Path) -> None:
    """Users of the app have no shared/ folder: the fake must still answer, minus catalog checks."""
    with FakeSlack(catalog_dir=tmp_path / "absent", schema_path=tmp_path / "absent.json") as fake:
        assert fake.catalog is None
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        assert client.chat_postMessage(channel="C0001", text="hi", anything="goes")["ok"]
        with pytest.raises(SlackApiError):  # slack_sdk's own block validation still runs
            client.chat_postMessage(channel="C0001", text="t", blocks=[SECTION] * 51)
    assert check_blocks([SECTION], schema_path=None) == ([], None)


# ------------------------------------------------------------------------------------------------
# FakeSlack: faults
# ------------------------------------------------------------------------------------------------


def test_rate_limit_fault_triggers_sdk_retry(fake: FakeSlack, no_sleep: list[float]) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[RateLimitErrorRetryHandler()])
    fake.fail("chat.postMessage", status=429, retry_after=1)

    assert client.chat_postMessage(channel="C0001", text="hi")["ok"]

    first, second = fake.calls("chat.postMessage")
    assert first.failed and first.status == 429 and first.error == "ratelimited"
    assert second.ok
    assert len(no_sleep) == 1 and 1 <= no_sleep[0] < 2  # honoured Retry-After: 1


def test_fault_can_target_one_channel(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", "channel_not_found", channel="C0002", times=2)
    assert client.chat_postMessage(channel="C0001", text="a")["ok"]
    for _ in range(2):
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C0002", text="b")
    assert client.chat_postMessage(channel="C0002", text="c")["ok"]


def test_dropped_connection_is_retried_by_default_handler(
    fake: FakeSlack, client: WebClient, no_sleep: list[float]
) -> None:
    assert any(isinstance(h, ConnectionErrorRetryHandler) for h in client.retry_handlers)
    fake.fail("chat.postMessage", drop_connection=True)
    assert client.chat_postMessage(channel="C0001", text="hi")["ok"]
    first, second = fake.calls("chat.postMessage")
    assert first.failed and first.error == "connection_dropped" and second.ok


def test_enforced_rate_limit_per_channel() -> None:
    with FakeSlack(enforce_rate_limits=True, per_channel_per_sec=1.0) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        client.chat_postMessage(channel="C0001", text="1")
        client.chat_postMessage(channel="C0002", text="other channel is fine")
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C0001", text="2")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "1"


def test_channel_membership_and_join() -> None:
    with FakeSlack(not_member_channels={"C0009"}) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C0009", text="hi")
        assert err.value.response["error"] == "not_in_channel"
        client.conversations_join(channel="C0009")
        assert client.chat_postMessage(channel="C0009", text="hi")["ok"]


# ------------------------------------------------------------------------------------------------
# FakeHF
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def hf() -> Iterator[FakeHF]:
    with FakeHF() as server:
        yield server


def _fetch_day(http: httpx.Client, day: str, limit: int) -> list[dict[str, Any]]:
    """The pagination loop the app uses: p=0,1,… until a short page."""
    entries: list[dict[str, Any]] = []
    page = 0
    while True:
        batch = http.get("/api/daily_papers", params={"date": day, "limit": limit, "p": page}).json()
        entries += batch
        if len(batch) < limit:
            return entries
        page += 1


def test_daily_papers_paginate_like_hf(hf: FakeHF) -> None:
    day = make_day("2026-08-21", 120, seed=7)
    hf.days["2026-08-21"] = list(reversed(day))  # stored unsorted: the server sorts by upvotes

    with httpx.Client(base_url=hf.base_url) as http:
        got = _fetch_day(http, "2026-08-21", limit=50)
        default_page = http.get("/api/daily_papers", params={"date": "2026-08-21"}).json()
        past_end = http.get("/api/daily_papers", params={"date": "2026-08-21", "limit": 50, "p": 9}).json()
        other_day = http.get("/api/daily_papers", params={"date": "2026-08-22"}).json()
        bad = http.get("/api/daily_papers", params={"date": "2026-13-40"})

    assert got == day  # every entry exactly once, upvotes descending
    assert [r.params.get("p") for r in hf.requests[:3]] == ["0", "1", "2"]
    assert len(default_page) == 50 and past_end == [] and other_day == []
    assert bad.status_code == 400 and bad.json() == {"error": "Invalid date"}


def test_503_is_served_once_then_normal(hf: FakeHF) -> None:
    hf.days["2026-08-21"] = make_day("2026-08-21", 3)
    hf.fail("/api/daily_papers", status=503)
    with httpx.Client(base_url=hf.base_url) as http:
        first = http.get("/api/daily_papers", params={"date": "2026-08-21"})
        second = http.get("/api/daily_papers", params={"date": "2026-08-21"})
    assert first.status_code == 503 and second.status_code == 200 and len(second.json()) == 3
    assert hf.count("/api/daily_papers") == 2


def test_hf_faults_rate_limit_garbage_and_drop(hf: FakeHF) -> None:
    hf.fail("/api/", 429, headers={"RateLimit": '"api";r=0;t=2'})
    hf.fail_with_body("/api/daily_papers", b'[{"paper": {"id": "26', times=1)
    hf.drop("/api/papers/", times=1)
    with httpx.Client(base_url=hf.base_url) as http:
        limited = http.get("/api/daily_papers")
        assert limited.status_code == 429 and limited.headers["RateLimit"] == '"api";r=0;t=2'
        with pytest.raises(json.JSONDecodeError):
            http.get("/api/daily_papers").json()
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/api/papers/2608.00001")
        assert http.get("/api/papers/2608.00001").status_code == 404


def test_search_and_paper_lookup(hf: FakeHF) -> None:
    hf.days["2026-08-21"] = [
        make_entry("2608.00001", "Kazakh speech corpus", upvotes=3, ai_summary="A corpus.", ai_keywords=["speech"]),
        make_entry("2608.00002", "Something else", upvotes=9, abstract="Mentions kazakh in the abstract."),
    ]
    hf.extra_papers.append(make_entry("2401.00003", "Old paper", abstract="nothing"))
    hf.paper_details["2608.00001"] = {"numTotalModels": 4}
    with httpx.Client(base_url=hf.base_url) as http:
        hits = http.get("/api/papers/search", params={"q": "KAZAKH", "limit": 5}).json()
        limited = http.get("/api/papers/search", params={"q": "kazakh", "limit": 1}).json()
        paper = http.get("/api/papers/2608.00001").json()
        old = http.get("/api/papers/2401.00003")
        missing = http.get("/api/papers/1234.56789")

    assert [h["paper"]["id"] for h in hits] == ["2608.00001", "2608.00002"]
    assert hits[0]["highlightedTitle"] == [
        {"type": "highlight", "text": "Kazakh"},
        {"type": "text", "text": " speech corpus"},
    ]
    assert "submittedBy" not in hits[0] and hits[0]["upvoted"] is False
    assert set(hits[0]["paper"]) <= {"id", "authors", "publishedAt", "title", "summary", "upvotes",
                                     "discussionId", "ai_summary", "ai_keywords"}  # fmt: skip
    assert len(limited) == 1
    assert "paper" not in paper and paper["id"] == "2608.00001"
    assert (paper["numTotalModels"], paper["numTotalDatasets"], paper["numTotalSpaces"]) == (4, 0, 0)
    assert old.status_code == 200
    assert missing.status_code == 404 and missing.json() == {"error": "Paper not found"}


def test_stop_does_not_hang_on_a_delayed_request() -> None:
    hf = FakeHF().start()
    hf.delay("/api/", 30)
    errors: list[BaseException] = []

    def slow_get() -> None:
        try:
            httpx.get(f"{hf.base_url}/api/daily_papers", timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    worker = threading.Thread(target=slow_get)
    worker.start()
    deadline = time.monotonic() + 2
    while hf.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    hf.stop()
    worker.join(timeout=3)
    assert time.monotonic() - started < 1.5
    assert not worker.is_alive() and errors  # the client saw a disconnect, not a 30 s wait


# ------------------------------------------------------------------------------------------------
# entries and signing
# ------------------------------------------------------------------------------------------------


def test_make_entry_omits_optional_fields_instead_of_null() -> None:
    bare = make_entry("2608.00001", "Title")
    assert "ai_summary" not in bare["paper"] and "githubStars" not in bare["paper"]
    assert "organization" not in bare and "organization" not in bare["paper"]
    assert "null" not in json.dumps(bare)
    full = make_entry(
        "2608.00002",
        "Title",
        upvotes=5,
        ai_summary="tl;dr",
        ai_keywords=["k"],
        github_repo="https://github.com/a/b",
        github_stars=0,
        organization="nvidia",
        projectPage="https://example.org",
    )
    assert full["paper"]["githubStars"] == 0 and full["organization"]["name"] == "nvidia"
    assert full["paper"]["projectPage"] == "https://example.org"
    assert full["paper"]["submittedOnDailyAt"].startswith("2026-08-21")


def test_make_entry_matches_recorded_fixture_keys() -> None:
    fixture = slack_module._SHARED_DIR / "fixtures" / "hf" / "daily_papers_2026-08-21.json"
    if not fixture.exists():
        pytest.skip("shared/ fixtures not available")
    real = json.loads(fixture.read_text())[0]
    ours = make_entry("2608.00001", "T", ai_summary="s", ai_keywords=["k"], github_repo="https://github.com/a/b",
                      github_stars=1, organization="google", project_page="https://p")  # fmt: skip
    assert set(ours) == set(real)
    assert set(ours["paper"]) == set(real["paper"])
    assert set(ours["submittedBy"]) == set(real["submittedBy"])


def test_entries_parse_with_the_app_model() -> None:
    papers = pytest.importorskip("bot.feed.papers")
    day = make_day("2026-08-21", 10)
    parsed = papers.parse_daily_list(day)
    assert [p.id for p in parsed] == [e["paper"]["id"] for e in day]
    assert len({p.id for p in parsed}) == 10 and len({p.upvotes for p in parsed}) == 10
    assert all(str(p.day) == "2026-08-21" for p in parsed)


def test_signed_requests_verify_with_slack_sdk() -> None:
    body = slash_command_body("search diffusion", response_url="http://127.0.0.1:1/response/r1")
    headers = signed_headers(body, "s3cret")
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = signed_headers(body, "s3cret", timestamp=int(time.time()) - 600)
    assert not SignatureVerifier("s3cret").is_valid_request(body, stale)

    fields = dict(httpx.QueryParams(body))
    assert set(fields) == {
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
    }  # fmt: skip
    assert fields["text"] == "search diffusion" and fields["command"] == "/papers"

    for payload in (block_actions_payload("subscribe", "cs.LG"), view_submission_payload("topics", {})):
        form = interactive_body(payload)
        assert json.loads(dict(httpx.QueryParams(form))["payload"]) == payload
        assert SignatureVerifier("s3cret").is_valid_request(form, signed_headers(form.encode(), "s3cret"))


def test_bolt_app_round_trip(fake: FakeSlack) -> None:
    """Bolt's own pieces against the fakes: auth.test at start-up, signed dispatch, respond, say."""
    from slack_bolt import App, BoltRequest

    app = App(client=WebClient(token="xoxb-test", base_url=fake.api_url), signing_secret="s3cret")

    @app.command("/papers")
    def papers(ack: Any, respond: Any, say: Any, command: dict[str, Any]) -> None:
        ack()
        respond(text=f"searching {command['text']}", blocks=[SECTION], response_type="ephemeral")
        say(text="posted", blocks=[SECTION])

    body = slash_command_body("diffusion", response_url=fake.response_url("cmd"))
    response = app.dispatch(BoltRequest(body=body, headers=signed_headers(body, "s3cret")))

    assert response.status == 200
    [reply] = fake.wait_for_responses(1, name="cmd")
    assert reply["text"] == "searching diffusion"
    [post] = fake.wait_for_calls("chat.postMessage", 1)
    assert post.channel == "C0001"
    assert fake.calls()[0].method == "auth.test"
    assert fake.violations == [] and fake.unknown_calls == []


# ------------------------------------------------------------------------------------------------
# Issue 17: chat.unfurl, threads, timed paper answers, arXiv
# ------------------------------------------------------------------------------------------------


def test_chat_unfurl_checks_its_address_its_urls_and_its_blocks(fake: FakeSlack, client: WebClient) -> None:
    fake.share_links(("C1", "1.1"), ["https://arxiv.org/abs/2608.1"])
    card = {"blocks": [SECTION]}
    client.chat_unfurl(channel="C1", ts="1.1", unfurls={"https://arxiv.org/abs/2608.1": card})
    client.chat_unfurl(source="composer", unfurl_id="U1-x", unfurls={"https://hf.co/papers/2608.1": card})
    assert [u["blocks"] for u in fake.unfurled("https://arxiv.org/abs/2608.1")] == [[SECTION]]
    assert len(fake.unfurled()) == 2
    for kwargs, error in (
        ({"channel": "C1", "ts": "1.1", "unfurls": {"https://evil.example/": card}}, "cannot_unfurl_url"),
        ({"channel": "C1", "unfurls": {"u": card}}, "missing_ts"),
        ({"source": "composer", "unfurls": {"u": card}}, "missing_unfurl_id"),
        ({"source": "chat", "unfurl_id": "x", "unfurls": {"u": card}}, "invalid_source"),
        (
            {"channel": "C1", "ts": "2.2", "unfurls": {"u": {"blocks": [{"type": "nonsense"}]}}},
            "cannot_parse_attachment",
        ),
    ):
        with pytest.raises(SlackApiError) as refused:
            client.chat_unfurl(**kwargs)
        assert refused.value.response["error"] == error
    fake.violations.clear()  # the refusals above were the point


def test_chat_unfurl_tier_3_window_answers_429_with_retry_after() -> None:
    with FakeSlack(unfurls_per_minute=2) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        for n in range(2):
            client.chat_unfurl(channel="C1", ts=f"{n}.1", unfurls={"u": {"blocks": [SECTION]}})
        with pytest.raises(SlackApiError) as limited:
            client.chat_unfurl(channel="C1", ts="9.1", unfurls={"u": {"blocks": [SECTION]}})
        assert limited.value.response.status_code == 429 and int(limited.value.response.headers["Retry-After"]) >= 1


def test_thread_replies_stay_out_of_history_and_come_back_from_conversations_replies(
    fake: FakeSlack, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel="C1", text="post")["ts"]
    reply = client.chat_postMessage(
        channel="C1", text="reply", thread_ts=parent, metadata={"event_type": "t", "event_payload": {"run_id": "r"}}
    )["ts"]
    assert [m["ts"] for m in client.conversations_history(channel="C1")["messages"]] == [parent]
    thread = client.conversations_replies(channel="C1", ts=parent, include_all_metadata=True)["messages"]
    assert [m["ts"] for m in thread] == [parent, reply] and thread[1]["metadata"]["event_payload"]["run_id"] == "r"
    assert "metadata" not in client.conversations_replies(channel="C1", ts=parent)["messages"][1]
    assert [m["ts"] for m in fake.thread("C1", parent)] == [reply]
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.conversations_replies(channel="C1", ts="9.9")


def test_a_papers_answer_changes_at_the_given_time(hf: FakeHF) -> None:
    from datetime import UTC, datetime

    now = [datetime(2026, 8, 21, 9, tzinfo=UTC)]
    hf.clock = lambda: now[0]
    hf.extra_papers = [make_entry("2608.00001", "Grows")]
    hf.change_paper("2608.00001", datetime(2026, 8, 22, tzinfo=UTC), githubRepo="https://github.com/o/r")
    hf.change_paper("2608.00001", datetime(2026, 8, 23, tzinfo=UTC), numTotalModels=2)
    with httpx.Client(base_url=hf.base_url) as http:
        before = http.get("/api/papers/2608.00001").json()
        now[0] = datetime(2026, 8, 22, 12, tzinfo=UTC)
        between = http.get("/api/papers/2608.00001").json()
        now[0] = datetime(2026, 8, 24, tzinfo=UTC)
        after = http.get("/api/papers/2608.00001").json()
    assert "githubRepo" not in before and before["numTotalModels"] == 0
    assert between["githubRepo"] == "https://github.com/o/r" and between["numTotalModels"] == 0
    assert after["githubRepo"] == "https://github.com/o/r" and after["numTotalModels"] == 2


def test_fake_arxiv_answers_like_the_recorded_api() -> None:
    from bot.feed.arxiv import parse_entry_feed

    from .arxiv import ArxivPaper, FakeArxiv

    with FakeArxiv() as arxiv, httpx.Client() as http:
        arxiv.papers["2608.00001"] = ArxivPaper("A <title> & more", authors=("Ada", "Bob"))
        known = http.get(arxiv.url, params={"id_list": "2608.00001v2"})
        unknown = http.get(arxiv.url, params={"id_list": "0000.00000"})
        malformed = http.get(arxiv.url, params={"id_list": "abc"})
        recorded = SHARED_ARXIV / "api_query_idlist-1605.08386.xml"
        if recorded.exists():
            arxiv.use_recorded("1605.08386", recorded)
            assert http.get(arxiv.url, params={"id_list": "1605.08386"}).content == recorded.read_bytes()
    paper = parse_entry_feed(known.content, "2608.00001")
    assert paper is not None and paper.title == "A <title> & more" and paper.authors == ("Ada", "Bob")
    assert unknown.status_code == 200 and parse_entry_feed(unknown.content, "0000.00000") is None
    assert malformed.status_code == 400 and parse_entry_feed(malformed.content, "abc") is None


# --- files_upload_v2 (issue 16) -----------------------------------------------------------------------


def test_files_upload_v2_serves_the_url_it_hands_out_and_records_the_bytes(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="parent")["ts"]
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    response = client.files_upload_v2(
        channel="C1", content=data, filename="chart.png", title="Chart", alt_txt="a chart", thread_ts=ts
    )
    assert response["file"]["id"].startswith("F")
    [upload] = fake.files("C1")
    assert upload["data"] == data and upload["alt_txt"] == "a chart" and upload["thread_ts"] == ts
    [url_call] = fake.calls("files.getUploadURLExternal")
    assert int(url_call.args["length"]) == len(data) and fake.violations == []


def test_files_upload_v2_errors_as_slack_gives_them(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.files_upload_v2(channel="C1", content=b"x", filename="a.bib", title="a", thread_ts="1.2")
    assert refused.value.response["error"] == "invalid_thread_ts"
    fake.uploads_disabled = True
    with pytest.raises(SlackApiError) as disabled:
        client.files_upload_v2(channel="C1", content=b"x", filename="a.bib", title="a")
    assert disabled.value.response["error"] == "file_uploads_disabled" and fake.files() == []


def test_conversations_open_and_users_conversations(fake: FakeSlack, client: WebClient) -> None:
    assert client.conversations_open(users="U0042")["channel"]["id"] == "D0042"
    fake.user_channels["U0042"] = ["C1", "CPRIV"]
    channels = client.users_conversations(user="U0042", types="public_channel,private_channel")["channels"]
    assert [c["id"] for c in channels] == ["C1", "CPRIV"] and channels[1]["is_private"]
