"""``/papers search`` end to end: signed slash commands and button clicks over HTTP, the fake Hugging Face
answering (or failing), and what the user privately reads or the channel visibly gets."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.access import ConfigAccess
from bot.config import Settings
from bot.services import build_services
from bot.ui.ids import FOLLOW_ACTION, MORE_ACTION, SHARE_ACTION
from tests.conftest import Clock, CommandResult, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, block_actions_payload, interactive_body, make_entry
from tests.scenarios.conftest import BOTH_STORES

THURSDAY = "2026-08-20"


def decoding_papers(n: int, day: str = THURSDAY) -> list[dict[str, Any]]:
    return [
        make_entry(
            f"2608.{i:05d}",
            f"Speculative decoding, part {i}",
            upvotes=100 - i,
            day=day,
            authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
            ai_summary=f"Summary {i}.",
            github_repo=f"https://github.com/example/spec-{i}",
        )
        for i in range(1, n + 1)
    ]


def buttons(reply: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    return [
        e
        for b in reply.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    ]


def click(
    bot: RunningBot, fake_slack: FakeSlack, action_id: str, value: str, *, name: str, channel: str = "C0001", **kw: Any
) -> None:
    payload = block_actions_payload(
        action_id, value, channel_id=channel, response_url=fake_slack.response_url(name), **kw
    )
    assert bot.post(interactive_body(payload)).status_code == 200


def fill_archive(bot: RunningBot, fake_hf: FakeHF) -> None:
    """``/papers today`` fetches the day list, which the archive keeps."""
    fake_hf.days[THURSDAY] = [*decoding_papers(3), make_entry("2608.00900", "Robot grasping", day=THURSDAY)]
    assert "Speculative decoding" in bot.command("today").text


# --- text search and its buttons ---------------------------------------------------------------------


def test_search_answers_privately_with_cards_links_and_buttons(bot: RunningBot, fake_hf: FakeHF) -> None:
    fake_hf.extra_papers = decoding_papers(12)
    for text in ("search speculative decoding", "speculative decoding"):
        result = bot.command(text)
        assert result.status == 200 and result.reply["response_type"] == "ephemeral"
        shown = [f"part {i}>" for i in range(1, 13) if f"part {i}>" in result.text]
        assert shown == [f"part {i}>" for i in range(1, 6)]  # the five best, in Hugging Face's order
        assert "<https://huggingface.co/papers/2608.00001|Speculative decoding, part 1>" in result.text
        assert "<https://arxiv.org/pdf/2608.00001|PDF>" in result.text and "<https://arxiv.org/abs/2608" in result.text
        assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in result.text and "▲ 99 upvotes" in result.text
        assert "Summary 1." in result.text and "Wed 19 Aug 2026" in result.text  # the arXiv date
        assert len(buttons(result.reply, SHARE_ACTION)) == 5 and len(buttons(result.reply, MORE_ACTION)) == 1
    search = [r for r in fake_hf.requests if r.path == "/api/papers/search"]
    assert search[0].params == {"q": "speculative decoding", "limit": "6"}


def test_results_on_a_day_list_the_bot_fetched_gain_its_github_link_and_day(bot: RunningBot, fake_hf: FakeHF) -> None:
    fill_archive(bot, fake_hf)  # Hugging Face's search hits carry no GitHub repo; its day lists do
    result = bot.command("speculative decoding")
    assert "Hugging Face search isn't answering" not in result.text
    assert "<https://github.com/example/spec-1|GitHub>" in result.text and "Thu 20 Aug 2026" in result.text


def test_more_pages_through_results_replacing_the_private_message(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.extra_papers = decoding_papers(12)
    reply = bot.command("speculative decoding").reply
    seen: list[str] = []
    for page in ("p2", "p3"):
        [more] = buttons(reply, MORE_ACTION)
        click(bot, fake_slack, MORE_ACTION, more["value"], name=page)
        reply = fake_slack.wait_for_responses(1, name=page)[0]
        assert reply["replace_original"] is True and reply["response_type"] == "ephemeral"
        seen.append(CommandResult(200, reply).text)
    assert all(f"part {i}>" in seen[0] for i in range(6, 11)) and "part 5>" not in seen[0]
    assert "part 11>" in seen[1] and "part 12>" in seen[1] and "part 10>" not in seen[1]
    assert buttons(reply, MORE_ACTION) == []  # the last page


def test_share_posts_the_card_visibly_saying_who_shared_it(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.extra_papers = decoding_papers(2)
    reply = bot.command("speculative decoding").reply
    share = buttons(reply, SHARE_ACTION)[1]
    click(bot, fake_slack, SHARE_ACTION, share["value"], name="share", user_id="U0777")
    [post] = fake_slack.wait_for_calls("chat.postMessage")
    assert post.channel == "C0001" and post.ok
    text = texts_of(post.args)
    assert "Shared by <@U0777>" in text and "Speculative decoding, part 2" in text
    assert post.args["unfurl_links"] in (False, "false", "0", 0)
    time.sleep(0.2)
    assert fake_slack.responses("share") == []  # the visible post is the confirmation


def test_share_where_the_bot_cannot_post_says_why_privately(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.extra_papers = decoding_papers(1)
    fake_slack.not_member_channels.add("G0PRIVATE")
    reply = bot.command("speculative decoding", channel="G0PRIVATE").reply
    click(bot, fake_slack, SHARE_ACTION, buttons(reply, SHARE_ACTION)[0]["value"], name="s", channel="G0PRIVATE")
    [answer] = fake_slack.wait_for_responses(1, name="s")
    assert "not_in_channel" in answer["text"] and "/invite @papers-bot" in answer["text"]
    assert answer["replace_original"] is False and fake_slack.posts("G0PRIVATE") == []


def test_follow_as_topic_adds_the_query_to_the_channels_topics(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.extra_papers = decoding_papers(1)
    reply = bot.command("speculative decoding").reply
    click(bot, fake_slack, FOLLOW_ACTION, buttons(reply, FOLLOW_ACTION)[0]["value"], name="f", user_id="U0042")
    [answer] = fake_slack.wait_for_responses(1, name="f")
    assert "now follows “speculative decoding”" in answer["text"] and answer["replace_original"] is False
    config = bot.store.get_channel("C0001")
    assert "speculative decoding" in config.filter_text
    assert config.history[-1].user_id == "U0042"


def test_follow_as_topic_is_refused_for_someone_who_may_not_configure(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    bot.services.access = ConfigAccess(["U0ADMIN"], lambda _user: False)
    fake_hf.extra_papers = decoding_papers(1)
    reply = bot.command("speculative decoding").reply
    click(bot, fake_slack, FOLLOW_ACTION, buttons(reply, FOLLOW_ACTION)[0]["value"], name="f", user_id="U0042")
    [answer] = fake_slack.wait_for_responses(1, name="f")
    assert "nothing was changed" in answer["text"]
    config = bot.store.get_channel("C0001")
    assert config is None or "speculative" not in config.filter_text


# --- one paper by id or link ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2608.00042",
        "2608.00042v2",
        "search https://arxiv.org/abs/2608.00042",
        "https://arxiv.org/pdf/2608.00042v1",
        "<https://huggingface.co/papers/2608.00042|huggingface.co/papers/2608.00042>",
    ],
)
def test_an_id_or_link_answers_with_that_papers_card_and_linked_counts(
    bot: RunningBot, fake_hf: FakeHF, text: str
) -> None:
    fake_hf.extra_papers = [make_entry("2608.00042", "The answer paper", upvotes=42, ai_keywords=["answers"])]
    fake_hf.paper_details["2608.00042"] = {"numTotalModels": 3, "numTotalDatasets": 1, "numTotalSpaces": 0}
    result = bot.command(text)
    assert "The answer paper" in result.text and "▲ 42 upvotes" in result.text
    assert "3 models · 1 dataset · 0 Spaces" in result.text
    assert [r.path for r in fake_hf.requests] == ["/api/papers/2608.00042"]
    assert json.loads(buttons(result.reply, FOLLOW_ACTION)[0]["value"]) == {"t": "answers"}


def test_an_unknown_id_is_not_found(bot: RunningBot) -> None:
    result = bot.command("2406.99999")
    assert "Not found" in result.text and "2406.99999" in result.text
    assert "https://arxiv.org/abs/2406.99999" in result.text


# --- Hugging Face down or slow: the archive answers ---------------------------------------------------


def test_upstream_5xx_falls_back_to_the_archive_and_says_so(bot: RunningBot, fake_hf: FakeHF, tmp_path: Path) -> None:
    fill_archive(bot, fake_hf)
    assert (tmp_path / "papers-bot.archive" / f"{THURSDAY}.jsonl").exists()
    fake_hf.fail("/api/papers/search", 503, times=20)
    result = bot.command("speculative decoding")
    assert "Hugging Face search isn't answering" in result.text and "archive" in result.text
    assert "Speculative decoding, part 1" in result.text and "Robot grasping" not in result.text
    assert len(buttons(result.reply, SHARE_ACTION)) == 3


def test_a_slow_upstream_gets_the_archive_answer_within_three_seconds(bot: RunningBot, fake_hf: FakeHF) -> None:
    fill_archive(bot, fake_hf)
    fake_hf.delay("/api/papers/search", 10.0)
    started = time.monotonic()
    result = bot.command("robot grasping")
    elapsed = time.monotonic() - started
    assert "Hugging Face search isn't answering" in result.text and "Robot grasping" in result.text
    assert elapsed < 3.2, elapsed


def test_the_archive_survives_a_restart(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, settings: Settings, clock: Clock
) -> None:
    fill_archive(bot, fake_hf)
    bot.services.close()  # releases the database for the "restarted" process
    again = restarted(bot, settings, clock, fake_slack)
    try:
        assert again.services.archive.wait_loaded(5)  # read on a thread at start-up
        fake_hf.fail("/api/papers/search", 503, times=20)
        assert "Speculative decoding, part 2" in again.command("speculative decoding").text
    finally:
        again.close()


def test_outage_with_an_empty_archive_still_answers_clearly(bot: RunningBot, fake_hf: FakeHF) -> None:
    fake_hf.fail("/api/papers/search", 503, times=20)
    result = bot.command("speculative decoding")
    assert "isn't answering" in result.text and "try again" in result.text
    typo = bot.command("folow speculative decoding")  # a search, with the hint even in a text-only answer
    assert "Did you mean `/papers follow`?" in typo.text and "isn't answering" in typo.text


def test_id_lookup_during_an_outage_uses_the_archive_or_says_so(bot: RunningBot, fake_hf: FakeHF) -> None:
    fill_archive(bot, fake_hf)
    fake_hf.fail("/api/papers/", 503, times=50)
    archived = bot.command("2608.00001")
    assert "Speculative decoding, part 1" in archived.text and "archived copy" in archived.text
    unknown = bot.command("2608.77777")
    assert "isn't answering" in unknown.text


# --- --posted --------------------------------------------------------------------------------------------


@BOTH_STORES
def test_posted_search_links_to_the_channels_own_posts(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_hf.days[THURSDAY] = [
        make_entry("2608.00001", "RLHF with process rewards", upvotes=50, day=THURSDAY),
        make_entry("2608.00002", "Robot grasping", upvotes=40, day=THURSDAY),
    ]
    saved = clock()
    clock.set(saved - timedelta(days=1))
    bot.command("subscribe", channel="C0001")
    clock.set(saved)
    assert bot.services.runner.run_due(datetime(2026, 8, 21, 9, 0, tzinfo=UTC)).ok
    fake_hf.extra_papers = [make_entry("2608.00003", "RLHF never posted here", upvotes=5)]
    run = bot.store.runs("C0001")[-1]

    result = bot.command("search --posted rlhf")

    assert "RLHF with process rewards" in result.text and "Robot grasping" not in result.text
    assert "never posted" not in result.text
    permalink = f"https://test.slack.com/archives/C0001/p{run.ts[0].replace('.', '')}"
    assert f"<{permalink}|view the post>" in result.text and "posted Fri 21 Aug 2026" in result.text
    assert fake_hf.count("/api/papers/search") == 0  # the channel's own history, not Hugging Face
    assert "Nothing posted in this channel matches" in bot.command("--posted rlhf", channel="C0002").text
    by_link = bot.command("--posted https://arxiv.org/abs/2608.00002v1")
    assert "Robot grasping" in by_link.text and "RLHF" not in by_link.text
    recent = bot.command("search --posted")
    assert "Robot grasping" in recent.text and "RLHF with process rewards" in recent.text


# Another process posted, this one answers: the ledger (in the store) lists the posts, but this process's
# archive of day lists (on its local disk) does not hold them. With PostgreSQL that is the web process
# beside the worker, or any process after Heroku wiped its disk.

TUESDAY, WEDNESDAY = "2026-08-18", "2026-08-19"
DAILY = "/api/daily_papers"


def post_twice(bot: RunningBot, fake_hf: FakeHF, clock: Clock) -> list[str]:
    """Two daily posts in C0001: Thursday's (Wednesday's list) and Friday's (Thursday's list); their
    permalinks, oldest first. Tuesday's list, with another RLHF paper, is never posted."""
    fake_hf.days[TUESDAY] = [make_entry("2608.00021", "RLHF never posted here", upvotes=90, day=TUESDAY)]
    fake_hf.days[WEDNESDAY] = [
        make_entry("2608.00011", "RLHF from human preferences", upvotes=30, day=WEDNESDAY),
        make_entry("2608.00012", "Tactile sensing", upvotes=20, day=WEDNESDAY),
    ]
    fake_hf.days[THURSDAY] = [
        make_entry("2608.00001", "RLHF with process rewards", upvotes=50, day=THURSDAY),
        make_entry("2608.00002", "Robot grasping", upvotes=40, day=THURSDAY),
    ]
    clock.set(datetime(2026, 8, 19, 9, 0, tzinfo=UTC))
    assert "Subscribed" in bot.command("subscribe").text
    for day in (20, 21):
        clock.set(datetime(2026, 8, day, 9, 0, tzinfo=UTC))
        assert bot.services.runner.run_due(clock()).count("posted") == 1
    runs = bot.store.runs("C0001")
    assert [r.days for r in runs] == [(date(2026, 8, 19),), (date(2026, 8, 20),)]
    return [f"https://test.slack.com/archives/C0001/p{r.ts[0].replace('.', '')}" for r in runs]


