"""A fake arXiv API (``GET /api/query?id_list=…``) over real HTTP on 127.0.0.1, in the wire shape of the
recorded responses in ``shared/fixtures/arxiv`` (Atom 1.0 with the ``opensearch`` and ``arxiv``
namespaces): a known id is one ``<entry>``; an unknown well-formed id is a feed with
``totalResults`` 0 and no entry; a malformed id is HTTP 400 with one ``<entry>`` titled "Error".

``papers[id]`` holds what an entry shows; ``use_recorded(path)`` serves a recorded body as is for its id.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from .slack import HTTPFake, Incoming, Reply

__all__ = ["ArxivPaper", "FakeArxiv"]

_ID_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" '
    'xmlns="http://www.w3.org/2005/Atom">\n'
)


@dataclass
class ArxivPaper:
    title: str
    summary: str = "We study a problem. We propose a method."
    authors: tuple[str, ...] = ("A. Author",)
    published: str = "2026-08-20T17:59:46Z"
    categories: tuple[str, ...] = field(default=("cs.LG",))


class FakeArxiv(HTTPFake):
    def __init__(self) -> None:
        super().__init__()
        self.papers: dict[str, ArxivPaper] = {}
        self.recorded: dict[str, bytes] = {}
        self.requests: list[tuple[str, float]] = []  # (id_list, time.monotonic())
        self._fail: list[int] = []  # statuses for the next requests
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """``ARXIV_API_URL`` for the app."""
        return f"{self.base_url}/api/query"

    def use_recorded(self, arxiv_id: str, path: Path) -> None:
        self.recorded[arxiv_id] = path.read_bytes()

    def fail(self, status: int = 503, times: int = 1) -> None:
        with self._lock:
            self._fail.extend([status] * times)

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def serve(self, request: Incoming) -> Reply:
        if request.verb != "GET" or request.path != "/api/query":
            return Reply(status=404, body=b"not found", content_type="text/plain")
        wanted = request.query.get("id_list", "").strip()
        with self._lock:
            self.requests.append((wanted, time.monotonic()))
            status = self._fail.pop(0) if self._fail else None
        if status is not None:
            return Reply(status=status, body=b"<html>Service unavailable</html>", content_type="text/html")
        atom = "application/atom+xml; charset=utf-8"
        if wanted in self.recorded:
            return Reply(body=self.recorded[wanted], content_type=atom)
        if not _ID_RE.match(wanted):
            return Reply(status=400, body=_error_feed(wanted).encode(), content_type=atom)
        key = re.sub(r"v\d+$", "", wanted)
        paper = self.papers.get(key)
        return Reply(body=_feed(wanted, key, paper).encode(), content_type=atom)


def _feed(wanted: str, key: str, paper: ArxivPaper | None) -> str:
    query = escape(f"search_query=&id_list={wanted}&start=0&max_results=1")
    parts = [
        _HEAD,
        "  <id>https://arxiv.org/api/fake</id>\n",
        f"  <title>arXiv Query: {query}</title>\n",
        "  <updated>2026-08-21T00:00:00Z</updated>\n",
        "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n",
        f"  <opensearch:totalResults>{1 if paper else 0}</opensearch:totalResults>\n",
        "  <opensearch:startIndex>0</opensearch:startIndex>\n",
    ]
    if paper is not None:
        authors = "".join(f"    <author>\n      <name>{escape(a)}</name>\n    </author>\n" for a in paper.authors)
        categories = "".join(
            f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>\n' for c in paper.categories
        )
        parts.append(
            "  <entry>\n"
            f"    <id>http://arxiv.org/abs/{key}v1</id>\n"
            f"    <title>{escape(paper.title)}</title>\n"
            f"    <updated>{paper.published}</updated>\n"
            f'    <link href="https://arxiv.org/abs/{key}v1" rel="alternate" type="text/html"/>\n'
            f'    <link href="https://arxiv.org/pdf/{key}v1" rel="related" type="application/pdf" title="pdf"/>\n'
            f"    <summary>{escape(paper.summary)}</summary>\n"
            f"{categories}"
            f"    <published>{paper.published}</published>\n"
            f"{authors}"
            "  </entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts)


def _error_feed(wanted: str) -> str:
    slug = escape(re.sub(r"\W", "_", wanted))
    return (
        f"{_HEAD}  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n"
        "  <updated>2026-08-21T00:00:00Z</updated>\n  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        "  <opensearch:totalResults>1</opensearch:totalResults>\n  <opensearch:startIndex>0</opensearch:startIndex>\n"
        f"  <entry>\n    <id>https://arxiv.org/api/errors#incorrect_id_format_for_{slug}</id>\n"
        "    <title>Error</title>\n"
        f"    <summary>incorrect id format for {escape(wanted)}</summary>\n"
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n  </entry>\n</feed>\n"
    )
