"""The Home tab's view (``bot/ui/home.py``): within Slack's limits however long the list, titles and
picks, and it says what a person needs (counts, paging, an empty state)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.models import PaperRef, SavedPaper
from bot.ui.home import PAGE_SIZE, ChannelPicks, home_view
from tests.conftest import CommandResult
from tests.fakes import check_blocks

T0 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
LONG = "A Very Long Title " * 40


def item(n: int, *, read: bool = False) -> SavedPaper:
    paper = PaperRef(f"2608.{n:05d}", f"{LONG} {n}", tuple(f"Author {i}" for i in range(600)))
    return SavedPaper("T1", "U1", paper, T0 - timedelta(days=n), T0 if read else None)


def text(view: dict) -> str:
    return CommandResult(200, {"text": "", "blocks": view["blocks"]}).text


def test_the_worst_case_stays_valid_and_under_100_blocks() -> None:
    page = [item(n) for n in range(PAGE_SIZE)]
    picks = [
        ChannelPicks(f"C{c:04d}", tuple((PaperRef(f"2607.{c:05d}", LONG), 9) for _ in range(3))) for c in range(30)
    ]
    view = home_view(
        page, total=2000, unread=1500, today=date(2026, 8, 21), offset=40, picks=picks, notice="_done_", saved_by={}
    )
    problems, _ = check_blocks(view["blocks"], max_blocks=100)
    assert problems == [] and len(view["blocks"]) <= 100
    shown = text(view)
    assert "2000 saved · 1500 unread" in shown and "showing 41–60" in shown
    assert "Show more (1940 more)" in shown and "Back to the top" in shown and "Team picks this week" in shown
    assert "et al." in shown  # 600 authors: the first three


def test_read_papers_offer_mark_unread_and_counts_above_one_are_shown() -> None:
    view = home_view(
        [item(1), item(2, read=True)], total=2, unread=1, today=date(2026, 8, 21), saved_by={"2608.00002": 3}
    )
    actions = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions.count("home_mark_read") == 1 and actions.count("home_mark_unread") == 1
    assert "🔖 Saved by 3" in text(view) and "Show more" not in text(view)
    assert "saved Thu 20 Aug" in text(view)


def test_empty() -> None:
    view = home_view([], total=0, unread=0, today=date(2026, 8, 21))
    assert "Nothing saved yet" in text(view) and check_blocks(view["blocks"], max_blocks=100)[0] == []