def answering_process(
    bot: RunningBot, settings: Settings, clock: Clock, fake_slack: FakeSlack, *, lost: list[str]
) -> RunningBot:
    """Stop ``bot`` and start another process on the same store, without the archive files of ``lost`` days."""
    bot.services.close()  # releases the database (TinyDB allows one process)
    archive = Path(settings.db_path).with_name("papers-bot.archive")
    for day in lost:
        (archive / f"{day}.jsonl").unlink()
    return restarted(bot, settings, clock, fake_slack)


def restarted(bot: RunningBot, settings: Settings, clock: Clock, fake_slack: FakeSlack) -> RunningBot:
    """A new process on ``bot``'s settings. Its replies get new response_url names: reusing ``r1``… would
    hand back the first process's replies."""
    again = RunningBot(build_services(settings, clock=clock, hf_sleep=lambda _s: None), fake_slack)
    again._replies = bot._replies
    return again


def line_of(reply: dict[str, Any] | None, title: str) -> str:
    """The one result (a section's text) that names ``title``."""
    sections = [b["text"]["text"] for b in (reply or {}).get("blocks") or [] if b["type"] == "section"]
    [line] = [text for text in sections if title in text]
    return str(line)


def daily_requests(fake_hf: FakeHF) -> list[str]:
    return sorted(r.params.get("date", "") for r in fake_hf.requests if r.path == DAILY)


