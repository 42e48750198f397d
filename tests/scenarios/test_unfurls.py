"""Link cards end to end: signed ``link_shared`` events over real HTTP to the real app, Hugging Face and
arXiv faked over HTTP, and the fake Slack's recorded ``chat.unfurl`` cards (keyed by the exact URL,
blocks checked like any message's) read as a channel member would see them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bot.config import Settings
from tests.conftest import SIGNING_SECRET, RunningBot, texts_of
from tests.fakes import (
    ArxivPaper,
    FakeArxiv,
    FakeHF,
    FakeSlack,
    block_actions_payload,
    event_callback_body,
    interactive_body,
    link_shared_event,
    make_entry,
    signed_headers,
)

PAPER = "2608.00001"
LINK_FORMS = [
    f"https://arxiv.org/abs/{PAPER}",
    f"https://arxiv.org/abs/{PAPER}v2",
    f"https://arxiv.org/pdf/{PAPER}",
    f"https://arxiv.org/pdf/{PAPER}v1",
    f"https://arxiv.org/pdf/{PAPER}v1.pdf",
    f"https://arxiv.org/html/{PAPER}",
    f"https://arxiv.org/html/{PAPER}v3",
    f"http://www.arxiv.org/abs/{PAPER}?context=cs.LG",
    f"https://huggingface.co/papers/{PAPER}",
    f"https://huggingface.co/papers/{PAPER}#community",
    f"https://hf.co/papers/{PAPER}",
]


@pytest.fixture
def fake_arxiv() -> Iterator[FakeArxiv]:
    with FakeArxiv() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_arxiv: FakeArxiv) -> Settings:
    return replace(settings, arxiv_api_url=fake_arxiv.url)


@pytest.fixture
def known(fake_hf: FakeHF) -> None:
    """A paper Hugging Face knows, with code, stars and linked models, datasets and a Space."""
    fake_hf.extra_papers = [
        make_entry(
            PAPER,
            "Agents <!channel> & tools",
            upvotes=163,
            authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
            ai_summary="Agents learn to use tools by practising on static worlds.",
            ai_keywords=["LLM agents", "tool use"],
            github_repo="https://github.com/acme/agents",
            github_stars=1234,
            organization="acme",
            numTotalModels=2,
            numTotalDatasets=1,
            numTotalSpaces=1,
        )
    ]


def share(bot: RunningBot, fake_slack: FakeSlack, urls: list[str], **event: Any) -> httpx.Response:
    """Post the message's ``link_shared`` as Slack does (signed JSON) and tell the fake Slack which links
    that message holds."""
    payload = link_shared_event(urls, **event)
    target = (
        ("composer", payload["unfurl_id"])
        if payload["source"] == "composer"
        else (payload["channel"], payload["message_ts"])
    )
    fake_slack.share_links(target, urls)
    body = event_callback_body(payload)
    headers = {**signed_headers(body, SIGNING_SECRET), "Content-Type": "application/json"}
    return bot.http.post("/slack/events", content=body.encode(), headers=headers)


def settle(bot: RunningBot) -> None:
    assert bot.services.unfurler is not None and bot.services.unfurler.wait_idle(20)


def card_text(unfurl: dict[str, Any]) -> str:
    return texts_of({"blocks": unfurl["blocks"]})


def buttons(unfurl: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in unfurl["blocks"] if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.usefixtures("known")
def test_every_link_form_gets_the_papers_card_from_one_upstream_call(
    bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    for n, url in enumerate(LINK_FORMS):
        assert share(bot, fake_slack, [url], message_ts=f"1700000001.{n:06d}").status_code == 200
    fake_slack.wait_for_calls("chat.unfurl", len(LINK_FORMS))
    settle(bot)

    for url in LINK_FORMS:
        [card] = fake_slack.unfurled(url)  # keyed by the exact URL of the message
        text = card_text(card)
        assert f"<https://huggingface.co/papers/{PAPER}|Agents &lt;!channel&gt; &amp; tools>" in text
        assert "<!channel>" not in text  # escaped: no broadcast
        assert "▲ 163 upvotes" in text and "Ada Lovelace, Alan Turing, Grace Hopper et al." in text
        assert "Agents learn to use tools by practising on static worlds." in text
        assert "<https://github.com/acme/agents|GitHub ★ 1.2k>" in text
        assert "🤗 2 models · 1 dataset · 1 Space" in text
        save, follow = buttons(card)
        assert (save["action_id"], save["value"], save["text"]["text"]) == ("paper_save", PAPER, "Save")
        assert follow["action_id"] == "search_follow_topic" and '"LLM agents"' in follow["value"]
    calls = fake_slack.calls("chat.unfurl")
    assert {(c.args["channel"], c.args["ts"]) for c in calls} == {
        ("C0001", f"1700000001.{n:06d}") for n in range(len(LINK_FORMS))
    }
    assert fake_hf.count(f"/api/papers/{PAPER}") == 1  # eleven messages, one lookup
    assert fake_slack.posts() == []  # a card, never a message


@pytest.mark.usefixtures("known")
def test_a_composer_preview_is_unfurled_by_its_unfurl_id(bot: RunningBot, fake_slack: FakeSlack) -> None:
    url = f"https://hf.co/papers/{PAPER}"
    share(bot, fake_slack, [url], source="composer", unfurl_id="U0001-1234-composer")
    [call] = fake_slack.wait_for_calls("chat.unfurl")
    assert call.args["unfurl_id"] == "U0001-1234-composer" and call.args["source"] == "composer"
    assert "channel" not in call.args and "ts" not in call.args
    assert "Agents" in card_text(fake_slack.unfurled(url)[0])


def test_a_paper_hugging_face_does_not_know_gets_arxivs_metadata(
    bot: RunningBot, fake_slack: FakeSlack, fake_arxiv: FakeArxiv, fake_hf: FakeHF
) -> None:
    fake_arxiv.papers["2608.09999"] = ArxivPaper(
        "Fresh <b>off</b> the press", summary="First sentence here. Second one. Third.", authors=("Solo Author",)
    )
    url = "https://arxiv.org/abs/2608.09999v1"
    share(bot, fake_slack, [url])
    fake_slack.wait_for_calls("chat.unfurl")
    [card] = fake_slack.unfurled(url)
    text = card_text(card)
    assert "<https://arxiv.org/abs/2608.09999|Fresh &lt;b&gt;off&lt;/b&gt; the press>" in text
    assert "Solo Author · arXiv, Thu 20 Aug 2026" in text and "First sentence here. Second one." in text
    assert "not on Hugging Face yet" in text and "▲" not in text
    assert [b["action_id"] for b in buttons(card)] == ["paper_save"]
    assert fake_hf.count("/api/papers/2608.09999") == 1 and fake_arxiv.count() == 1


def test_an_id_nobody_knows_gets_no_card_and_nothing_in_the_channel(
    bot: RunningBot, fake_slack: FakeSlack, fake_arxiv: FakeArxiv, fake_hf: FakeHF
) -> None:
    for url in ("https://arxiv.org/abs/0000.00000", "https://arxiv.org/abs/hep-th/9901001"):
        assert share(bot, fake_slack, [url]).status_code == 200
    settle(bot)
    # No card, no message, no error: nothing but the start-up's token check reached Slack.
    assert {c.method for c in fake_slack.calls()} == {"auth.test"}
    assert fake_arxiv.count() == 2
    assert fake_hf.count("/api/papers/hep-th") == 0  # Hugging Face has no pages for old-style ids


@pytest.mark.parametrize("status", [429, 500])
def test_hugging_face_failing_falls_back_to_arxiv_and_never_shows_an_error(
    bot: RunningBot, fake_slack: FakeSlack, fake_arxiv: FakeArxiv, fake_hf: FakeHF, status: int
) -> None:
    fake_hf.fail("/api/papers/", status, times=100, headers={"RateLimit": '"api";r=0;t=1'})
    fake_arxiv.papers[PAPER] = ArxivPaper("Known to arXiv")
    url = f"https://huggingface.co/papers/{PAPER}"
    share(bot, fake_slack, [url])
    fake_slack.wait_for_calls("chat.unfurl")
    assert "Known to arXiv" in card_text(fake_slack.unfurled(url)[0])
    assert fake_slack.posts() == [] and fake_slack.calls("chat.postEphemeral") == []

    fake_arxiv.fail(503, times=10)  # and now arXiv is down too: no card, still no error anywhere
    other = "https://arxiv.org/abs/2608.00002"
    share(bot, fake_slack, [other], message_ts="1700000002.000100")
    settle(bot)
    assert fake_slack.unfurled(other) == [] and len(fake_slack.calls("chat.unfurl")) == 1
    assert fake_slack.posts() == [] and fake_slack.calls("chat.postEphemeral") == []


def test_hugging_face_failing_uses_the_archived_day_list_copy(
    bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    day = "2026-08-20"
    fake_hf.days[day] = [make_entry(PAPER, "From the day list", upvotes=40, day=day, ai_keywords=["agents"])]
    bot.services.feed.papers(__import__("datetime").date(2026, 8, 20))  # a post run fetched the day
    assert bot.services.archive.wait_loaded(5) is not False
    fake_hf.fail("/api/papers/", 500, times=100)
    url = f"https://arxiv.org/abs/{PAPER}"
    share(bot, fake_slack, [url])
    fake_slack.wait_for_calls("chat.unfurl")
    text = card_text(fake_slack.unfurled(url)[0])
    assert "From the day list" in text and "▲ 40 upvotes" in text and "🤗" not in text  # no counts: not asked
    assert fake_arxiv.count() == 0


@pytest.mark.usefixtures("known")
def test_one_card_per_paper_at_most_five_and_other_links_are_left_to_slack(
    bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    fake_hf.extra_papers += [make_entry(f"2608.0001{i}", f"Paper {i}") for i in range(7)]
    urls = [
        "https://huggingface.co/models/acme/agents-7b",  # a model page: not a paper
        "https://arxiv.org/list/cs.LG/recent",
        f"https://arxiv.org/abs/{PAPER}",
        f"https://arxiv.org/pdf/{PAPER}",  # the same paper again
        *(f"https://arxiv.org/abs/2608.0001{i}" for i in range(7)),
    ]
    share(bot, fake_slack, urls)
    [call] = fake_slack.wait_for_calls("chat.unfurl")
    settle(bot)
    assert list(call.args["unfurls"]) == [urls[2], *urls[4:8]]


@pytest.mark.usefixtures("known")
def test_the_bots_own_messages_are_not_unfurled(bot: RunningBot, fake_slack: FakeSlack) -> None:
    share(bot, fake_slack, [f"https://arxiv.org/abs/{PAPER}"], user="UBOT")
    settle(bot)
    assert fake_slack.calls("chat.unfurl") == []


@pytest.mark.usefixtures("known")
def test_slack_gets_its_answer_at_once_even_when_hugging_face_is_slow(
    bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    fake_hf.delay("/api/papers/", 2.0)
    started = time.monotonic()
    response = share(bot, fake_slack, [f"https://arxiv.org/abs/{PAPER}"])
    acked = time.monotonic() - started
    assert response.status_code == 200 and acked < 1.0  # Slack allows 3 s
    fake_slack.wait_for_calls("chat.unfurl")
    assert time.monotonic() - started >= 2.0  # the card came after the answer


@pytest.mark.usefixtures("known")
def test_a_burst_of_the_same_link_costs_one_lookup(bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF) -> None:
    fake_hf.delay("/api/papers/", 0.3)  # the lookup is still in flight when the others arrive
    url = f"https://arxiv.org/abs/{PAPER}"
    for n in range(10):  # Slack's Tier-3 burst: they all go at once
        share(bot, fake_slack, [url], message_ts=f"1700000003.{n:06d}")
    fake_slack.wait_for_calls("chat.unfurl", 10)
    assert fake_hf.count("/api/papers/") == 1 and len(fake_slack.unfurled(url)) == 10


@pytest.mark.usefixtures("known")
def test_unfurls_beyond_the_tier_3_burst_wait_their_turn_and_meet_no_429(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    """chat.unfurl is Tier 3 ("50+ per minute"): ten at once, then one every 1.5 s (40 a minute)."""
    fake_slack.unfurls_per_minute = 50
    for n in range(12):
        share(bot, fake_slack, [f"https://arxiv.org/abs/{PAPER}"], message_ts=f"1700000004.{n:06d}")
    calls = fake_slack.wait_for_calls("chat.unfurl", 12, timeout=20)
    gaps = sorted(c.at for c in calls)
    assert gaps[9] - gaps[0] < 1.0 and gaps[10] - gaps[0] >= 1.3 and gaps[11] - gaps[10] >= 1.3
    assert fake_slack.rate_limited_count() == 0


@pytest.mark.usefixtures("known")
def test_slack_refusing_the_card_is_only_logged(
    bot: RunningBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("chat.unfurl", "cannot_unfurl_url")
    share(bot, fake_slack, [f"https://arxiv.org/abs/{PAPER}"])
    fake_slack.wait_for_calls("chat.unfurl")
    settle(bot)
    assert fake_slack.posts() == [] and fake_slack.calls("chat.postEphemeral") == []
    assert "Slack refused the link cards for 1 link(s): cannot_unfurl_url" in caplog.text


@pytest.mark.usefixtures("known")
def test_follow_on_a_card_adds_the_papers_keyword_to_the_channels_topics(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    url = f"https://arxiv.org/abs/{PAPER}"
    share(bot, fake_slack, [url])
    fake_slack.wait_for_calls("chat.unfurl")
    _, follow = buttons(fake_slack.unfurled(url)[0])
    payload = block_actions_payload(
        follow["action_id"], follow["value"], channel_id="C0001", response_url=fake_slack.response_url("card")
    )
    payload["container"] = {  # a button in an app's unfurl is in a message attachment
        "type": "message_attachment",
        "message_ts": "1700000000.000100",
        "attachment_id": 1,
        "channel_id": "C0001",
        "is_ephemeral": False,
        "is_app_unfurl": True,
    }
    assert bot.post(interactive_body(payload)).status_code == 200
    [reply] = fake_slack.wait_for_responses(1, name="card")
    assert "now follows “LLM agents”" in reply["text"] and reply["response_type"] == "ephemeral"
    assert "LLM agents" in bot.store.get_channel("C0001").filter_text  # type: ignore[union-attr]
