"""Hugging Face's real search responses (recorded, ``shared/fixtures/hf/papers_search_*.json``) against our
client, renderer and fake: what the bot shows for them, and whether the fake serves the same shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.feed.archive import Archive
from bot.feed.hf import HFClient
from bot.feed.papers import parse_daily_list
from bot.ui.render_search import PagePosition, render_results
from tests.conftest import SHARED, load_shared_json
from tests.fakes import FakeHF, check_blocks, make_entry

FIXTURE_DIR = SHARED / "fixtures" / "hf"
RECORDED = sorted(p.name for p in FIXTURE_DIR.glob("papers_search_*.json")) if FIXTURE_DIR.is_dir() else []


def _query(name: str) -> str:
    """``papers_search_q-kazakh.json`` was recorded for ``q=kazakh``."""
    return Path(name).stem.removeprefix("papers_search_q-").replace("-", " ")


@pytest.fixture(params=RECORDED or ["papers_search_q-kazakh.json"])
def recorded(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    data = load_shared_json(f"fixtures/hf/{request.param}")  # skips, saying why, when shared/ is absent
    assert isinstance(data, list) and data, "a recorded search response is a non-empty JSON array"
    return _query(request.param), data


@pytest.fixture
def served(recorded: tuple[str, list[dict[str, Any]]]) -> Iterator[tuple[str, list[dict[str, Any]], HFClient]]:
    query, data = recorded
    with FakeHF() as fake, HFClient(fake.base_url, sleep=lambda _s: None) as client:
        fake.fail("/api/papers/search", 200, body=data)  # replay the recorded body byte-for-byte as JSON
        yield query, data, client


def test_the_client_parses_every_recorded_hit_in_relevance_order(served: Any) -> None:
    query, data, client = served
    papers = client.search(query, limit=len(data))
    assert [p.key for p in papers] == [e["paper"]["id"] for e in data]
    for paper, entry in zip(papers, data, strict=True):
        assert paper.title == " ".join(entry["paper"]["title"].split())
        assert paper.upvotes == entry["paper"]["upvotes"]  # zero for papers never on Daily Papers
        assert paper.authors and paper.abstract
        assert paper.published is not None and paper.day is None  # search hits carry no Daily-Papers day


def test_recorded_hits_render_within_slacks_limits_with_their_links(served: Any) -> None:
    query, data, client = served
    papers = client.search(query, limit=len(data))
    message, shown = render_results(PagePosition(query), papers[:5], more_after=len(papers) > 5)
    assert shown == min(5, len(papers))
    assert check_blocks(message.blocks) == ([], None)
    for paper in papers[:shown]:
        assert any(paper.pdf_url in str(block) for block in message.blocks)


def test_the_archive_finds_recorded_papers_by_the_recorded_query(recorded: Any) -> None:
    query, data = recorded
    archive = Archive()
    archive.record_day(date(2026, 1, 1), parse_daily_list(data))
    found = {p.key for p in archive.search(query, limit=len(data))}
    highlighted = {e["paper"]["id"] for e in data if any(h["type"] == "highlight" for h in e["highlightedTitle"])}
    assert highlighted and highlighted <= found  # every hit whose title HF highlighted


def test_the_fake_serves_the_recorded_shape(recorded: Any) -> None:
    query, data = recorded
    real_keys = {k for e in data for k in e}
    real_paper_keys = {k for e in data for k in e["paper"]}
    with FakeHF(extra_papers=[make_entry("2608.00001", f"About {query}", ai_summary="x", ai_keywords=["y"])]) as fake:
        [served_entry] = httpx.get(f"{fake.base_url}/api/papers/search", params={"q": query}).json()
    assert set(served_entry) <= real_keys, set(served_entry) - real_keys
    assert set(served_entry["paper"]) <= real_paper_keys | {"ai_summary"}, set(served_entry["paper"]) - real_paper_keys
    assert {"highlightedTitle", "highlightedSummary", "upvoted"} <= set(served_entry)
