"""What a channel sees: rendered papers, inert hostile text, and Slack limits that hold for any input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.feed.papers import Paper, parse_daily_list
from bot.filters import MAX_TERM_LENGTH, MAX_TERM_WORDS
from bot.search.query import MAX_QUERY_CHARS
from bot.ui.render import (
    Message,
    escape_mrkdwn,
    first_sentences,
    format_authors,
    format_day,
    format_days,
    render_digest,
    render_paper_card,
    render_text_preview,
    truncate,
)
from bot.ui.render_search import (
    FOLLOW_ACTION,
    MORE_ACTION,
    SHARE_ACTION,
    PagePosition,
    render_paper_lookup,
    render_results,
)
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "hf"
DAY = date(2026, 8, 21)  # a Friday
HOSTILE = "<!channel> & <@U123> <https://evil|click>"


def make_paper(n: int = 1, **changes: Any) -> Paper:
    fields: dict[str, Any] = {
        "id": f"2608.{20000 + n}",
        "title": f"Paper number {n}",
        "abstract": "We study things. We find results. We conclude more.",
        "authors": ("Yudong Jin", "Tao Xie", "Qihang Zhang", "Fourth Author"),
        "upvotes": 38,
        "day": DAY,
        "ai_summary": "",
        "github_repo": "https://github.com/ant-research/4DAnyone",
        "github_stars": 20,
        "project_page": "https://4danyone.github.io/",
        "organization": "Ant Research",
    }
    fields.update(changes)
    return Paper(**fields)


def block_texts(value: Any) -> Iterator[str]:
    """Every string under a ``text`` key, however deeply nested (text objects, context elements)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from block_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from block_texts(item)


def message_texts(messages: list[Message]) -> list[str]:
    return [text for m in messages for text in [m.text, *block_texts(m.blocks)]]


def sections(message: Message) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


def contexts(message: Message) -> list[str]:
    return [e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"]]


def assert_valid_blocks(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        parsed.to_dict()  # validates nested objects too
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        assert len(block.get("block_id", "")) <= 255


def assert_within_limits(messages: list[Message]) -> None:
    for message in messages:
        assert_valid_blocks(message.blocks)
        assert 1 <= len(message.blocks) <= 50
        assert sum(len(t) for t in block_texts(message.blocks)) <= 11_000
        assert 0 < len(message.text) <= 3000
        for block in message.blocks:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
            if block["type"] == "section":
                assert 1 <= len(block["text"]["text"]) <= 3000


def hf_keys_in_order(messages: list[Message]) -> list[str]:
    prefix = "<https://huggingface.co/papers/"
    keys = []
    for message in messages:
        for text in sections(message):
            for line in text.split("\n"):
                if prefix in line and "|HF page>" not in line:
                    keys.append(line.split(prefix, 1)[1].split("|", 1)[0])
    return keys


# --- one paper, full format ---------------------------------------------------------------------


def test_paper_renders_linked_title_meta_summary_links_and_reason() -> None:
    paper = make_paper(ai_summary="AI summary wins.", github_stars=1234)
    [message] = render_digest([paper], days=[DAY], reasons={paper.key: "topic: 4D humans"})
    [section] = sections(message)
    [context] = contexts(message)
    assert section.startswith("*1. <https://huggingface.co/papers/2608.20001|Paper number 1>*\n")
    assert "▲ 38 upvotes · Yudong Jin, Tao Xie, Qihang Zhang et al. · Ant Research" in section
    assert "Fourth Author" not in section
    assert "AI summary wins." in section and "We study things" not in section
    for link in (
        "<https://huggingface.co/papers/2608.20001|HF page>",
        "<https://arxiv.org/abs/2608.20001|arXiv>",
        "<https://arxiv.org/pdf/2608.20001|PDF>",
        "<https://github.com/ant-research/4DAnyone|GitHub ★ 1.2k>",
        "<https://4danyone.github.io/|Project page>",
    ):
        assert link in context
    assert "_Matched: topic: 4D humans_" in context
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "📚 Trending papers · Fri 21 Aug 2026", "emoji": True},
    }
    assert message.text == "Trending papers for Fri 21 Aug 2026: 1. Paper number 1 (▲38)"
    assert_within_limits([message])


