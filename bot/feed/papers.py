"""The paper model and the tolerant parsing of Hugging Face responses.

Hugging Face omits optional fields instead of sending null, and its schema drifted between 2024 and
2026 (see ``shared/research/hf_api.md`` §3 and §8). Parsing therefore never trusts a field's
presence or type: an entry without the few fields a post cannot do without (id, title) is skipped
and logged, everything else degrades to "absent".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "ARXIV_ID_RE",
    "Paper",
    "arxiv_key",
    "parse_daily_list",
    "parse_paper",
    "rank_by_upvotes",
]

logger = logging.getLogger(__name__)

# New-style arXiv ids (2007 on): YYMM.NNNN or YYMM.NNNNN, optionally with a version.
ARXIV_ID_RE = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_WHITESPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper as the bot uses it: already cleaned, never partially null."""

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    upvotes: int = 0
    day: date | None = None  # the Daily Papers day it was listed on
    published: date | None = None  # arXiv v1 date
    ai_summary: str = ""
    ai_keywords: tuple[str, ...] = ()
    github_repo: str = ""
    github_stars: int | None = None
    project_page: str = ""
    organization: str = ""  # display name
    organization_id: str = ""  # HF handle, e.g. "nvidia"
    num_comments: int = 0
    extra: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        """The de-duplication key: the arXiv id without version."""
        return arxiv_key(self.id)

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/papers/{self.key}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.key}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.key}"

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form, used by ``preview --json`` and the archive."""
        return {
            "id": self.key,
            "title": self.title,
            "upvotes": self.upvotes,
            "day": self.day.isoformat() if self.day else None,
            "published": self.published.isoformat() if self.published else None,
            "authors": list(self.authors),
            "organization": self.organization or None,
            "ai_summary": self.ai_summary or None,
            "ai_keywords": list(self.ai_keywords),
            "abstract": self.abstract,
            "github_repo": self.github_repo or None,
            "github_stars": self.github_stars,
            "project_page": self.project_page or None,
            "hf_url": self.hf_url,
            "arxiv_url": self.arxiv_url,
            "pdf_url": self.pdf_url,
        }


def arxiv_key(paper_id: str) -> str:
    """Strip a version suffix (``2406.12345v2`` → ``2406.12345``); other ids pass unchanged."""
    match = ARXIV_ID_RE.match(paper_id.strip())
    return match.group(1) if match else paper_id.strip()


def _clean_text(value: Any) -> str:
    """arXiv titles and abstracts keep their hard line breaks; Slack should not."""
    if not isinstance(value, str):
        return ""
    return _WHITESPACE_RE.sub(" ", value).strip()


def _as_int(value: Any) -> int | None:
    """Counts are JSON numbers (OpenAPI says ``number``), so 12.0 is 12; bools are not counts."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_date(value: Any) -> date | None:
    """Read only the date part: date-only timestamps must not shift a day in the Americas."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _url(value: Any) -> str:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value.strip()
    return ""


def _author_names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names = []
    for author in value:
        if isinstance(author, dict) and not author.get("hidden", False):
            name = _clean_text(author.get("name"))
            if name:
                names.append(name)
    return tuple(names)


def _organization(*candidates: Any) -> tuple[str, str]:
    for org in candidates:
        if isinstance(org, dict):
            name, fullname = org.get("name"), org.get("fullname")
            handle = name if isinstance(name, str) else ""
            display = fullname if isinstance(fullname, str) else ""
            if handle or display:
                return _clean_text(display or handle), handle.strip()
    return "", ""


def parse_paper(entry: Any, *, day: date | None = None) -> Paper | None:
    """Parse one element of a daily or search list, or a flat ``/api/papers/{id}`` object.

    Returns ``None`` (and logs why) for an entry a post cannot show.
    """
    if not isinstance(entry, dict):
        logger.warning("skipping Hugging Face entry: not an object (%s)", type(entry).__name__)
        return None
    nested = entry.get("paper")
    raw: dict[str, Any] = nested if isinstance(nested, dict) else entry
    paper_id = raw.get("id")
    if not isinstance(paper_id, str) or not ARXIV_ID_RE.match(paper_id.strip()):
        logger.warning("skipping Hugging Face entry: missing or invalid paper id %r", paper_id)
        return None
    title = _clean_text(raw.get("title")) or _clean_text(entry.get("title"))
    if not title:
        logger.warning("skipping Hugging Face entry %s: no title", paper_id)
        return None
    abstract = _clean_text(raw.get("summary")) or _clean_text(entry.get("summary"))
    keywords = raw.get("ai_keywords")
    organization, organization_id = _organization(raw.get("organization"), entry.get("organization"))
    extra: dict[str, int] = {}
    for name in ("numTotalModels", "numTotalDatasets", "numTotalSpaces"):
        count = _as_int(raw.get(name))
        if count is not None:
            extra[name] = count
    return Paper(
        id=arxiv_key(paper_id),
        title=title,
        abstract=abstract,
        authors=_author_names(raw.get("authors")),
        upvotes=max(_as_int(raw.get("upvotes")) or 0, 0),
        day=_as_date(raw.get("submittedOnDailyAt")) or day,
        published=_as_date(raw.get("publishedAt")),
        ai_summary=_clean_text(raw.get("ai_summary")),
        ai_keywords=tuple(k for k in (_clean_text(k) for k in keywords if isinstance(k, str)) if k)
        if isinstance(keywords, list)
        else (),
        github_repo=_url(raw.get("githubRepo")),
        github_stars=_as_int(raw.get("githubStars")),
        project_page=_url(raw.get("projectPage")),
        organization=organization,
        organization_id=organization_id,
        num_comments=max(_as_int(entry.get("numComments")) or 0, 0),
        extra=extra,
    )


def parse_daily_list(data: Any, *, day: date | None = None) -> list[Paper]:
    """Parse a whole ``/api/daily_papers`` (or search) response; bad entries are dropped.

    Duplicate ids within one response keep their first occurrence.
    """
    if not isinstance(data, list):
        logger.warning("Hugging Face response is not a list (%s); treating as empty", type(data).__name__)
        return []
    papers: list[Paper] = []
    seen: set[str] = set()
    for entry in data:
        paper = parse_paper(entry, day=day)
        if paper is not None and paper.key not in seen:
            seen.add(paper.key)
            papers.append(paper)
    return papers


def rank_by_upvotes(papers: Iterable[Paper]) -> list[Paper]:
    """Most upvoted first; ties keep Hugging Face's order (stable sort)."""
    return sorted(papers, key=lambda p: -p.upvotes)