@BOTH_STORES
def test_posted_search_reads_once_each_posted_day_this_process_never_fetched(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, clock: Clock, settings: Settings
) -> None:
    wednesday_post, thursday_post = post_twice(bot, fake_hf, clock)
    web = answering_process(bot, settings, clock, fake_slack, lost=[WEDNESDAY, THURSDAY])
    try:
        assert web.services.archive.wait_loaded(5) and len(web.services.archive) == 0
        fake_hf.reset()

        result = web.command("search --posted rlhf")

        assert f"<{wednesday_post}|view the post>" in line_of(result.reply, "RLHF from human preferences")
        assert f"<{thursday_post}|view the post>" in line_of(result.reply, "RLHF with process rewards")
        assert "posted Thu 20 Aug 2026" in line_of(result.reply, "RLHF from human preferences")
        assert "never posted" not in result.text and "Robot grasping" not in result.text
        assert "couldn't look up" not in result.text
        assert daily_requests(fake_hf) == [WEDNESDAY, THURSDAY]  # only the posted days, each once
        assert fake_hf.count("/api/papers/search") == 0

        # Both days are archived now (on this process's disk too): later searches read nothing again.
        assert "Robot grasping" in web.command("--posted grasping").text
        recent = web.command("--posted")
        assert all(t in recent.text for t in ("Tactile sensing", "Robot grasping", "RLHF with process rewards"))
        assert "arXiv 2608" not in recent.text  # every title known, none shown by id only
        assert daily_requests(fake_hf) == [WEDNESDAY, THURSDAY]
        assert (Path(settings.db_path).with_name("papers-bot.archive") / f"{THURSDAY}.jsonl").exists()
    finally:
        web.close()


