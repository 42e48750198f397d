"""The team layer end to end (issue 16): Save on cards and by shortcut, the reading list in App Home,
"Saved by N", reactions as signals, team picks, BibTeX export to the DM, ``/papers forget me``.

Everything arrives as Slack sends it (signed ``block_actions``, ``message_action``, ``event_callback``
over HTTP) and everything the app does is read back from the fake Slack (``views.publish``,
``chat.update``, the bytes that reached the upload URL) and from the store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import bibtexparser
import pytest

from bot.models import PaperRef, SavedPaper, Signal, SignalKind
from bot.ui.ids import (
    FORGET_CONFIRM,
    HOME_BIBTEX,
    HOME_MORE,
    HOME_READ,
    HOME_REMOVE,
    SAVE_ACTION,
    SAVE_SHORTCUT,
    SHARE_ACTION,
)
from tests.conftest import Clock, CommandResult, RunningBot, texts_of
from tests.fakes import (
    FakeHF,
    FakeSlack,
    block_actions_payload,
    event_callback_body,
    interactive_body,
    make_entry,
    message_action_payload,
)

THURSDAY = "2026-08-20"
FRIDAY_0900 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
TEAM = "T0001"


def papers_of_thursday() -> list[dict[str, Any]]:
    return [
        make_entry(
            "2608.00001",
            "Speculative Decoding for Everyone",
            upvotes=50,
            day=THURSDAY,
            authors=["Łukasz Müller", "José García", "Ada Lovelace"],
            published="2026-08-19",
        ),
        make_entry("2608.00002", "Robots & Grasping at 100% Speed", upvotes=20, day=THURSDAY, authors=["Alan Turing"]),
    ]


def post_digest(bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack) -> Any:
    fake_hf.days[THURSDAY] = papers_of_thursday()
    saved = clock()
    clock.set(saved - timedelta(days=1))
    bot.command("subscribe", channel="C0001")
    clock.set(saved)
    assert bot.services.runner.run_due(FRIDAY_0900).ok
    [post] = [c for c in fake_slack.posts("C0001") if c.args.get("blocks")]
    return post


def save_buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Paper key -> its Save button (a card's section accessory, or in an actions block)."""
    found = {}
    for block in blocks:
        elements = [block.get("accessory")] if block.get("accessory") else block.get("elements") or []
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == SAVE_ACTION:
                found[element["value"]] = element
    return found


def click_in_message(
    bot: RunningBot, fake_slack: FakeSlack, action_id: str, value: str, *, post: Any, user: str, name: str
) -> None:
    payload = block_actions_payload(
        action_id, value, user_id=user, response_url=fake_slack.response_url(name), message_ts=post.args.get("ts", "")
    )
    message = fake_slack.message("C0001", post_ts(fake_slack, post))
    assert message is not None
    payload["message"] = message
    payload["container"]["message_ts"] = message["ts"]
    assert bot.post(interactive_body(payload)).status_code == 200


def post_ts(fake_slack: FakeSlack, post: Any) -> str:
    """The ts Slack gave a recorded chat.postMessage call (the fake keeps messages by it)."""
    texts = post.args.get("text")
    with fake_slack._cond:
        return next(ts for (channel, ts), m in fake_slack._messages.items() if m.get("text") == texts)


