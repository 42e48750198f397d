"""The weekly recap's chart: the week's picks as a PNG bar chart, and its alt text. Pure (data in, bytes out).

matplotlib is an optional extra (``pip install 'papers-bot[charts]'``): without it ``chart_available()``
is False and the recap goes out without a chart. It is driven through its object API on the Agg
backend (``Figure`` + ``FigureCanvasAgg``), never ``pyplot``: no global state, no display, and each
figure belongs to the thread that draws it, so the recap's worker threads can draw at once.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.util import find_spec

__all__ = ["ChartBar", "alt_text", "chart_available", "render_chart"]

MAX_ALT_TEXT = 1000  # Slack's limit for a file's alt text
_BAR = "#ff9d00"  # Hugging Face's orange
_SIGNAL = "#4a154b"  # Slack's aubergine


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One paper of the chart: its title, Hugging Face upvotes and how many people here signalled it."""

    title: str
    upvotes: int
    people: int = 0


def chart_available() -> bool:
    """Whether the ``charts`` extra (matplotlib) is installed."""
    return find_spec("matplotlib") is not None


def alt_text(week: str, bars: Sequence[ChartBar]) -> str:
    """What a screen reader says instead of the picture: every bar, in order, within Slack's limit."""
    head = f"Bar chart of the {len(bars)} picks of week {week} in this channel, by Hugging Face upvotes."
    parts = []
    for rank, bar in enumerate(bars, 1):
        people = f", signalled by {bar.people} {'person' if bar.people == 1 else 'people'} here" if bar.people else ""
        parts.append(f"{rank}. {bar.title}: {bar.upvotes} upvotes{people}.")
    text = " ".join([head, *parts])
    return text if len(text) <= MAX_ALT_TEXT else text[: MAX_ALT_TEXT - 1] + "…"


def render_chart(week: str, bars: Sequence[ChartBar], *, channel_name: str = "") -> bytes:
    """A PNG: one horizontal bar per paper (upvotes), best at the top, each labelled with its upvotes
    and, where people here signalled it, how many. Raises ImportError without the ``charts`` extra."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    count = max(len(bars), 1)
    height = 1.2 + 0.55 * count
    figure = Figure(figsize=(9, height), dpi=100)
    FigureCanvasAgg(figure)
    # Fixed margins instead of tight_layout(), which draws the whole figure once more to measure it
    # (half the time of a chart); titles are wrapped to two short lines, so the left margin fits them.
    figure.subplots_adjust(left=0.36, right=0.97, top=1 - 0.55 / height, bottom=0.6 / height)
    axes = figure.add_subplot()
    labels = ["\n".join(textwrap.wrap(bar.title, 44, max_lines=2, placeholder="…")) or "?" for bar in bars]
    positions = list(range(len(bars)))[::-1]  # the first pick on top
    upvotes = [bar.upvotes for bar in bars]
    axes.barh(positions, upvotes, color=_BAR, height=0.6)
    top = max(upvotes, default=0) or 1
    for y, bar in zip(positions, bars, strict=True):
        note = f"▲ {bar.upvotes}"
        axes.text(bar.upvotes + top * 0.01, y, note, va="center", fontsize=9, color="#1d1c1d")
        if bar.people:
            who = f"{bar.people} here"
            axes.text(bar.upvotes + top * 0.13, y, who, va="center", fontsize=9, color=_SIGNAL, fontweight="bold")
    axes.set_yticks(positions, labels, fontsize=8)
    axes.set_xlim(0, top * 1.3)
    axes.set_xlabel("Hugging Face upvotes")
    where = f"#{channel_name} · " if channel_name else ""
    axes.set_title(f"{where}Week {week}: the channel's picks", loc="left", fontsize=12, fontweight="bold")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
