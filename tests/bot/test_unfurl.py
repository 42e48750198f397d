"""Link cards, the parts without Slack: which links name a paper, the per-paper cache, arXiv's answers
(the recorded ones in ``shared/fixtures/arxiv``) and the card's blocks."""

from __future__ import annotations

import threading
import time
from datetime import date

import httpx
import pytest

from bot.errors import ArxivError
from bot.feed.arxiv import ArxivClient, parse_entry_feed
from bot.feed.papers import Paper
from bot.ui.render import save_button
from bot.ui.render_unfurl import render_unfurl_card
from bot.unfurl.cache import PaperCache
from bot.unfurl.links import MAX_CARDS, paper_id_of, parse_link_shared
from tests.conftest import SHARED
from tests.fakes import check_blocks, link_shared_event

ARXIV_FIXTURES = SHARED / "fixtures" / "arxiv"


# --- links ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "paper"),
    [
        ("https://arxiv.org/abs/2608.12345", "2608.12345"),
        ("https://arxiv.org/abs/2608.12345v3", "2608.12345"),
        ("https://arxiv.org/pdf/2608.12345", "2608.12345"),
        ("https://arxiv.org/pdf/2608.12345v2.pdf", "2608.12345"),
        ("https://arxiv.org/html/2608.12345v1#S3", "2608.12345"),
        ("http://www.arxiv.org/abs/2608.1234?context=cs", "2608.1234"),
        ("https://huggingface.co/papers/2608.12345", "2608.12345"),
        ("https://hf.co/papers/2608.12345/", "2608.12345"),
        ("https://arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001"),
        ("https://huggingface.co/acme/model-7b", ""),
        ("https://huggingface.co/papers", ""),
        ("https://arxiv.org/list/cs.LG/recent", ""),
        ("https://arxiv.org/abs/2608.12345/extra/path", ""),
        ("arxiv.org/abs/2608.12345", ""),  # Slack always sends a scheme; a bare host is not a link it sent
        ("https://evil.example/arxiv.org/abs/2608.12345", ""),
    ],
)
def test_paper_links_and_nothing_else(url: str, paper: str) -> None:
    assert paper_id_of(url) == paper


def test_an_event_names_each_paper_once_in_order_and_keeps_the_exact_url() -> None:
    urls = [
        "https://arxiv.org/pdf/2608.00002v1",
        "https://huggingface.co/models/x",
        "https://hf.co/papers/2608.00002",
        *(f"https://arxiv.org/abs/2608.0001{i}" for i in range(MAX_CARDS + 2)),
    ]
    shared = parse_link_shared(link_shared_event(urls))
    assert shared is not None
    assert shared.links[0] == ("https://arxiv.org/pdf/2608.00002v1", "2608.00002")
    assert len(shared.links) == MAX_CARDS and [k for _, k in shared.links][1] == "2608.00010"
    assert shared.target() == {"channel": "C0001", "ts": "1700000000.000100"}


def test_the_composer_is_answered_by_unfurl_id_and_events_without_an_address_are_dropped() -> None:
    composer = parse_link_shared(link_shared_event(["https://hf.co/papers/2608.00001"], source="composer"))
    assert composer is not None and composer.composer
    assert composer.target() == {"unfurl_id": composer.unfurl_id, "source": "composer"}
    event = link_shared_event(["https://hf.co/papers/2608.00001"], source="composer")
    event.pop("unfurl_id")
    assert parse_link_shared(event) is None
    assert parse_link_shared(link_shared_event(["https://huggingface.co/spaces/a/b"])) is None
    assert parse_link_shared({"type": "link_shared", "links": "not a list"}) is None
    assert parse_link_shared({"type": "link_shared", "links": [{"url": 3}, "junk"]}) is None


# --- the cache --------------------------------------------------------------------------------------


def test_concurrent_requests_for_one_paper_share_one_lookup() -> None:
    calls: list[str] = []
    gate = threading.Event()

    def fetch(key: str) -> str:
        calls.append(key)
        gate.wait(5)
        return f"card {key}"

    cache: PaperCache[str] = PaperCache(fetch)
    results: list[str | None] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k"))) for _ in range(20)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(5)
    assert calls == ["k"] and results == ["card k"] * 20
    assert cache.get("k") == "card k" and calls == ["k"]  # and it stays cached


