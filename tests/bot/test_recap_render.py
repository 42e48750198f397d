"""The weekly recap message and its chart (``bot/ui/recap.py``, ``bot/ui/chart.py``): valid, inert,
within Slack's limits; the chart a PNG with alt text naming every bar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.feed.papers import Paper
from bot.ui.chart import MAX_ALT_TEXT, ChartBar, alt_text, chart_available, render_chart
from bot.ui.recap import MAX_RECAP_PAPERS, render_recap, uploads_refused_text
from tests.fakes import check_blocks

DAYS = [date(2026, 8, 17) + timedelta(days=i) for i in range(7)]
HOSTILE = "<!channel> & <https://evil.example|win>" + " padding" * 60


def test_the_recap_is_valid_inert_and_capped() -> None:
    picks = [(Paper(f"2608.{n:05d}", HOSTILE, authors=("<@U1>",) * 600, upvotes=n), n % 3) for n in range(25)]
    message = render_recap("2026-W34", DAYS, picks, chart=True)
    problems, _ = check_blocks(message.blocks)
    assert problems == []
    text = " ".join(str(b) for b in message.blocks) + message.text
    assert "<!channel>" not in text and "<@U1>" not in text and "<https://evil" not in text
    assert len(message.paper_keys) == MAX_RECAP_PAPERS
    saves = [b["accessory"]["value"] for b in message.blocks if b.get("accessory")]
    assert saves == [f"2608.{n:05d}" for n in range(MAX_RECAP_PAPERS)]
    assert "Mon 17 – Sun 23 Aug 2026" in message.blocks[0]["text"]["text"]
    assert "The chart is in the thread" in str(message.blocks[1])


def test_an_empty_week_and_the_refusal_note() -> None:
    message = render_recap("2026-W34", DAYS, [], chart=False)
    assert "No paper of this week matched" in str(message.blocks) and message.paper_keys == ()
    assert "turned off in this workspace" in uploads_refused_text("file_uploads_disabled")
    assert "`storage_limit_reached`" in uploads_refused_text("storage_limit_reached")


@pytest.mark.skipif(not chart_available(), reason="the charts extra (matplotlib) is not installed")
def test_the_chart_is_a_png_and_its_alt_text_names_every_bar_within_slacks_limit() -> None:
    bars = [ChartBar(HOSTILE, 100 - n, n % 2) for n in range(10)]
    png = render_chart("2026-W34", bars, channel_name="ml")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    text = alt_text("2026-W34", bars)
    assert len(text) <= MAX_ALT_TEXT and text.startswith("Bar chart of the 10 picks of week 2026-W34")
    short = alt_text("2026-W34", [ChartBar("A", 5, 2), ChartBar("B", 3, 0)])
    assert short.endswith("1. A: 5 upvotes, signalled by 2 people here. 2. B: 3 upvotes.")
    assert render_chart("2026-W34", []).startswith(b"\x89PNG")
