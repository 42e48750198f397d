"""Builders for Hugging Face daily-paper entries in the real wire shape.

Why builders instead of hand-written dicts: tests should feed the app exactly what HF sends (the
newest schema, as in ``shared/fixtures/hf/daily_papers_2026-08-21.json``), including its habit of
*omitting* optional fields rather than sending null (``hf_api.md`` §3). Every builder here omits a
field passed as None, so a test cannot accidentally rely on nulls HF never produces.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

__all__ = ["TOPICS", "make_day", "make_entry", "object_id"]

# Topics make_day cycles through, so filter tests have predictable material.
TOPICS = (
    ("diffusion models", "image generation with diffusion models"),
    ("LLM agents", "tool-using LLM agents"),
    ("reinforcement learning", "reinforcement learning from human feedback"),
    ("vision-language models", "multimodal vision-language models"),
    ("speech recognition", "robust speech recognition"),
    ("robotics", "robot manipulation policies"),
    ("code generation", "code generation with large language models"),
    ("graph neural networks", "graph neural networks for molecules"),
)

_SUBMITTER: dict[str, Any] = {
    "_id": "60f1abe7544c2adfd699860c",
    "avatarUrl": "https://cdn-avatars.huggingface.co/v1/production/uploads/1674929746905-60f1abe7544c2adfd699860c.jpeg",
    "fullname": "AK",
    "name": "akhaliq",
    "type": "user",
    "isPro": False,
    "isHf": True,
    "isHfAdmin": False,
    "isMod": False,
    "followerCount": 9000,
    "isUserFollowing": False,
}


def object_id(*parts: object) -> str:
    """A deterministic 24-hex MongoDB-style id (HF's ``_id``/``discussionId`` look like this)."""
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:24]


def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _organization(org: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(org, Mapping):
        return {"_id": object_id("org", org.get("name", "")), **org}
    return {
        "_id": object_id("org", org),
        "name": org,
        "fullname": org.replace("-", " ").title(),
        "avatar": f"https://cdn-avatars.huggingface.co/v1/production/uploads/{object_id('avatar', org)}/logo.png",
    }


def make_entry(
    arxiv_id: str,
    title: str,
    *,
    upvotes: int = 0,
    day: str | date = "2026-08-21",
    abstract: str = "We study a problem and propose a method that improves results on standard benchmarks.",
    authors: Iterable[str] = ("A. Author",),
    ai_summary: str | None = None,
    ai_keywords: Iterable[str] | None = None,
    github_repo: str | None = None,
    github_stars: int | None = None,
    organization: str | Mapping[str, Any] | None = None,
    project_page: str | None = None,
    published: str | date | None = None,
    num_comments: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """One element of ``GET /api/daily_papers?date=<day>``, key order as HF serves it.

    ``published`` (arXiv v1 date) defaults to the day before ``day``. ``organization`` is an HF handle
    (``"nvidia"``) or a full ``{name, fullname, avatar}`` dict. ``**extra`` goes into the ``paper``
    object (``projectPage``, ``mediaUrls``, ``numTotalModels`` for ``/api/papers/{id}``, …); a None
    value there is dropped too.
    """
    listed = _day(day)
    arxiv_day = _day(published) if published is not None else listed - timedelta(days=1)
    org = _organization(organization) if organization is not None else None
    paper: dict[str, Any] = {
        "id": arxiv_id,
        "authors": [
            {"_id": object_id(arxiv_id, "author", i), "name": n, "hidden": False} for i, n in enumerate(authors)
        ],
        "publishedAt": f"{arxiv_day.isoformat()}T00:00:00.000Z",
        "submittedOnDailyAt": f"{listed.isoformat()}T00:00:00.000Z",
        "title": title,
        "submittedOnDailyBy": {
            "_id": _SUBMITTER["_id"],
            "avatarUrl": _SUBMITTER["avatarUrl"],
            "isPro": False,
            "fullname": _SUBMITTER["fullname"],
            "user": _SUBMITTER["name"],
            "type": "user",
            "name": _SUBMITTER["name"],
        },
        "summary": abstract,
        "upvotes": upvotes,
        "discussionId": object_id(arxiv_id, "discussion"),
    }
    if project_page is not None:
        paper["projectPage"] = project_page
    if github_repo is not None:
        paper["githubRepo"] = github_repo
        paper["githubRepoAddedBy"] = "user"
    if ai_summary is not None:
        paper["ai_summary"] = ai_summary
    if ai_keywords is not None:
        paper["ai_keywords"] = list(ai_keywords)
    if ai_summary is not None:
        paper["ai_summary_model"] = "thinkingmachines/Inkling-Small"
    if github_stars is not None:
        paper["githubStars"] = github_stars
    if org is not None:
        paper["organization"] = org
    paper.update({k: v for k, v in extra.items() if v is not None})

    entry: dict[str, Any] = {
        "paper": paper,
        # HF's top-level publishedAt is the arXiv date shifted to US Eastern (hf_api.md §8.4).
        "publishedAt": f"{(arxiv_day - timedelta(days=1)).isoformat()}T20:00:00.000Z",
        "title": title,
        "summary": abstract,
    }
    if "mediaUrls" in paper:
        entry["mediaUrls"] = paper["mediaUrls"]
    entry["thumbnail"] = f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png"
    entry["numComments"] = num_comments
    entry["submittedBy"] = dict(_SUBMITTER)
    if org is not None:
        entry["organization"] = org
    entry["isAuthorParticipating"] = False
    return entry


def make_day(
    day: str | date,
    n: int,
    *,
    start_id: int = 10001,
    seed: int = 0,
    topics: Iterable[tuple[str, str]] = TOPICS,
) -> list[dict[str, Any]]:
    """``n`` entries for ``day`` with distinct ids (``YYMM.<start_id+i>``) and distinct upvotes.

    Returned in HF's order (upvotes descending). Deterministic per ``seed``. Paper ``i`` is about
    ``topics[i % len(topics)]`` (in title, abstract and keywords); about half have an AI summary,
    a third a GitHub repo, a quarter an organization, like real days.
    """
    listed = _day(day)
    rng = random.Random(seed)
    topic_list = list(topics)
    votes = rng.sample(range(0, max(10 * n, 10)), n)
    prefix = listed.strftime("%y%m")
    entries = []
    for i in range(n):
        short, long = topic_list[i % len(topic_list)]
        arxiv_id = f"{prefix}.{start_id + i:05d}"
        has_ai = rng.random() < 0.5
        has_repo = rng.random() < 0.33
        entries.append(
            make_entry(
                arxiv_id,
                f"Paper {i + 1}: Advances in {short}",
                upvotes=votes[i],
                day=listed,
                abstract=f"We study {long}. Our method improves the state of the art on {short} benchmarks.",
                authors=[f"Author {i}-{j}" for j in range(1 + i % 4)],
                ai_summary=f"A new approach to {short}." if has_ai else None,
                ai_keywords=[short, "benchmark"] if has_ai else None,
                github_repo=f"https://github.com/example/paper-{start_id + i}" if has_repo else None,
                github_stars=rng.randrange(0, 500) if has_repo and rng.random() < 0.8 else None,
                organization="example-lab" if i % 4 == 0 else None,
                num_comments=rng.randrange(0, 5),
            )
        )
    entries.sort(key=lambda e: -e["paper"]["upvotes"])
    return entries