def test_abstract_first_sentences_when_no_ai_summary_and_optional_parts_omitted() -> None:
    paper = make_paper(authors=("Solo Author",), organization="", github_repo="", project_page="", upvotes=1)
    [message] = render_digest([paper], days=[DAY])
    [section] = sections(message)
    assert "▲ 1 upvote · Solo Author\nWe study things. We find results." in section
    assert "We conclude more" not in section and "et al." not in section
    assert "GitHub" not in contexts(message)[0] and "Project page" not in contexts(message)[0]


def test_stars_shown_only_when_known() -> None:
    [message] = render_digest([make_paper(github_stars=None)], days=[DAY])
    assert "<https://github.com/ant-research/4DAnyone|GitHub>" in contexts(message)[0]


def test_catch_up_shows_each_papers_day_and_day_range() -> None:
    papers = [make_paper(1, day=date(2026, 8, 21)), make_paper(2, day=date(2026, 8, 24))]
    [message] = render_digest(papers, days=[date(2026, 8, 24), date(2026, 8, 21)])
    assert message.blocks[0]["text"]["text"] == "📚 Catch-up: trending papers · Fri 21 – Mon 24 Aug 2026"
    assert "▲ 38 upvotes · Fri 21 Aug ·" in sections(message)[0]
    assert "▲ 38 upvotes · Mon 24 Aug ·" in sections(message)[1]
    assert message.text.startswith("Catch-up: trending papers for Fri 21 – Mon 24 Aug 2026: 1. ")


def test_empty_list_renders_no_message() -> None:
    assert render_digest([], days=[DAY]) == []
    assert render_digest([], days=[DAY], compact=True) == []


# --- hostile text -------------------------------------------------------------------------------


def test_escape_mrkdwn_escapes_ampersand_first() -> None:
    assert escape_mrkdwn("a & <b>") == "a &amp; &lt;b&gt;"
    assert escape_mrkdwn("&lt;") == "&amp;lt;"


@pytest.mark.parametrize("compact", [False, True])
def test_hostile_text_cannot_ping_or_link(compact: bool) -> None:
    paper = make_paper(
        title=HOSTILE,
        abstract=HOSTILE,
        ai_summary=HOSTILE,
        authors=(HOSTILE, HOSTILE),
        organization=HOSTILE,
        ai_keywords=(HOSTILE,),
        github_repo="https://evil.example|<!channel>",
        project_page="javascript:alert(1)",
    )
    messages = render_digest([paper], days=[DAY], reasons={paper.key: HOSTILE}, compact=compact)
    messages_card = [Message("x", render_paper_card(paper, reason=HOSTILE, include_counts=True))]
    texts = message_texts(messages) + message_texts(messages_card)
    for text in texts:
        assert "<!" not in text and "<@" not in text and "<https://evil" not in text, text
    joined = "\n".join(texts)
    assert "&lt;!channel&gt;" in joined
    assert "evil.example" not in joined and "javascript" not in joined
    assert "&lt;https://evil¦click&gt;" in sections(messages[0])[0]  # `|` never reaches a link label
    assert_within_limits(messages)


# --- limits -------------------------------------------------------------------------------------

LIMIT_CASES = {
    "normal": [make_paper()],
    "2000-char title": [make_paper(title="T" * 1999 + "&")],
    "2000 ampersands": [make_paper(title="&" * 2000, ai_summary="<" * 2000, organization="&" * 500)],
    "600 authors": [make_paper(authors=tuple(f"Author {i} " + "x" * 200 for i in range(600)))],
    "20000-char abstract": [make_paper(abstract="word " * 4000)],
    "20000-char summary": [make_paper(ai_summary="Sentence. " * 2000)],
    "huge urls": [make_paper(github_repo="https://github.com/" + "a&" * 2000, project_page="https://x/" * 400)],
    "100 huge papers": [
        make_paper(n, title="T&" * 1000, abstract="A<" * 10000, authors=("N&" * 300,) * 600, organization="O" * 999)
        for n in range(100)
    ],
}


