"""Reading a search text (ids, links, ``--posted``, length) and the Block Kit its answers become."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from bot.errors import UserInputError
from bot.feed.papers import Paper
from bot.search.query import MAX_QUERY_CHARS, find_arxiv_id, parse_search
from bot.ui.render_search import (
    FOLLOW_ACTION,
    MORE_ACTION,
    SHARE_ACTION,
    PagePosition,
    PostedHit,
    more_value,
    parse_more_value,
    render_not_found,
    render_paper_lookup,
    render_posted_results,
    render_results,
    render_shared,
)
from tests.fakes import check_blocks

HOSTILE = "<!channel> & <@U123> <https://evil.example|click>"


def paper(n: int = 1, **changes: Any) -> Paper:
    fields: dict[str, Any] = {
        "id": f"2608.{20000 + n}",
        "title": f"Paper number {n}",
        "abstract": "We study things. We find results.",
        "authors": ("Ada Lovelace", "Alan Turing"),
        "upvotes": 10 + n,
        "published": date(2026, 8, 20),
        "ai_keywords": ("speculative decoding", "LLM"),
    }
    fields.update(changes)
    return Paper(**fields)


def all_text(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


# --- parse_search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2406.12345", "2406.12345"),
        ("2406.12345v2", "2406.12345"),
        ("0704.0001", "0704.0001"),
        ("arXiv:2406.12345", "2406.12345"),
        ("arxiv.org/abs/2406.12345", "2406.12345"),
        ("https://arxiv.org/abs/2406.12345v3", "2406.12345"),
        ("http://www.arxiv.org/pdf/2406.12345", "2406.12345"),
        ("https://arxiv.org/pdf/2406.12345v1.pdf", "2406.12345"),
        ("https://huggingface.co/papers/2406.12345", "2406.12345"),
        ("hf.co/papers/2406.12345?utm=x", "2406.12345"),
        ("<https://arxiv.org/abs/2406.12345>", "2406.12345"),
        ("<https://arxiv.org/abs/2406.12345|arxiv.org/abs/2406.12345>", "2406.12345"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136v2", "math.GT/0309136"),
        ("https://arxiv.org/abs/cond-mat/0011035", "cond-mat/0011035"),
    ],
)
def test_an_id_or_link_names_one_paper(text: str, expected: str) -> None:
    assert find_arxiv_id(text) == expected
    assert parse_search(text).arxiv_id == expected


@pytest.mark.parametrize(
    "text",
    [
        "speculative decoding",
        "2406.12345 follow-ups",  # more than the id: a text search
        "https://evil.example/abs/2406.12345",
        "arxiv.org/list/cs.LG",
        "24061.2345",
        "2406.123",
    ],
)
def test_other_text_is_a_text_search(text: str) -> None:
    query = parse_search(text)
    assert query.arxiv_id == "" and query.text == text


def test_posted_flag_is_found_anywhere_and_removed() -> None:
    assert parse_search("--posted rlhf reward") == parse_search("rlhf --POSTED reward")
    query = parse_search("--posted rlhf reward")
    assert query.posted and query.text == "rlhf reward"
    assert parse_search("--posted").posted and parse_search("--posted").empty


def test_empty_text_is_empty_not_an_error() -> None:
    assert parse_search("").empty and not parse_search("   ").posted


def test_too_long_a_query_is_refused_with_its_length() -> None:
    assert parse_search("x" * MAX_QUERY_CHARS).text == "x" * MAX_QUERY_CHARS
    with pytest.raises(UserInputError) as caught:
        parse_search("y" * 10_000)
    assert "10,000" in caught.value.message and str(MAX_QUERY_CHARS) in caught.value.message
    assert caught.value.example.startswith("/papers search")


# --- render_search ---------------------------------------------------------------------------------


def test_results_show_cards_with_share_and_follow_and_a_more_button() -> None:
    position = PagePosition("speculative decoding")
    message, shown = render_results(position, [paper(1), paper(2)], more_after=True)
    assert shown == 2
    assert check_blocks(message.blocks) == ([], None)
    text = all_text(message.blocks)
    assert "Paper number 1" in text and "Paper number 2" in text
    assert "https://arxiv.org/pdf/2608.20001" in text and "Ada Lovelace" in text
    assert "Thu 20 Aug 2026" in text  # the arXiv date stands in for the missing Daily-Papers day
    found = buttons(message.blocks)
    assert [b["action_id"] for b in found] == [SHARE_ACTION, FOLLOW_ACTION, SHARE_ACTION, FOLLOW_ACTION, MORE_ACTION]
    assert found[0]["value"] == "2608.20001"
    assert json.loads(found[1]["value"]) == {"t": "speculative decoding"}
    assert parse_more_value(found[-1]["value"]) == PagePosition("speculative decoding", 2)


def test_no_more_button_on_the_last_page_and_a_clear_empty_answer() -> None:
    message, _ = render_results(PagePosition("x", 5), [paper(1)], more_after=False)
    assert MORE_ACTION not in all_text(message.blocks)
    empty, shown = render_results(PagePosition("nothing"), [], more_after=False)
    assert shown == 0 and "No papers on Hugging Face match" in all_text(empty.blocks)


def test_hostile_query_and_paper_text_are_inert() -> None:
    evil = paper(1, title=HOSTILE, abstract=HOSTILE, authors=(HOSTILE,))
    message, _ = render_results(PagePosition(HOSTILE), [evil], more_after=True)
    assert check_blocks(message.blocks) == ([], None)
    for text in (message.text, *(json.dumps(b) for b in message.blocks if b["type"] != "actions")):
        assert "<!channel>" not in text and "<@U123>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in message.text
    shared = render_shared(evil, "U0001")
    assert "<!channel>" not in all_text(shared.blocks) and "<@U0001>" in shared.text


def test_a_page_holds_only_what_fits_and_more_continues_after_it() -> None:
    huge = [
        paper(i, title="T" * 600, ai_summary="S " * 300, authors=tuple("A" * 80 for _ in range(3))) for i in range(9)
    ]
    message, shown = render_results(PagePosition("q", 10), huge, more_after=False)
    assert 0 < shown < 9
    assert check_blocks(message.blocks) == ([], None)
    assert parse_more_value(buttons(message.blocks)[-1]["value"]) == PagePosition("q", 10 + shown)


def test_more_value_stays_under_slacks_limit_for_the_longest_query() -> None:
    worst = '"\\' * (MAX_QUERY_CHARS // 2)  # characters JSON escapes to two
    value = more_value(PagePosition(worst, 45))
    assert value is not None and len(value) <= 2000
    assert parse_more_value(value) == PagePosition(worst, 45)


@pytest.mark.parametrize(
    "value", ["", "nope", "[1]", '{"q": 1, "o": 0}', '{"q": "x", "o": -1}', '{"q": "x", "o": true}']
)
def test_a_more_value_we_did_not_write_is_refused(value: str) -> None:
    assert parse_more_value(value) is None


def test_lookup_card_shows_linked_counts_even_when_zero() -> None:
    detailed = paper(1, extra={"numTotalModels": 3, "numTotalDatasets": 0, "numTotalSpaces": 1})
    message = render_paper_lookup(detailed)
    text = all_text(message.blocks)
    assert "3 models" in text and "0 datasets" in text and "1 Space" in text
    follow = next(b for b in buttons(message.blocks) if b["action_id"] == FOLLOW_ACTION)
    assert json.loads(follow["value"]) == {"t": "speculative decoding"}  # the paper's main keyword
    no_keywords = render_paper_lookup(paper(2, ai_keywords=()))
    assert [b["action_id"] for b in buttons(no_keywords.blocks)] == [SHARE_ACTION]
    assert check_blocks(message.blocks) == ([], None)


def test_not_found_names_the_id_and_links_arxiv() -> None:
    text = render_not_found("2406.99999")
    assert "Not found" in text and "<https://arxiv.org/abs/2406.99999|" in text


def test_posted_results_link_to_the_posts() -> None:
    hits = [PostedHit(paper(1), date(2026, 8, 21), "https://test.slack.com/archives/C1/p1700000000000100")]
    message = render_posted_results(PagePosition("rlhf", 0, posted=True), hits, more_after=True)
    text = all_text(message.blocks)
    assert "|view the post>" in text and "posted Fri 21 Aug 2026" in text
    assert parse_more_value(buttons(message.blocks)[0]["value"]) == PagePosition("rlhf", 1, posted=True)
    assert check_blocks(message.blocks) == ([], None)
    none = render_posted_results(PagePosition("zzz", 0, posted=True), [], more_after=False)
    assert "Nothing posted in this channel matches" in none.text