def test_a_miss_is_kept_briefly_a_find_longer_and_the_oldest_go_first() -> None:
    now = [0.0]
    found = {"a": None}
    cache: PaperCache[str | None] = PaperCache(
        lambda key: found.get(key, key), ttl=600, miss_ttl=60, max_entries=2, clock=lambda: now[0]
    )
    assert cache.get("a") is None and cache.get("b") == "b"
    found["a"] = "now known"
    now[0] = 59
    assert cache.get("a") is None  # still the cached miss
    now[0] = 61
    assert cache.get("a") == "now known" and cache.fetches == 3
    cache.get("c")  # evicts the least recently used: b
    before = cache.fetches
    cache.get("b")
    assert cache.fetches == before + 1


def test_a_failed_lookup_releases_the_waiters() -> None:
    def fetch(key: str) -> str:
        raise RuntimeError("boom")

    cache: PaperCache[str] = PaperCache(fetch)
    with pytest.raises(RuntimeError):
        cache.get("k")
    with pytest.raises(RuntimeError):  # not cached: tried again
        cache.get("k")
    assert cache.fetches == 2


# --- arXiv ------------------------------------------------------------------------------------------


def _recorded(name: str) -> bytes:
    path = ARXIV_FIXTURES / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared fixtures are only on the developers' machines)")
    return path.read_bytes()


def test_arxivs_recorded_answers_read_as_a_paper_no_paper_and_no_paper() -> None:
    paper = parse_entry_feed(_recorded("api_query_idlist-1605.08386.xml"), "1605.08386")
    assert paper is not None and paper.title == "Heat-bath random walks with Markov bases"
    assert paper.authors == ("Caprice Stanley", "Tobias Windisch") and paper.published == date(2016, 5, 26)
    assert paper.abstract.startswith("Graphs on lattice points are studied")
    assert parse_entry_feed(_recorded("api_query_idlist-0000.0000_zero_results.xml"), "0000.0000") is None
    assert parse_entry_feed(_recorded("api_query_idlist-abc_http400_error.xml"), "abc") is None
    assert parse_entry_feed(_recorded("api_query_idlist-1605.08386.xml"), "1605.08387") is None  # another id


def test_an_answer_that_is_not_atom_is_an_arxiv_error() -> None:
    with pytest.raises(ArxivError):
        parse_entry_feed(b"<html><body>Service unavailable</body></html", "1605.08386")
    with pytest.raises(ArxivError):
        parse_entry_feed(b"<rss/>", "1605.08386")


def test_the_client_waits_three_seconds_between_requests_and_gives_up_before_a_deadline() -> None:
    body = _recorded("api_query_idlist-1605.08386.xml")
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params["id_list"])
        return httpx.Response(400 if request.url.params["id_list"] == "abc" else 200, content=body)

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    client = ArxivClient(
        "https://export.arxiv.org/api/query", transport=httpx.MockTransport(answer), clock=lambda: now[0], sleep=sleep
    )
    assert client.paper("1605.08386v1") is not None
    assert client.paper("abc") is None and slept == [3.0]
    now[0] += 1.0
    with pytest.raises(ArxivError, match="three-second spacing"):
        client.paper("1605.08386", deadline=now[0] + 1.0)
    assert seen == ["1605.08386v1", "abc"] and client.requests_made == 2


# --- the card ---------------------------------------------------------------------------------------


HOSTILE = Paper(
    "2608.00001",
    "<!channel> Agents & <@U1>",
    abstract="Long. " * 400,
    authors=("<!here>",) * 600,
    upvotes=3,
    ai_keywords=("LLM agents",),
    github_repo="https://github.com/o/r",
    github_stars=99,
    extra={"numTotalModels": 1, "numTotalDatasets": 0, "numTotalSpaces": 2},
)


@pytest.mark.parametrize("source", ["hf", "archive", "arxiv"])
def test_every_card_is_valid_escaped_and_carries_save(source: str) -> None:
    blocks = render_unfurl_card(HOSTILE, source=source)
    problems, _ = check_blocks(blocks)
    assert problems == []
    text = str(blocks)
    for raw in ("<!channel>", "<!here>", "<@U1>"):
        assert raw not in text
    actions = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions[0] == save_button("2608.00001")
    assert ("1 model · 2 Spaces" in text) == (source == "hf")  # counts come only from the paper page
    assert ("Follow" in text) == (source != "arxiv")


def test_an_old_style_arxiv_paper_gets_a_card_without_save() -> None:
    blocks = render_unfurl_card(Paper("hep-th/9901001", "Old but gold"), source="arxiv")
    assert [b["type"] for b in blocks] == ["section", "context"]
    assert "<https://arxiv.org/abs/hep-th/9901001|Old but gold>" in blocks[0]["text"]["text"]
    with pytest.raises(ValueError):
        render_unfurl_card(HOSTILE, source="somewhere")
