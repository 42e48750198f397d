"""Block Kit builders for the daily post, search results and the terminal preview.

Everything here is pure: papers in, Slack payloads (or plain text) out. Two promises hold for any input,
however hostile or huge (see ``shared/research/slack.md`` §3):

* untrusted text reaches mrkdwn only through :func:`escape_mrkdwn`, so nothing a paper's authors or a
  user typed can become a mention, a broadcast (``<!channel>``) or a disguised link;
* Slack's limits are never broken: long fields are trimmed, long posts are split across several
  messages, and no paper is ever dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from bot.feed.papers import ARXIV_ID_RE, Paper
from bot.filters import RELATED_PREFIX
from bot.ui.ids import SAVE_ACTION

__all__ = [
    "MAX_BLOCKS",
    "MAX_FALLBACK_CHARS",
    "MAX_HEADER_CHARS",
    "MAX_MESSAGE_CHARS",
    "MAX_SECTION_CHARS",
    "Message",
    "context_block",
    "escape_mrkdwn",
    "first_sentences",
    "format_authors",
    "format_day",
    "format_days",
    "mrkdwn_link",
    "mrkdwn_text",
    "render_digest",
    "render_paper_card",
    "render_text_preview",
    "save_button",
    "saved_by_text",
    "section_block",
    "short_count",
    "truncate",
    "with_saved_by",
]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
# Slack rejects ~12-13k characters of block text per message (msg_blocks_too_long, undocumented).
MAX_MESSAGE_CHARS = 11_000
MAX_FALLBACK_CHARS = 3000
MAX_ACTIONS = 25
_MAX_URL_CHARS = 500
_HEADER_RESERVE = 400  # characters kept free in every message for its header or continuation line
_UNSAFE_URL_RE = re.compile(r"[\s<>|]")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: locale-independent
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_COUNTS = (("numTotalModels", "model"), ("numTotalDatasets", "dataset"), ("numTotalSpaces", "Space"))


@dataclass(frozen=True, slots=True)
class Message:
    """One ``chat.postMessage`` payload; ``text`` is the fallback for notifications and screen readers."""

    text: str
    blocks: list[dict[str, Any]]
    paper_keys: tuple[str, ...] = ()  # the papers this message shows: the ledger records what arrived


class _Unit(NamedTuple):
    """Blocks that must stay in one message, and the numbered papers they show (for the fallback)."""

    blocks: list[dict[str, Any]]
    papers: list[tuple[int, Paper]]


# --- text helpers -------------------------------------------------------------------------------


def escape_mrkdwn(text: str) -> str:
    """The only escape: ``&`` first, so the entities made for ``<`` and ``>`` are not escaped again."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, n: int) -> str:
    """At most ``n`` characters, ending with ``…`` when cut; a word boundary is used if one is near."""
    if len(text) <= n:
        return text
    if n <= 1:
        return "…"[: max(n, 0)]
    cut = text[: n - 1]
    space = cut.rfind(" ")
    if space >= (n - 1) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _reason_label(reason: str) -> str:
    """ "Matched: " before the topics a paper names; nothing before "Related to: …", which says itself
    that the paper matched in meaning only."""
    return "" if reason.startswith(RELATED_PREFIX) else "Matched: "