@BOTH_STORES
def test_posted_search_with_hugging_face_down_answers_with_what_it_has_and_says_so(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, clock: Clock, settings: Settings
) -> None:
    wednesday_post, thursday_post = post_twice(bot, fake_hf, clock)
    web = answering_process(bot, settings, clock, fake_slack, lost=[THURSDAY])  # Wednesday's file survived
    try:
        assert web.services.archive.wait_loaded(5)
        fake_hf.reset()
        fake_hf.fail(DAILY, 503, times=1000)

        started = time.monotonic()
        result = web.command("search --posted rlhf")
        elapsed = time.monotonic() - started

        assert f"<{wednesday_post}|view the post>" in line_of(result.reply, "RLHF from human preferences")
        assert "RLHF with process rewards" not in result.text
        assert "Hugging Face isn't answering right now, so I couldn't look up 2 papers posted here" in result.text
        assert elapsed < 3.2, elapsed
        assert daily_requests(fake_hf) and set(daily_requests(fake_hf)) == {THURSDAY}  # never the archived day

        recent = web.command("--posted")  # the ledger still lists every post, by arXiv id where untitled
        assert f"<{thursday_post}|view the post>" in line_of(recent.reply, "arXiv 2608.00001")
        assert "Tactile sensing" in recent.text and "couldn't look up 2 papers" in recent.text

        fake_hf.reset()  # Hugging Face is back: the next search reads the day and answers in full
        again = web.command("--posted rlhf")
        assert f"<{thursday_post}|view the post>" in line_of(again.reply, "RLHF with process rewards")
        assert "couldn't look up" not in again.text and daily_requests(fake_hf) == [THURSDAY]
    finally:
        web.close()