@pytest.mark.parametrize("compact", [False, True], ids=["full", "compact"])
@pytest.mark.parametrize("papers", LIMIT_CASES.values(), ids=LIMIT_CASES.keys())
def test_any_input_stays_within_slack_limits(papers: list[Paper], compact: bool) -> None:
    reasons = {p.key: "r&" * 3000 for p in papers}
    messages = render_digest(papers, days=[DAY], reasons=reasons, compact=compact)
    assert_within_limits(messages)
    assert hf_keys_in_order(messages) == [p.key for p in papers]


@pytest.mark.parametrize("compact", [False, True], ids=["full", "compact"])
def test_100_papers_split_into_messages_each_paper_once_in_order(compact: bool) -> None:
    papers = [make_paper(n, upvotes=200 - n, abstract="Long sentence here. " * 40) for n in range(100)]
    messages = render_digest(papers, days=[DAY], compact=compact)
    assert len(messages) > 1
    assert_within_limits(messages)
    assert hf_keys_in_order(messages) == [p.key for p in papers]
    total = len(messages)
    assert messages[0].blocks[0]["text"]["text"].endswith(f"(1/{total})")
    for page_no, message in enumerate(messages[1:], 2):
        assert message.blocks[0]["type"] == "context"
        assert f"(continued, {page_no}/{total})" in message.blocks[0]["elements"][0]["text"]
    numbers = [line.split(".", 1)[0].lstrip("*") for m in messages for s in sections(m) for line in s.split("\n")]
    assert [n for n in numbers if n.isdigit()] == [str(i) for i in range(1, 101)]


def test_compact_uses_one_line_per_paper_in_few_blocks() -> None:
    papers = [make_paper(n, upvotes=50 - n) for n in range(1, 11)]
    [message] = render_digest(papers, days=[DAY], compact=True, reasons={papers[1].key: "kw"})
    assert [b["type"] for b in message.blocks] == ["header", "section"]
    lines = sections(message)[0].split("\n")
    assert len(lines) == 10
    assert lines[0] == (
        "1. <https://huggingface.co/papers/2608.20001|Paper number 1> ▲49 · <https://arxiv.org/abs/2608.20001|arXiv>"
    )
    assert lines[1].endswith(" · _Matched: kw_")


