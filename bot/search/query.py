"""What a ``/papers search`` text asks for (free text, one arXiv paper, the channel's own posts) and how
text becomes search tokens. Pure.

Users paste whatever they have at hand: a bare id (``2406.12345v2``), an arXiv abstract or PDF link,
a Hugging Face paper page, or words. Slack may also wrap a pasted link as ``<https://…>`` or
``<https://…|label>``. Everything that names one paper becomes an :class:`SearchQuery` with
``arxiv_id`` set, so the handler fetches that paper's page instead of running a text search.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from bot.errors import UserInputError
from bot.feed.papers import Paper

__all__ = [
    "HIGH_WEIGHT",
    "MAX_QUERY_CHARS",
    "POSTED_FLAG",
    "SearchQuery",
    "find_arxiv_id",
    "parse_search",
    "query_tokens",
    "tokenize",
    "weighted_tokens",
]

MAX_QUERY_CHARS = 500
POSTED_FLAG = "--posted"
EXAMPLE = "/papers search speculative decoding"

_NEW_ID = r"\d{4}\.\d{4,5}"
# Old-style ids (before 2007): archive[.subject]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
_VERSION = r"(?:v\d+)?"
_BARE_ID_RE = re.compile(rf"^(?:arxiv:\s*)?({_NEW_ID}|{_OLD_ID}){_VERSION}$", re.IGNORECASE)
_LINK_RE = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?"
    rf"(?:arxiv\.org/(?:abs|pdf|html)/|(?:huggingface\.co|hf\.co)/papers/)"
    rf"({_NEW_ID}|{_OLD_ID}){_VERSION}(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_SLACK_LINK_RE = re.compile(r"^<([^<>|]+)(?:\|[^<>]*)?>$")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: ``text`` as typed (normalised spaces, flag removed), at most one paper id."""

    text: str
    posted: bool = False
    arxiv_id: str = ""  # without version; set when the whole text names one paper

    @property
    def empty(self) -> bool:
        return not self.text


# --- words: how text becomes search tokens (shared by the archive's index and its queries) -------

# Punctuation becomes spaces, then ``str.split``: five times faster than ``re.findall(r"\w+")`` on abstracts,
# which is most of the archive's start-up time.
_SEPARATORS = str.maketrans(dict.fromkeys(string.punctuation + "“”‘’‚„–—−…·•«»′″×→≤≥±", " "))
# Words that appear in nearly every abstract: matching them ranks nothing and costs the most time.
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or our that the their this to "  # noqa: SIM905
    "we with which via using based".split()
)
# Field weights: a word in the title says more about a paper than the same word in its abstract.
HIGH_WEIGHT = 6  # weights from here up (title, keywords, authors) rank a paper in the first tier
_WEIGHTS = {"title": 8, "keywords": 6, "authors": 6, "id": 4, "summary": 3, "abstract": 2}  # doubled


def _plural_fold(token: str) -> str:
    """A light plural fold (``models`` → ``model``) so singular and plural queries find the same papers."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


class _StemCache(dict[str, str]):
    """word → folded form, computed once per distinct word; ``map(cache.__getitem__, …)`` runs in C."""

    def __missing__(self, word: str) -> str:
        stem = _plural_fold(word)
        if len(self) < 500_000:
            self[word] = stem
        return stem


_STEMS = _StemCache()
_stem = _STEMS.__getitem__


def _split_words(text: str) -> list[str]:
    return text.casefold().translate(_SEPARATORS).split()


def _words(text: str) -> list[str]:
    return [t for t in _split_words(text) if t not in _STOPWORDS]


def tokenize(text: str) -> list[str]:
    """Lower-cased, plural-folded word tokens without stopwords, in order (duplicates kept)."""
    return [_stem(t) for t in _words(text)]


def weighted_tokens(paper: Paper) -> dict[str, int]:
    """Each distinct token of the paper with the weight (doubled, as a small int) of its best field."""
    fields = (
        (paper.abstract, _WEIGHTS["abstract"]),
        (paper.ai_summary, _WEIGHTS["summary"]),
        (paper.key, _WEIGHTS["id"]),  # "2406.12345" is searchable as 2406 and 12345
        (" ".join(paper.authors[:50]), _WEIGHTS["authors"]),
        (" ".join(paper.ai_keywords), _WEIGHTS["keywords"]),
        (paper.title, _WEIGHTS["title"]),
    )
    weights: dict[str, int] = {}
    for text, weight in fields:  # ascending weight: a later field overrides an earlier one
        if text:
            words = set(_split_words(text))
            words -= _STOPWORDS
            weights.update(dict.fromkeys(map(_stem, words), weight))
    return weights


def query_tokens(query: str) -> list[str]:
    """The distinct tokens of a query, in order: what an index is asked for."""
    return list(dict.fromkeys(tokenize(query)))


def find_arxiv_id(text: str) -> str:
    """The arXiv id (no version) that ``text`` names on its own, or ``""``.

    Only a text that is *nothing but* an id or a paper link counts: ``2406.12345 results`` is a text
    search, since the user may be looking for papers that cite it.
    """
    text = text.strip()
    wrapped = _SLACK_LINK_RE.match(text)
    if wrapped:
        text = wrapped.group(1).strip()
    for pattern in (_BARE_ID_RE, _LINK_RE):
        match = pattern.match(text)
        if match:
            found = match.group(1)
            if "/" not in found:
                return found
            # Old-style: archive names are lower case, a subject class upper case (math.GT/0309136).
            prefix, number = found.split("/")
            archive, _, subject = prefix.partition(".")
            return f"{archive.lower()}{'.' + subject.upper() if subject else ''}/{number}"
    return ""


def parse_search(args: str) -> SearchQuery:
    """Split ``--posted`` off and detect a paper id; refuse text too long to be a search.

    An empty result (``/papers search``) is returned, not refused: the caller shows the help text.
    """
    words = args.split()
    posted = any(word.lower() == POSTED_FLAG for word in words)
    text = " ".join(word for word in words if word.lower() != POSTED_FLAG)
    if len(text) > MAX_QUERY_CHARS:
        raise UserInputError(
            f"That search is {len(text):,} characters long; a search can be at most {MAX_QUERY_CHARS}. "
            "Try a few distinctive words, an arXiv id or a paper link.",
            EXAMPLE,
        )
    return SearchQuery(text=text, posted=posted, arxiv_id=find_arxiv_id(text))