def _escape_fit(text: str, n: int) -> str:
    """Escape, then cut so the *escaped* text fits ``n`` (``&`` grows fivefold when escaped)."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= n:
        return escaped
    if n <= 0:
        return ""
    size, keep = 1, 0  # 1 for the ellipsis
    for char in text:
        size += len(escape_mrkdwn(char))
        if size > n:
            break
        keep += 1
    return escape_mrkdwn(truncate(text, keep + 1))


def first_sentences(text: str, max_chars: int = 300, max_sentences: int = 2) -> str:
    """The opening of an abstract: whole sentences when they fit, else a word-boundary cut with ``…``."""
    text = " ".join(text.split())
    sentences = _SENTENCE_END_RE.split(text) if text else [""]
    out = sentences[0]
    for sentence in sentences[1:max_sentences]:
        if len(out) + 1 + len(sentence) > max_chars:
            break
        out = f"{out} {sentence}"
    return truncate(out, max_chars)


def format_authors(authors: Sequence[str], limit: int = 3) -> str:
    """The first ``limit`` names, then ``et al.``: papers with 500+ authors exist."""
    shown = ", ".join(truncate(name, 80) for name in authors[:limit])
    return f"{shown} et al." if len(authors) > limit else shown


def format_day(d: date, *, year: bool = True) -> str:
    """``Thu 21 Aug 2026`` (``year=False``: ``Thu 21 Aug``)."""
    text = f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"
    return f"{text} {d.year}" if year else text


def format_days(days: Sequence[date]) -> str:
    """One day, or the range a catch-up covers (``Fri 21 – Mon 24 Aug 2026``), sharing month and year."""
    ordered = sorted(set(days))
    if not ordered:
        return ""
    first, last = ordered[0], ordered[-1]
    if first == last:
        return format_day(first)
    if first.year != last.year:
        start = format_day(first)
    elif first.month != last.month:
        start = format_day(first, year=False)
    else:
        start = f"{_DAYS[first.weekday()]} {first.day}"
    return f"{start} – {format_day(last)}"


def short_count(n: int) -> str:
    """``1234`` → ``1.2k``: star counts are glanced at, not read."""
    if n < 1000:
        return str(n)
    value, suffix = (n / 1_000_000, "M") if n >= 999_950 else (n / 1000, "k")
    return f"{value:.1f}".removesuffix(".0") + suffix


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- links and blocks ---------------------------------------------------------------------------


def _safe_url(url: str) -> str:
    """Only plain https URLs may go inside ``<…>``; anything else could break out of the link."""
    ok = url.startswith("https://") and not _UNSAFE_URL_RE.search(url)
    return url if ok and len(escape_mrkdwn(url)) <= _MAX_URL_CHARS else ""


def _link(url: str, label: str, max_label: int = 600) -> str:
    """``<url|label>``; a label may not contain ``|``. Without a safe URL only the escaped label remains."""
    text = _escape_fit(label.replace("|", "¦"), max_label)
    safe = _safe_url(url)
    return f"<{escape_mrkdwn(safe)}|{text}>" if safe else text


def mrkdwn_link(url: str, label: str) -> str:
    """A link whose label is escaped here (pass raw text); an unsafe URL leaves only the label."""
    return _link(url, label)


def _paper_urls(paper: Paper) -> tuple[str, str, str]:
    """HF, arXiv and PDF URLs, only when built from a valid arXiv id."""
    valid = ARXIV_ID_RE.match(paper.key)
    return (paper.hf_url, paper.arxiv_url, paper.pdf_url) if valid else ("", "", "")


def mrkdwn_text(text: str) -> dict[str, Any]:
    """Every mrkdwn text object the bot sends: verbatim, so Slack does not turn bare names or URLs in
    paper text into links or mentions."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section_block(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn_text(text)}


def context_block(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn_text(text)]}