def test_header_fits_with_long_title_and_many_days() -> None:
    days = [date(2025, 12, 1) + timedelta(days=i) for i in range(60)]
    [message] = render_digest([make_paper()], days=days, title="Very long title " * 20)
    header = message.blocks[0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    [message] = render_digest([make_paper()], days=days)
    assert message.blocks[0]["text"]["text"] == "📚 Catch-up: trending papers · Mon 1 Dec 2025 – Thu 29 Jan 2026"


def test_fallback_text_is_capped() -> None:
    papers = [make_paper(n, title="Title " * 100) for n in range(40)]
    for message in render_digest(papers, days=[DAY], compact=True):
        assert len(message.text) <= 3000


# --- card and preview ---------------------------------------------------------------------------


def test_paper_card_with_counts_and_buttons() -> None:
    paper = make_paper(extra={"numTotalModels": 3, "numTotalDatasets": 1, "numTotalSpaces": 0})
    button = {"type": "button", "text": {"type": "plain_text", "text": "Share"}, "action_id": "share"}
    blocks = render_paper_card(paper, reason="matched 'agents'", include_counts=True, buttons=[button])
    assert_valid_blocks(blocks)
    assert [b["type"] for b in blocks] == ["section", "context", "actions"]
    assert blocks[0]["text"]["text"].startswith("*<https://huggingface.co/papers/2608.20001|Paper number 1>*")
    assert "Fri 21 Aug 2026" in blocks[0]["text"]["text"]
    assert "🤗 3 models · 1 dataset" in blocks[1]["elements"][0]["text"]
    assert "Space" not in blocks[1]["elements"][0]["text"]
    assert blocks[2]["elements"] == [button]
    assert "🤗" not in json.dumps(render_paper_card(paper), ensure_ascii=False)


def test_text_preview_is_plain_and_complete() -> None:
    paper = make_paper(title="A & B <x>\x1b[31m", ai_summary="Summary.")
    text = render_text_preview([paper], days=[DAY], reasons={paper.key: "topic"})
    assert text.startswith("Trending papers · Fri 21 Aug 2026\n")
    assert " 1. A & B <x>[31m\n" in text and "\x1b" not in text
    assert "▲ 38 · Yudong Jin, Tao Xie, Qihang Zhang et al. · Ant Research" in text
    assert "Summary." in text and "Matched: topic" in text
    assert "https://huggingface.co/papers/2608.20001" in text and "https://github.com/ant-research/4DAnyone" in text
    assert "(no papers)" in render_text_preview([], days=[DAY])


# --- helpers ------------------------------------------------------------------------------------


def test_helpers() -> None:
    assert format_authors(["A", "B", "C", "D"]) == "A, B, C et al."
    assert format_authors(["A", "B"]) == "A, B"
    assert format_authors([]) == ""
    assert truncate("hello world", 20) == "hello world"
    assert truncate("one two three four", 12) == "one two…"
    assert truncate("x" * 50, 10) == "x" * 9 + "…"
    assert format_day(DAY) == "Fri 21 Aug 2026"
    assert format_days([date(2026, 8, 24), DAY, DAY]) == "Fri 21 – Mon 24 Aug 2026"
    assert format_days([date(2026, 7, 31), date(2026, 8, 3)]) == "Fri 31 Jul – Mon 3 Aug 2026"
    assert format_days([date(2025, 12, 31), date(2026, 1, 2)]) == "Wed 31 Dec 2025 – Fri 2 Jan 2026"
    assert format_days([]) == ""


def test_first_sentences_cuts_at_sentence_then_word_boundary() -> None:
    assert first_sentences("One. Two. Three.") == "One. Two."
    assert first_sentences("We use e.g. things. Next one.") == "We use e.g. things. Next one."
    long = "word " * 100
    cut = first_sentences(long, 50)
    assert len(cut) <= 50 and cut.endswith("word…")
    assert first_sentences("Short first. " + "X" * 400, 300) == "Short first."
    assert first_sentences("") == ""


# --- contract with real Hugging Face responses --------------------------------------------------


def test_recorded_daily_papers_render_to_valid_messages() -> None:
    files = sorted(FIXTURES.glob("daily_papers_*.json"))
    if not files:
        pytest.skip(f"no recorded Hugging Face responses in {FIXTURES.resolve()}")
    for path in files:
        papers = parse_daily_list(json.loads(path.read_text(encoding="utf-8")))
        assert papers, path.name
        days = sorted({p.day for p in papers if p.day}) or [DAY]
        for compact in (False, True):
            messages = render_digest(papers, days=days, compact=compact)
            assert_within_limits(messages)
            assert hf_keys_in_order(messages) == [p.key for p in papers], path.name
        for paper in papers:
            assert_valid_blocks(render_paper_card(paper, include_counts=True))


# --- search results: the Follow as topic button ----------------------------------------------------


def _action_ids(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.parametrize(
    ("query", "offered"),
    [
        ("x" * MAX_TERM_LENGTH, True),  # the longest topic follow accepts
        ("x" * (MAX_TERM_LENGTH + 1), False),  # a valid search (up to 500 characters), but no topic
        ("y" * MAX_QUERY_CHARS, False),
        (" ".join(["word"] * (MAX_TERM_WORDS + 1)), False),  # short enough, but too many words
        ("!!! ???", False),  # nothing to match on
    ],
)
def test_follow_as_topic_is_offered_only_for_queries_follow_accepts(query: str, offered: bool) -> None:
    message, shown = render_results(PagePosition(query), [make_paper(1), make_paper(2)], more_after=True)
    assert shown == 2
    ids = _action_ids(message)
    assert ids.count(SHARE_ACTION) == 2 and MORE_ACTION in ids
    assert ids.count(FOLLOW_ACTION) == (2 if offered else 0)
    assert_valid_blocks(message.blocks)


def test_a_lookup_offers_follow_only_for_a_keyword_that_can_be_a_topic() -> None:
    short = render_paper_lookup(make_paper(1, ai_keywords=("speculative decoding",)))
    assert _action_ids(short) == [SHARE_ACTION, FOLLOW_ACTION]
    long = render_paper_lookup(make_paper(1, ai_keywords=("k" * (MAX_TERM_LENGTH + 1),)))
    assert _action_ids(long) == [SHARE_ACTION]
