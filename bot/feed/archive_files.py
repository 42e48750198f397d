"""The archive's day files: one JSON Lines file per Hugging Face day, ``<dir>/YYYY-MM-DD.jsonl``.

Why its own module: the format is a promise to files already on users' disks, so it is kept apart
from the index that reads it. A header line, then one paper per line starting ``{"id": "…",``, so that
one paper can be read back without parsing its whole day; every reader is tolerant, so a torn or
hand-edited line loses that paper, never the day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from bot.feed.papers import Paper

__all__ = ["date_or_none", "day_file", "decode_day", "encode_day", "read_paper_line"]


def day_file(directory: Path, day: date) -> Path:
    return directory / f"{day.isoformat()}.jsonl"


def _paper_doc(paper: Paper) -> dict[str, Any]:
    return {
        "id": paper.key,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "upvotes": paper.upvotes,
        "day": paper.day.isoformat() if paper.day else None,
        "published": paper.published.isoformat() if paper.published else None,
        "ai_summary": paper.ai_summary,
        "ai_keywords": list(paper.ai_keywords),
        "github_repo": paper.github_repo,
        "github_stars": paper.github_stars,
        "project_page": paper.project_page,
        "organization": paper.organization,
        "organization_id": paper.organization_id,
        "num_comments": paper.num_comments,
    }


def date_or_none(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def paper_from_doc(doc: Any, day: date) -> Paper | None:
    """Tolerant: a hand-edited or older file loses a paper, never the whole day."""
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not isinstance(doc.get("title"), str):
        return None
    stars = doc.get("github_stars")
    return Paper(
        id=doc["id"],
        title=doc["title"],
        abstract=str(doc.get("abstract") or ""),
        authors=tuple(str(a) for a in doc.get("authors") or ()),
        upvotes=int(doc.get("upvotes") or 0),
        day=date_or_none(doc.get("day")) or day,
        published=date_or_none(doc.get("published")),
        ai_summary=str(doc.get("ai_summary") or ""),
        ai_keywords=tuple(str(k) for k in doc.get("ai_keywords") or ()),
        github_repo=str(doc.get("github_repo") or ""),
        github_stars=int(stars) if isinstance(stars, int) else None,
        project_page=str(doc.get("project_page") or ""),
        organization=str(doc.get("organization") or ""),
        organization_id=str(doc.get("organization_id") or ""),
        num_comments=int(doc.get("num_comments") or 0),
    )


def encode_day(day: date, papers: Iterable[Paper]) -> bytes:
    """JSON Lines: a header, then one paper per line starting ``{"id": "…",`` so that one paper can be
    read back without parsing its whole day (``read_paper_line``)."""
    lines = [json.dumps({"day": day.isoformat()})] + [json.dumps(_paper_doc(p)) for p in papers]
    return ("\n".join(lines) + "\n").encode()


def decode_day(raw: bytes, day: date) -> list[Paper]:
    """Tolerant: a torn or hand-edited line loses that paper, never the whole day."""
    papers = []
    for line in raw.splitlines()[1:]:
        try:
            paper = paper_from_doc(json.loads(line), day)
        except ValueError:
            paper = None
        if paper is not None:
            papers.append(paper)
    return papers


def read_paper_line(raw: bytes, key: str, day: date) -> Paper | None:
    """The paper ``key`` from a day file's bytes, parsing only its line."""
    start = raw.find(b'\n{"id": ' + json.dumps(key).encode() + b",")
    if start < 0:
        return None
    end = raw.find(b"\n", start + 1)
    try:
        return paper_from_doc(json.loads(raw[start + 1 : end if end >= 0 else len(raw)]), day)
    except ValueError:
        return None