def test_posted_search_with_hugging_face_slow_answers_within_three_seconds(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, clock: Clock, settings: Settings
) -> None:
    post_twice(bot, fake_hf, clock)
    web = answering_process(bot, settings, clock, fake_slack, lost=[WEDNESDAY, THURSDAY])
    try:
        assert web.services.archive.wait_loaded(5)
        fake_hf.delay(DAILY, 10.0)
        started = time.monotonic()
        result = web.command("--posted tactile")
        elapsed = time.monotonic() - started
        assert "Nothing posted in this channel matches" in result.text
        assert "couldn't look up 4 papers posted here" in result.text
        assert elapsed < 3.2, elapsed
    finally:
        web.close()


# --- hostile and odd input -------------------------------------------------------------------------------


def test_hostile_query_is_escaped_in_the_reply(bot: RunningBot, fake_hf: FakeHF) -> None:
    fake_hf.extra_papers = [make_entry("2608.00001", "About <!channel> pings", upvotes=1)]
    result = bot.command("search <!channel>")
    assert "<!channel>" not in result.text and "&lt;!channel&gt;" in result.text
    assert "About &lt;!channel&gt; pings" in result.text


def test_unicode_query_is_kept_and_markup_escaped(bot: RunningBot) -> None:
    result = bot.command("模型 & <@U999> café")
    assert "模型 &amp; &lt;@U999&gt; café" in result.text and "<@U999>" not in result.text


def test_a_10000_character_query_gets_a_clear_error_and_no_upstream_call(bot: RunningBot, fake_hf: FakeHF) -> None:
    result = bot.command("search " + "a" * 10_000)
    assert "10,000 characters" in result.text and "at most 500" in result.text
    assert fake_hf.count() == 0


def test_an_empty_search_shows_the_help(bot: RunningBot, fake_hf: FakeHF) -> None:
    result = bot.command("search")
    assert "/papers subscribe" in result.text and "/papers search" in result.text
    assert fake_hf.count() == 0


def test_a_forged_more_value_gets_a_polite_answer(bot: RunningBot, fake_slack: FakeSlack) -> None:
    click(bot, fake_slack, MORE_ACTION, '{"q": "x", "o": -5}', name="m")
    assert "run the search again" in fake_slack.wait_for_responses(1, name="m")[0]["text"]