def _chars(value: Any) -> int:
    """All string content of a payload; counts more than Slack does, which leaves margin."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return sum(map(_chars, value))
    return len(value) if isinstance(value, str) else 0


def _summary(paper: Paper) -> str:
    return truncate(paper.ai_summary, 600) if paper.ai_summary else first_sentences(paper.abstract, 300)


def _links_line(paper: Paper) -> str:
    hf, arxiv, pdf = _paper_urls(paper)
    links = [(hf, "HF page"), (arxiv, "arXiv"), (pdf, "PDF")]
    if paper.github_repo:
        stars = f" ★ {short_count(paper.github_stars)}" if paper.github_stars is not None else ""
        links.append((paper.github_repo, f"GitHub{stars}"))
    links.append((paper.project_page, "Project page"))
    return " · ".join(_link(url, label) for url, label in links if _safe_url(url))


def _counts_line(paper: Paper) -> str:
    counts = [_plural(paper.extra[key], word) for key, word in _COUNTS if paper.extra.get(key)]
    return "🤗 " + " · ".join(counts) if counts else ""


def save_button(paper_id: str) -> dict[str, Any]:
    """The **Save** button of every paper card (the contract with link-preview cards: action id
    ``paper_save``, value the arXiv id without version)."""
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": "Save", "emoji": True},
        "action_id": SAVE_ACTION,
        "value": paper_id,
    }


_SAVED_BY_PREFIX = "🔖 Saved by "


def saved_by_text(count: int) -> str:
    """``🔖 Saved by 3``: how many people saved a paper, never who."""
    return f"{_SAVED_BY_PREFIX}{count}"


def _saved_by_element(count: int) -> dict[str, Any]:
    return mrkdwn_text(saved_by_text(count))


def with_saved_by(blocks: Sequence[dict[str, Any]], key: str, count: int) -> list[dict[str, Any]] | None:
    """A posted message's blocks with the card of ``key`` saying how many saved it (``count`` 0: no
    line); None when the message has no card of that paper with a Save button. Used to update a post
    in place after a save, so a digest posted in the morning shows the saves of the day."""
    out = [dict(block) for block in blocks]
    for index, block in enumerate(out):
        accessory = block.get("accessory") if block.get("type") == "section" else None
        button = (accessory.get("action_id"), accessory.get("value")) if isinstance(accessory, dict) else None
        if button != (SAVE_ACTION, key):
            continue
        after = out[index + 1] if index + 1 < len(out) else None
        if after is not None and after.get("type") == "context":
            elements = [
                e for e in after.get("elements") or [] if not str(e.get("text", "")).startswith(_SAVED_BY_PREFIX)
            ]
            if count:
                elements.append(_saved_by_element(count))
            if elements:
                out[index + 1] = {**after, "elements": elements[:10]}
            else:
                del out[index + 1]
        elif count:
            out.insert(index + 1, {"type": "context", "elements": [_saved_by_element(count)]})
        return out
    return None


def _paper_blocks(
    paper: Paper,
    *,
    number: int | None,
    reason: str,
    day: str,
    counts: bool = False,
    saved_by: int = 0,
    save: bool = True,
) -> list[dict[str, Any]]:
    """A section (title, meta line, summary; a Save button beside it) and a context line (links,
    counts, match reason, how many saved it)."""
    prefix = f"{number}. " if number is not None else ""
    head = f"*{prefix}{_link(_paper_urls(paper)[0], paper.title or paper.key)}*"
    meta = [f"▲ {_plural(paper.upvotes, 'upvote')}"]
    if day:
        meta.append(day)
    if paper.authors:
        meta.append(_escape_fit(format_authors(paper.authors), 400))
    if paper.organization:
        meta.append(_escape_fit(paper.organization, 150))
    meta_line = " · ".join(meta)
    room = MAX_SECTION_CHARS - len(head) - len(meta_line) - 2  # the summary is trimmed first
    summary = _escape_fit(_summary(paper), room - 1)
    section = section_block("\n".join(part for part in (head, meta_line, summary) if part))
    if save and ARXIV_ID_RE.match(paper.key):
        section["accessory"] = save_button(paper.key)
    blocks = [section]
    footer = [_links_line(paper), _counts_line(paper) if counts else ""]
    if reason:
        footer.append(f"_{_reason_label(reason)}{_escape_fit(reason, 500)}_")
    elements = [mrkdwn_text("\n".join(part for part in footer if part))] if any(footer) else []
    if saved_by:
        elements.append(_saved_by_element(saved_by))
    if elements:
        blocks.append({"type": "context", "elements": elements})
    return blocks


def _compact_units(papers: Sequence[Paper], reasons: Mapping[str, str], catch_up: bool) -> list[_Unit]:
    """One line per paper, as many lines per section as fit: the fewest blocks."""
    units: list[_Unit] = []
    lines: list[str] = []
    members: list[tuple[int, Paper]] = []
    for number, paper in enumerate(papers, 1):
        hf, arxiv, _ = _paper_urls(paper)
        line = f"{number}. {_link(hf, paper.title or paper.key, 300)} ▲{paper.upvotes}"
        if arxiv:
            line += f" · {_link(arxiv, 'arXiv')}"
        if catch_up and paper.day:
            line += f" · {format_day(paper.day, year=False)}"
        if reason := reasons.get(paper.key, ""):
            line += f" · _{_reason_label(reason)}{_escape_fit(reason, 200)}_"
        if lines and len("\n".join([*lines, line])) > MAX_SECTION_CHARS:
            units.append(_Unit([section_block("\n".join(lines))], members))
            lines, members = [], []
        lines.append(line)
        members.append((number, paper))
    if lines:
        units.append(_Unit([section_block("\n".join(lines))], members))
    return units


def _pack(units: list[_Unit], *, dividers: bool) -> list[list[_Unit]]:
    """Greedy packing of whole units under the block and character caps; a unit alone always fits."""
    pages: list[list[_Unit]] = []
    blocks = chars = 0
    for unit in units:
        cost = len(unit.blocks) + (1 if dividers else 0)
        size = _chars(unit.blocks)
        if not pages or blocks + cost > MAX_BLOCKS or chars + size > MAX_MESSAGE_CHARS:
            pages.append([])
            blocks, chars = 1, _HEADER_RESERVE
        pages[-1].append(unit)
        blocks += cost
        chars += size
    return pages


def _heading(title: str, days: Sequence[date]) -> tuple[str, str]:
    """(label, days text): several days make a catch-up post."""
    if len(set(days)) > 1:
        lowered = title if title[:2].isupper() else title[:1].lower() + title[1:]
        title = f"Catch-up: {lowered}"
    return title, format_days(days)


def _fallback(lead: str, papers: list[tuple[int, Paper]]) -> str:
    """``Trending papers for Thu 21 Aug 2026: 1. Title (▲38), …``: escaped, never over the cap."""
    text = _escape_fit(lead, 300) + ":"
    for index, (number, paper) in enumerate(papers):
        piece = ("," if index else "") + f" {number}. {_escape_fit(paper.title, 150)} (▲{paper.upvotes})"
        if len(text) + len(piece) > MAX_FALLBACK_CHARS - 3:
            return text + ", …"
        text += piece
    return text


# --- public builders ----------------------------------------------------------------------------


def render_digest(
    papers: Sequence[Paper],
    *,
    days: Sequence[date],
    reasons: Mapping[str, str] | None = None,
    compact: bool = False,
    title: str = "Trending papers",
    saved_by: Mapping[str, int] | None = None,
) -> list[Message]:
    """The daily post: papers in the given (ranked) order, split into as many messages as Slack needs.

    Each card has a **Save** button (compact lines have none: there, the *Save paper* shortcut saves
    every paper of the message); ``saved_by`` (paper key -> people) adds "Saved by N" to a card."""
    if not papers:
        return []
    reasons = reasons or {}
    catch_up = len(set(days)) > 1
    if compact:
        units = _compact_units(papers, reasons, catch_up)
    else:
        units = []
        for number, paper in enumerate(papers, 1):
            day = format_day(paper.day, year=False) if catch_up and paper.day else ""
            card = _paper_blocks(
                paper,
                number=number,
                reason=reasons.get(paper.key, ""),
                day=day,
                saved_by=(saved_by or {}).get(paper.key, 0),
            )
            units.append(_Unit(card, [(number, paper)]))
    pages = _pack(units, dividers=not compact)
    label, when = _heading(title, days)
    heading, lead = (f"{label} · {when}", f"{label} for {when}") if when else (label, label)
    messages = []
    for page_no, page in enumerate(pages, 1):
        part = f" ({page_no}/{len(pages)})" if len(pages) > 1 else ""
        if page_no == 1:
            text = truncate(f"📚 {heading}", MAX_HEADER_CHARS - len(part)) + part
            blocks = [{"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}]
        else:
            part = f" (continued, {page_no}/{len(pages)})"
            blocks = [context_block(f"📚 {_escape_fit(heading, 300)}{part}")]
        for index, unit in enumerate(page):
            blocks += [{"type": "divider"}] if index and not compact else []
            blocks += unit.blocks
        fallback = _fallback(lead + part * (page_no > 1), [m for unit in page for m in unit.papers])
        messages.append(Message(fallback, blocks, tuple(paper.key for unit in page for _, paper in unit.papers)))
    return messages


def render_paper_card(
    paper: Paper,
    *,
    reason: str = "",
    include_counts: bool = False,
    buttons: Sequence[dict[str, Any]] = (),
    saved_by: int = 0,
    save: bool = True,
) -> list[dict[str, Any]]:
    """One paper on its own (search results, a shared card); ``buttons`` become an actions block, and
    the card has a **Save** button unless ``save`` is False."""
    day = format_day(paper.day) if paper.day else ""
    blocks = _paper_blocks(
        paper, number=None, reason=reason, day=day, counts=include_counts, saved_by=saved_by, save=save
    )
    if buttons:
        blocks.append({"type": "actions", "elements": [dict(b) for b in list(buttons)[:MAX_ACTIONS]]})
    return blocks


def render_text_preview(
    papers: Sequence[Paper],
    *,
    days: Sequence[date],
    reasons: Mapping[str, str] | None = None,
    title: str = "Trending papers",
) -> str:
    """What ``python -m bot preview`` prints: plain text, control characters removed for the terminal."""
    reasons = reasons or {}
    label, when = _heading(title, days)
    lines = [f"{label} · {when}" if when else label, ""]
    if not papers:
        lines.append("(no papers)")
    catch_up = len(set(days)) > 1
    for number, paper in enumerate(papers, 1):
        meta = [f"▲ {paper.upvotes}"]
        if catch_up and paper.day:
            meta.append(format_day(paper.day, year=False))
        meta += [x for x in (format_authors(paper.authors), paper.organization) if x]
        urls = [u for u in (*_paper_urls(paper), paper.github_repo, paper.project_page) if u]
        reason = reasons.get(paper.key, "")
        lines += [f"{number:>2}. {paper.title}", "    " + " · ".join(meta)]
        lines += [
            "    " + x for x in (_summary(paper), reason and f"{_reason_label(reason)}{reason}", " ".join(urls)) if x
        ]
        lines.append("")
    return "\n".join(_CONTROL_RE.sub("", line) for line in lines).rstrip() + "\n"