def open_home(bot: RunningBot, fake_slack: FakeSlack, user: str = "U0001", team: str = TEAM) -> dict[str, Any]:
    before = len(fake_slack.calls("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0001", "tab": "home"}
    assert bot.post(event_callback_body(event, team_id=team)).status_code == 200
    fake_slack.wait_for_calls("views.publish", before + 1)
    return fake_slack.home_views[user]


def home_text(view: dict[str, Any]) -> str:
    return CommandResult(200, {"text": "", "blocks": view["blocks"]}).text


def click_in_home(bot: RunningBot, fake_slack: FakeSlack, action_id: str, value: str, *, user: str = "U0001") -> None:
    before = len(fake_slack.calls("views.publish")) + len(fake_slack.calls("views.open"))
    view = fake_slack.home_views[user]
    payload = block_actions_payload(action_id, value, user_id=user, view={**view, "type": "home"})
    assert bot.post(interactive_body(payload)).status_code == 200
    fake_slack._wait(
        lambda: fake_slack.calls("views.publish") + fake_slack.calls("views.open"), before + 1, 15, "a view"
    )


def react(
    bot: RunningBot, channel: str, ts: str, user: str, reaction: str, *, added: bool = True, **event: Any
) -> None:
    body = {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user,
        "reaction": reaction,
        "item_user": "UBOT",
        "item": {"type": "message", "channel": channel, "ts": ts},
        **event,
    }
    assert bot.post(event_callback_body(body)).status_code == 200


# --- Save, "Saved by N", the reading list --------------------------------------------------------------


def test_save_on_a_digest_card_lists_the_paper_in_app_home_and_the_card_counts_savers(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    post = post_digest(bot, clock, fake_hf, fake_slack)
    buttons = save_buttons(post.args["blocks"])
    assert set(buttons) == {"2608.00001", "2608.00002"}  # every card has its Save button
    assert buttons["2608.00001"]["text"]["text"] == "Save"

    click_in_message(bot, fake_slack, SAVE_ACTION, "2608.00001", post=post, user="U0001", name="s1")
    [reply] = fake_slack.wait_for_responses(1, name="s1")
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "Saved *Speculative Decoding for Everyone*" in reply["text"]
    [update] = fake_slack.wait_for_calls("chat.update")
    assert update.args["ts"] == post_ts(fake_slack, post) and "🔖 Saved by 1" in texts_of(update.args)

    click_in_message(bot, fake_slack, SAVE_ACTION, "2608.00001", post=post, user="U0002", name="s2")
    fake_slack.wait_for_responses(1, name="s2")
    updates = fake_slack.wait_for_calls("chat.update", 2)
    text = texts_of(updates[-1].args)
    assert "🔖 Saved by 2" in text and "Saved by 1" not in text and "U0001" not in text  # a count, no names
    card = texts_of(fake_slack.message("C0001", post_ts(fake_slack, post)) or {})
    assert card.count("Saved by") == 1  # only the saved paper's card says it

    again = "s3"
    click_in_message(bot, fake_slack, SAVE_ACTION, "2608.00001", post=post, user="U0001", name=again)
    assert "already in your reading list" in fake_slack.wait_for_responses(1, name=again)[0]["text"]
    assert [s.key for s in bot.store.saved_papers(TEAM, "U0001")] == ["2608.00001"]

    view = open_home(bot, fake_slack)
    text = home_text(view)
    assert "Speculative Decoding for Everyone" in text and "1 saved · 1 unread" in text
    assert "Łukasz Müller, José García, Ada Lovelace" in text and "🔖 Saved by 2" in text
    assert "Robots" not in text  # only what this person saved
    signals = bot.store.signals(TEAM, since=FRIDAY_0900 - timedelta(days=1))
    assert {(s.user_id, s.kind, s.channel_id) for s in signals} == {
        ("U0001", SignalKind.SAVE, "C0001"),
        ("U0002", SignalKind.SAVE, "C0001"),
    }


def test_mark_read_and_remove_from_the_home_tab(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    post = post_digest(bot, clock, fake_hf, fake_slack)
    for key, name in (("2608.00002", "a"), ("2608.00001", "b")):
        click_in_message(bot, fake_slack, SAVE_ACTION, key, post=post, user="U0001", name=name)
        fake_slack.wait_for_responses(1, name=name)
    open_home(bot, fake_slack)

    click_in_home(bot, fake_slack, HOME_READ, "2608.00002")
    view = fake_slack.home_views["U0001"]
    text = home_text(view)
    assert "2 saved · 1 unread" in text
    assert text.index("Speculative Decoding") < text.index("Robots")  # unread first
    assert bot.store.saved_papers(TEAM, "U0001")[1].read_at is not None
    read_buttons = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert read_buttons.count("home_mark_unread") == 1 and read_buttons.count(HOME_READ) == 1

    click_in_home(bot, fake_slack, HOME_REMOVE, "2608.00001")
    text = home_text(fake_slack.home_views["U0001"])
    assert "Removed *Speculative Decoding for Everyone*" in text and "1 saved · 0 unread" in text
    assert [s.key for s in bot.store.saved_papers(TEAM, "U0001")] == ["2608.00002"]


def test_the_bibtex_button_opens_the_entry_privately(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    post = post_digest(bot, clock, fake_hf, fake_slack)
    click_in_message(bot, fake_slack, SAVE_ACTION, "2608.00001", post=post, user="U0001", name="a")
    fake_slack.wait_for_responses(1, name="a")
    open_home(bot, fake_slack)
    click_in_home(bot, fake_slack, HOME_BIBTEX, "2608.00001")
    [opened] = fake_slack.calls("views.open")
    entry = texts_of({"blocks": opened.args["view"]["blocks"]})
    assert "@misc{muller2026speculative," in entry and "eprint = {2608.00001}" in entry
    assert "author = {{\\L}ukasz M{\\\"u}ller and Jos{\\'e} Garc{\\'{\\i}}a and Ada Lovelace}" in entry
    assert fake_slack.posts("C0001")[-1].args.get("blocks")  # nothing new was posted in the channel
    assert not [c for c in fake_slack.posts() if "@misc" in texts_of(c.args)]


def test_home_pages_a_long_list_under_the_block_limit(bot: RunningBot, clock: Clock, fake_slack: FakeSlack) -> None:
    for n in range(45):
        paper = PaperRef(f"2608.{n:05d}", f"Paper number {n}", ("Grace Hopper",))
        bot.store.save_paper(SavedPaper(TEAM, "U0001", paper, FRIDAY_0900 + timedelta(minutes=n)))
    view = open_home(bot, fake_slack)
    assert len(view["blocks"]) <= 100
    text = home_text(view)
    assert "45 saved · 45 unread" in text and "Paper number 44" in text and "Paper number 25" in text
    assert "Paper number 24>" not in text and "Show more (25 more)" in text
    click_in_home(bot, fake_slack, HOME_MORE, "20")
    second = fake_slack.home_views["U0001"]
    text = home_text(second)
    assert len(second["blocks"]) <= 100 and "showing 21–40" in text
    assert "Paper number 24" in text and "Paper number 5>" in text and "Paper number 44" not in text
    assert "Back to the top" in text and "Show more (5 more)" in text


def test_an_empty_reading_list_says_how_to_save(bot: RunningBot, fake_slack: FakeSlack) -> None:
    text = home_text(open_home(bot, fake_slack))
    assert "Nothing saved yet" in text and "*Save paper*" in text
    assert "Team picks this week" in text and "Nothing yet this week" in text


def test_save_paper_shortcut_saves_every_paper_link_of_a_message(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.extra_papers = [
        make_entry("2406.12345", "Attention Again", authors=["Vaswani A"]),
        make_entry("2501.00042", "Mixture of Depths", authors=["B. Person"]),
    ]
    message = {
        "text": "Read <https://arxiv.org/abs/2406.12345v2|this> and https://huggingface.co/papers/2501.00042 "
        "and again <https://arxiv.org/pdf/2406.12345>",
        "user": "U0042",
    }
    payload = message_action_payload(SAVE_SHORTCUT, message, response_url=fake_slack.response_url("sc"))
    assert bot.post(interactive_body(payload)).status_code == 200
    [reply] = fake_slack.wait_for_responses(1, name="sc")
    assert reply["response_type"] == "ephemeral"
    assert "*Attention Again*" in reply["text"] and "*Mixture of Depths*" in reply["text"]
    saved = bot.store.saved_papers(TEAM, "U0001")
    assert sorted(s.key for s in saved) == ["2406.12345", "2501.00042"]
    assert next(s for s in saved if s.key == "2406.12345").paper.authors == ("Vaswani A",)
    assert fake_slack.calls("chat.update") == []  # someone else's message is never edited

    nothing = message_action_payload(SAVE_SHORTCUT, {"text": "lunch?"}, response_url=fake_slack.response_url("n"))
    assert bot.post(interactive_body(nothing)).status_code == 200
    [hint] = fake_slack.wait_for_responses(1, name="n")
    assert (
        "found no arXiv or Hugging Face paper link" in hint["text"] and len(bot.store.saved_papers(TEAM, "U0001")) == 2
    )


# --- signals and team picks --------------------------------------------------------------------------


def share(bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, user: str = "U0007") -> str:
    fake_hf.extra_papers = [make_entry("2608.00077", "Team Reading Paper", upvotes=5)]
    reply = bot.command("2608.00077").reply
    value = next(
        e["value"]
        for b in reply["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == SHARE_ACTION
    )
    payload = block_actions_payload(SHARE_ACTION, value, user_id=user, response_url=fake_slack.response_url("sh"))
    bot.post(interactive_body(payload))
    [post] = fake_slack.wait_for_calls("chat.postMessage")
    bot.listener_pool.settle()
    return post_ts(fake_slack, post)


def test_reactions_on_the_bots_one_paper_post_count_once_per_person(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    ts = share(bot, fake_hf, fake_slack)
    react(bot, "C0001", ts, "U0002", "fire")
    react(bot, "C0001", ts, "U0002", "fire")  # Slack delivers it twice, or the person toggles fast
    react(bot, "C0001", ts, "U0002", "eyes")
    react(bot, "C0001", ts, "U0003", "fire")
    react(bot, "C0001", ts, "UBOT", "robot_face")  # the bot's own reaction
    react(bot, "C0001", "1699999999.000001", "U0004", "fire")  # not one of the bot's one-paper messages
    bot.listener_pool.settle()
    found = bot.store.signals(TEAM, since=datetime.now(UTC) - timedelta(days=400))
    kinds = sorted((s.user_id, s.kind, s.reaction) for s in found)
    assert kinds == [
        ("U0002", "reaction", "eyes"),
        ("U0002", "reaction", "fire"),
        ("U0003", "reaction", "fire"),
        ("U0007", "share", ""),
    ]
    react(bot, "C0001", ts, "U0003", "fire", added=False)
    bot.listener_pool.settle()
    assert [
        s.user_id
        for s in bot.store.signals(TEAM, since=datetime.now(UTC) - timedelta(days=400))
        if s.user_id == "U0003"
    ] == []

    fake_slack.user_channels["U0009"] = ["C0001"]
    text = home_text(open_home(bot, fake_slack, user="U0009"))
    assert "Team picks this week" in text and "<#C0001>" in text
    assert "Team Reading Paper>* · 2 people" in text or "Team Reading Paper> · 2 people" in text  # U0002 and U0007


def test_team_picks_show_only_channels_the_person_is_in(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    post = post_digest(bot, clock, fake_hf, fake_slack)
    click_in_message(bot, fake_slack, SAVE_ACTION, "2608.00002", post=post, user="U0001", name="a")
    fake_slack.wait_for_responses(1, name="a")
    fake_slack.user_channels["U0005"] = ["C0999"]
    text = home_text(open_home(bot, fake_slack, user="U0005"))
    assert "Robots" not in text and "Nothing yet this week" in text
    fake_slack.user_channels["U0006"] = ["C0999", "C0001"]
    text = home_text(open_home(bot, fake_slack, user="U0006"))
    assert "Robots &amp; Grasping at 100% Speed" in text and "1 person" in text


# Another workspace seeing none of it needs two installations (a single token serves one workspace):
# tests/scenarios/test_workspace_isolation.py saves, opens the Home tab and exports in two workspaces
# whose channel and user ids collide, each with its own token.


# --- forget me ------------------------------------------------------------------------------------


def test_forget_me_asks_first_then_removes_the_list_and_signals(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    post = post_digest(bot, clock, fake_hf, fake_slack)
    for key, name in (("2608.00001", "a"), ("2608.00002", "b")):
        click_in_message(bot, fake_slack, SAVE_ACTION, key, post=post, user="U0001", name=name)
        fake_slack.wait_for_responses(1, name=name)
    click_in_message(bot, fake_slack, SAVE_ACTION, "2608.00002", post=post, user="U0002", name="c")
    fake_slack.wait_for_responses(1, name="c")

    asked = bot.command("forget me")
    assert "Forget everything stored about you?" in asked.text and "2 papers" in asked.text
    assert len(bot.store.saved_papers(TEAM, "U0001")) == 2  # nothing happens before the confirmation
    payload = block_actions_payload(FORGET_CONFIRM, "me", response_url=fake_slack.response_url("f"))
    assert bot.post(interactive_body(payload)).status_code == 200
    [done] = fake_slack.wait_for_responses(1, name="f")
    assert "removed 2 saved papers and 2 signals" in done["text"] and done["replace_original"] is True
    bot.listener_pool.settle()
    assert bot.store.saved_papers(TEAM, "U0001") == []
    others = bot.store.signals(TEAM, since=FRIDAY_0900 - timedelta(days=1))
    assert [s.user_id for s in others] == ["U0002"] and len(bot.store.saved_papers(TEAM, "U0002")) == 1
    assert "Nothing saved yet" in home_text(fake_slack.home_views["U0001"])
    assert "type it in full" in bot.command("forget").text


# --- BibTeX files -----------------------------------------------------------------------------------


def bib_files(fake_slack: FakeSlack) -> list[dict[str, Any]]:
    return [f for f in fake_slack.files() if str(f["filename"]).endswith(".bib")]


def test_export_saved_sends_a_valid_bib_file_to_the_dm(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    post = post_digest(bot, clock, fake_hf, fake_slack)
    for key, name in (("2608.00001", "a"), ("2608.00002", "b")):
        click_in_message(bot, fake_slack, SAVE_ACTION, key, post=post, user="U0001", name=name)
        fake_slack.wait_for_responses(1, name=name)
    result = bot.command("export saved")
    assert "Sent `papers-saved-2026-08-21.bib` (2 entries) to our direct messages" in result.text
    [opened] = fake_slack.calls("conversations.open")
    assert opened.args["users"] == "U0001"
    [upload] = bib_files(fake_slack)
    assert upload["channel_id"] == "D0001" and upload["data"] is not None
    library = bibtexparser.parse_string(upload["data"].decode("utf-8"))
    assert library.failed_blocks == []
    entries = {e.key: e for e in library.entries}
    assert set(entries) == {"muller2026speculative", "turing2026robots"}
    first = entries["muller2026speculative"]
    assert first.entry_type == "misc"
    assert first["author"] == "{\\L}ukasz M{\\\"u}ller and Jos{\\'e} Garc{\\'{\\i}}a and Ada Lovelace"
    assert first["eprint"] == "2608.00001" and first["archivePrefix"] == "arXiv"
    assert first["url"] == "https://arxiv.org/abs/2608.00001" and first["year"] == "2026"
    assert entries["turing2026robots"]["title"] == "{Robots \\& Grasping at 100\\% Speed}"


def test_export_posted_sends_what_the_channel_was_sent(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    post_digest(bot, clock, fake_hf, fake_slack)
    result = bot.command("export posted 7")
    assert "(2 entries)" in result.text
    [upload] = bib_files(fake_slack)
    library = bibtexparser.parse_string(upload["data"].decode())
    assert [e["eprint"] for e in library.entries] == ["2608.00001", "2608.00002"] or sorted(
        e["eprint"] for e in library.entries
    ) == ["2608.00001", "2608.00002"]
    assert "exported by papers-bot" in upload["data"].decode()
    assert "1 to 365 days" in bot.command("export posted 9999").text
    assert "Export `saved`" in bot.command("export everything").text


def test_export_of_an_empty_list_uploads_nothing(bot: RunningBot, fake_slack: FakeSlack) -> None:
    assert "reading list is empty" in bot.command("export saved").text
    assert fake_slack.files() == [] and fake_slack.calls("files.getUploadURLExternal") == []


@pytest.mark.parametrize("store_backend", ["tinydb"])
def test_an_upload_refused_by_the_workspace_is_said_plainly(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack, store_backend: str
) -> None:
    post = post_digest(bot, clock, fake_hf, fake_slack)
    click_in_message(bot, fake_slack, SAVE_ACTION, "2608.00001", post=post, user="U0001", name="a")
    fake_slack.wait_for_responses(1, name="a")
    fake_slack.uploads_disabled = True
    text = bot.command("export saved").text
    assert "file_uploads_disabled" in text and fake_slack.files() == []


def test_search_results_and_shared_cards_say_how_many_saved_the_paper(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.extra_papers = [make_entry("2608.00077", "Team Reading Paper", upvotes=5)]
    for user in ("U0002", "U0003"):
        bot.store.save_paper(SavedPaper(TEAM, user, PaperRef("2608.00077", "Team Reading Paper"), FRIDAY_0900))
    everyone = bot.services.store  # the whole store: another workspace's save, beside this one's
    everyone.save_paper(SavedPaper("T0002", "U0004", PaperRef("2608.00077", "Team Reading Paper"), FRIDAY_0900))
    result = bot.command("2608.00077")
    assert "🔖 Saved by 2" in result.text  # this workspace's savers only
    assert save_buttons(result.reply["blocks"]).keys() == {"2608.00077"}
    share(bot, fake_hf, fake_slack)
    [post] = fake_slack.posts("C0001")
    assert "🔖 Saved by 2" in texts_of(post.args) and "Shared by <@U0007>" in texts_of(post.args)


def test_hostile_titles_and_names_are_inert_in_the_home_tab(bot: RunningBot, fake_slack: FakeSlack) -> None:
    hostile = PaperRef("2608.00666", "<!channel> Free <https://evil.example|prizes> & more", ("<@U0BOSS>",))
    bot.store.save_paper(SavedPaper(TEAM, "U0001", hostile, FRIDAY_0900))
    bot.store.add_signal(Signal(TEAM, "C0001", "U0002", SignalKind.SAVE, hostile, FRIDAY_0900))
    fake_slack.user_channels["U0001"] = ["C0001"]
    text = home_text(open_home(bot, fake_slack))
    assert "<!channel>" not in text and "<@U0BOSS>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; Free &lt;https://evil.example¦prizes&gt; &amp; more" in text
    click_in_home(bot, fake_slack, HOME_BIBTEX, "2608.00666")
    [opened] = fake_slack.calls("views.open")
    modal = texts_of({"blocks": opened.args["view"]["blocks"]})
    assert "<!channel>" not in modal and "\\&lt;!channel\\&gt;" not in modal and "&lt;!channel&gt;" in modal


def test_a_save_while_hugging_face_is_down_keeps_the_paper_by_id(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.fail("/api/papers/", 503, times=100)
    message = {"text": "worth reading: https://arxiv.org/abs/2607.01234"}
    payload = message_action_payload(SAVE_SHORTCUT, message, response_url=fake_slack.response_url("down"))
    assert bot.post(interactive_body(payload)).status_code == 200
    [reply] = fake_slack.wait_for_responses(1, name="down")
    assert "Saved *arXiv 2607.01234*" in reply["text"]
    [kept] = bot.store.saved_papers(TEAM, "U0001")
    assert kept.key == "2607.01234" and kept.paper.title == ""
    assert "arXiv 2607.01234" in home_text(open_home(bot, fake_slack))


def test_five_people_saving_at_once_leave_the_card_saying_five(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    post = post_digest(bot, clock, fake_hf, fake_slack)
    users = [f"U00{n}1" for n in range(5)]
    for n, user in enumerate(users):
        click_in_message(bot, fake_slack, SAVE_ACTION, "2608.00002", post=post, user=user, name=f"c{n}")
    for n in range(5):
        fake_slack.wait_for_responses(1, name=f"c{n}")
    fake_slack.wait_for_calls("chat.update", 5)
    bot.listener_pool.settle()
    final = texts_of(fake_slack.message("C0001", post_ts(fake_slack, post)) or {})
    assert "🔖 Saved by 5" in final and final.count("Saved by") == 1


def test_a_digest_card_of_a_paper_saved_before_the_post_says_so_from_the_start(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    for user in ("U0002", "U0003", "U0004"):
        bot.store.save_paper(SavedPaper(TEAM, user, PaperRef("2608.00002", "Robots"), FRIDAY_0900))
    post = post_digest(bot, clock, fake_hf, fake_slack)
    text = texts_of(post.args)
    assert text.count("🔖 Saved by 3") == 1 and "Saved by" not in text.split("Robots")[0]
