"""The Hugging Face client against the fake HF server: paging, retries, tolerant parsing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.errors import HFError
from bot.feed.hf import DayFeed, HFClient
from bot.feed.papers import parse_daily_list
from tests.conftest import SHARED
from tests.fakes import FakeHF, make_day, make_entry

DAY = date(2026, 8, 21)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(fake_hf: FakeHF, waits: list[float]) -> HFClient:
    return HFClient(fake_hf.base_url, token="hf_secret_token_123", sleep=waits.append, timeout=2.0)


def test_pages_through_a_busy_day(fake_hf: FakeHF, client: HFClient) -> None:
    fake_hf.days[DAY.isoformat()] = make_day(DAY, 230)
    papers = client.daily_papers(DAY)
    assert len(papers) == 230 and len({p.key for p in papers}) == 230
    assert [r.params.get("p") for r in fake_hf.requests] == [None, "1", "2"]
    assert all(r.params["limit"] == "100" for r in fake_hf.requests)


def test_sends_user_agent_and_token(fake_hf: FakeHF, client: HFClient) -> None:
    client.daily_papers(DAY)
    headers = fake_hf.requests[0].headers
    assert headers["user-agent"].startswith("papers-bot/")
    assert headers["authorization"] == "Bearer hf_secret_token_123"


def test_retries_5xx_then_succeeds(fake_hf: FakeHF, client: HFClient, waits: list[float]) -> None:
    fake_hf.days[DAY.isoformat()] = make_day(DAY, 3)
    fake_hf.fail("/api/daily_papers", status=502, times=2)
    assert len(client.daily_papers(DAY)) == 3
    # Exponential backoff with jitter: the first wait is in [0.5, 1) s, the second in [1, 2) s.
    assert len(waits) == 2 and 0.5 <= waits[0] < 1.0 <= waits[1] < 2.0


def test_429_waits_as_long_as_the_ratelimit_header_says(fake_hf: FakeHF, client: HFClient, waits: list[float]) -> None:
    fake_hf.days[DAY.isoformat()] = make_day(DAY, 1)
    fake_hf.fail("/api/daily_papers", status=429, headers={"RateLimit": '"api";r=0;t=17'})
    assert len(client.daily_papers(DAY)) == 1
    assert waits == [17.0]


def test_gives_up_with_hferror_after_its_attempts(fake_hf: FakeHF, client: HFClient) -> None:
    fake_hf.fail("/api/daily_papers", status=503, times=10)
    with pytest.raises(HFError) as err:
        client.daily_papers(DAY)
    assert "503" in str(err.value) and "hf_secret" not in str(err.value)
    assert fake_hf.count("/api/daily_papers") == 4


def test_non_json_body_is_retried_then_reported(fake_hf: FakeHF, client: HFClient) -> None:
    fake_hf.days[DAY.isoformat()] = make_day(DAY, 2)
    fake_hf.fail_with_body("/api/daily_papers", b'[{"paper": {"id": "26', times=1)
    assert len(client.daily_papers(DAY)) == 2


def test_timeout_is_retried(fake_hf: FakeHF, waits: list[float]) -> None:
    fake_hf.days[DAY.isoformat()] = make_day(DAY, 2)
    fake_hf.delay("/api/daily_papers", 1.5, times=1)
    with HFClient(fake_hf.base_url, sleep=waits.append, timeout=0.5) as quick:
        assert len(quick.daily_papers(DAY)) == 2
    assert len(waits) == 1


def test_connection_refused_is_an_hferror() -> None:
    with HFClient("http://127.0.0.1:9", sleep=lambda _s: None, attempts=2) as dead, pytest.raises(HFError):
        dead.daily_papers(DAY)


def test_malformed_entries_are_skipped_not_fatal(fake_hf: FakeHF, client: HFClient, caplog) -> None:
    good = make_entry("2608.00001", "Good paper", upvotes=3, day=DAY)
    no_title = make_entry("2608.00002", "x", day=DAY)
    del no_title["paper"]["title"], no_title["title"]
    fake_hf.days[DAY.isoformat()] = [good, "not an object", {"paper": {"id": None}}, no_title]
    papers = client.daily_papers(DAY)
    assert [p.title for p in papers] == ["Good paper"]
    assert "skipping Hugging Face entry" in caplog.text


def test_optional_fields_absent_and_numbers_as_floats() -> None:
    entry = make_entry("2608.00001v2", "A  title\n  with breaks", upvotes=7, day=DAY)
    entry["paper"]["upvotes"] = 7.0
    entry["paper"]["githubStars"] = 12.0
    [paper] = parse_daily_list([entry], day=DAY)
    assert paper.key == "2608.00001" and paper.title == "A title with breaks"
    assert paper.upvotes == 7 and paper.github_stars == 12 and paper.ai_summary == ""


def test_day_feed_fetches_once_for_many_readers(fake_hf: FakeHF, client: HFClient) -> None:
    fake_hf.days[DAY.isoformat()] = make_day(DAY, 5)
    feed = DayFeed(client)
    for _ in range(50):
        assert len(feed.papers(DAY)) == 5
    assert fake_hf.count("/api/daily_papers") == 1


@pytest.mark.parametrize("name", sorted(p.name for p in (SHARED / "fixtures" / "hf").glob("*.json")) or ["absent"])
def test_recorded_responses_parse(name: str) -> None:
    path = SHARED / "fixtures" / "hf" / name
    if not path.exists():
        pytest.skip(f"{path.parent} is absent (shared fixtures exist only on developer machines)")
    data = json.loads(Path(path).read_text())
    papers = parse_daily_list(data)
    assert len(papers) == len(data)  # real responses have no malformed entries
    assert all(p.title and p.key and "\n" not in p.title for p in papers)
