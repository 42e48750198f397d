"""What ``/papers topics``, the filter-changing commands and ``/papers preview`` show. Pure.

Every topic, term and name was typed by a user, so it reaches mrkdwn only through ``escape_mrkdwn``.
Times of changes use Slack's ``<!date>`` token, so each reader sees them in their own time zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.feed.papers import Paper
from bot.filters import ChannelFilter
from bot.filters.selection import channel_filter
from bot.models import ChannelConfig, FilterChange
from bot.ui.render import escape_mrkdwn, format_day, mrkdwn_link, truncate

__all__ = ["DayPreview", "change_reply", "filter_overview", "history_lines", "preview_blocks"]

_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_MAX_PREVIEW_LINES_PER_DAY = 10
_SECTION_LIMIT = 2900


def _terms(items: Sequence[str]) -> str:
    return ", ".join(f"`{escape_mrkdwn(item)}`" for item in items)


def _filter_lines(f: ChannelFilter, config: ChannelConfig) -> list[str]:
    lines = [f"*Topics (any of them):* {_terms(f.topics)}" if f.topics else "*Topics:* none, so the top papers"]
    if f.excluded:
        lines.append(f"*Excluded:* {_terms(f.excluded)}")
    if f.authors:
        lines.append(f"*Authors (any):* {_terms(f.authors)}")
    if f.orgs:
        lines.append(f"*Organizations (any):* {_terms(f.orgs)}")
    if f.has_code:
        lines.append("*Only papers with code* (a GitHub repository)")
    if f.min_upvotes:
        lines.append(f"*Minimum upvotes:* {f.min_upvotes}")
    lines.append(f"*Papers per post:* up to {config.max_papers} · *format:* {config.post_format}")
    if f.topics:
        lines.append(f"*Related papers* (close in meaning to a topic): {'on' if config.related else 'off'}")
    return lines


def _who(user_id: str) -> str:
    return f"<@{user_id}>" if _USER_ID_RE.match(user_id) else "someone"


def _when(at: str) -> str:
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return escape_mrkdwn(at)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short}} {{time}}|{fallback}>"


def history_lines(history: Sequence[FilterChange], limit: int = 5) -> list[str]:
    """The latest changes, newest first."""
    return [f"• {_when(c.at)} {_who(c.user_id)} {escape_mrkdwn(c.summary)}" for c in reversed(history[-limit:])]


def filter_overview(config: ChannelConfig | None) -> str:
    """``/papers topics``: the whole filter and who changed it last."""
    if config is None:
        return (
            "This channel has no filter: it would get the day's top papers. "
            'Follow topics with `/papers follow model merging, "process reward"`.'
        )
    lines = ["*This channel's filter*", *_filter_lines(channel_filter(config), config)]
    if config.history:
        lines += ["", "*Recent changes*", *history_lines(config.history)]
    if not config.subscribed:
        lines += ["", "_This channel is not subscribed; `/papers subscribe` starts the daily post._"]
    return "\n".join(lines)


def change_reply(config: ChannelConfig, summary: str) -> str:
    """Every change answers with what changed and the filter that results."""
    lines = [f":white_check_mark: {escape_mrkdwn(summary[:1].upper() + summary[1:])}.", ""]
    lines += _filter_lines(channel_filter(config), config)
    lines += ["", "See what it would have posted with `/papers preview`."]
    return "\n".join(lines)


@dataclass(frozen=True)
class DayPreview:
    day: date
    chosen: list[Paper]
    reasons: Mapping[str, str]
    dropped: int


def _paper_line(paper: Paper, reason: str) -> str:
    line = f"• {mrkdwn_link(paper.hf_url, truncate(paper.title, 140))} ▲{paper.upvotes}"
    return line + (f" · _{escape_mrkdwn(truncate(reason, 160))}_" if reason else "")


def saved_copy_note(days: int) -> str:
    """Said whenever an answer shows day lists from the archive instead of Hugging Face."""
    which = "this day's list is" if days == 1 else f"{days} days' lists are"
    return (
        f"_Hugging Face isn't answering right now: {which} the copy papers-bot last fetched, "
        "which may miss papers added since._"
    )


def preview_blocks(
    config: ChannelConfig, previews: Sequence[DayPreview], missing: int = 0, saved: int = 0
) -> list[dict[str, Any]]:
    """One section per day: the papers the filter would have posted there, and what it dropped.
    ``saved``: days shown from the bot's saved copy because Hugging Face did not answer in time."""
    posted = sum(len(p.chosen) for p in previews)
    dropped = sum(p.dropped for p in previews)
    days = len(previews)
    summary = (
        f"With this channel's current filter, the last {days} day{'s' * (days != 1)} of Hugging Face papers "
        f"would have posted *{posted}* paper{'s' * (posted != 1)}; the filter dropped {dropped}."
    )
    if missing:
        summary += f" ({missing} day{'s' * (missing != 1)} could not be fetched.)"
    if saved:
        summary += f"\n{saved_copy_note(saved)}"
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "_Only you can see this preview._"}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
    ]
    for preview in previews:
        heading = f"*{format_day(preview.day)}*: {len(preview.chosen)} posted, {preview.dropped} dropped"
        lines = [heading]
        for paper in preview.chosen[:_MAX_PREVIEW_LINES_PER_DAY]:
            line = _paper_line(paper, preview.reasons.get(paper.key, ""))
            if sum(len(x) + 1 for x in lines) + len(line) > _SECTION_LIMIT:
                break
            lines.append(line)
        if not preview.chosen:
            lines.append("_nothing matched_" if preview.dropped else "_no papers that day_")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "Tune it with `/papers follow`, `/papers exclude` or `/papers set`."}
            ],
        }
    )
    return blocks[:50]
