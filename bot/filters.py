"""Per-channel topic filters: the query language, tolerant matching with reasons, and a batch index.

Query language (``parse_filter``; ``format_filter`` writes the canonical form back):

* **Commas separate topics; the bare words between two commas are one phrase.**
  ``model merging, rlhf`` follows two topics; ``llm rlhf`` follows the single phrase "llm rlhf".
  Phrases are what users mean most often (``model merging``, ``process reward``), and one rule that
  never depends on the number of words is the rule people least trip on. ``/papers follow a, b``
  (``parse_topic_list``) splits the same way.
* ``"quoted phrase"`` is always one topic of its own, even without commas; quotes also protect commas,
  colons and leading dashes. Slack's curly quotes count as quotes.
* ``-term`` / ``-"a phrase"`` / ``exclude:term`` / ``exclude: term`` exclude a paper whatever else it
  matches (title, abstract, keywords).
* ``author:Name`` / ``author:"Yann LeCun"``, ``org:nvidia``, ``min-upvotes:10``, ``has:code``.
  Like Slack's own search (``from:``, ``in:``), every qualifier or exclusion takes **one word or one
  quoted phrase**; what follows it starts a new item. Qualifiers narrow (several ``author:`` = any of
  them, several ``org:`` = any of them); topics widen (any topic matches).
* An unknown ``foo:bar`` is an error naming ``foo:``, so a typo never silently filters everything out.

Matching. Text is NFKC-normalised, casefolded, Latin accents folded (``José`` = ``Jose``) and split into
whole-word tokens (Han and kana characters are one token each, so CJK phrases match as substrings). A
small suffix stemmer unifies word forms (merge/merging/merged, model/models) without touching other
words (``speechless`` is not ``speech``, ``emerging`` is not ``merging``). Each phrase is also keyed
by the concatenation of its words, so ``pre-training``, ``pre training`` and ``pretraining`` meet.
``ABBREVIATIONS`` expands both ways, also inside phrases (``LLM agents`` = ``large language model
agents``).

Speed. ``FilterIndex`` compiles every distinct term of every channel into one dictionary of keys; a
paper's token stream is walked once, extending a phrase only while it is a prefix of some key, so
the cost per paper is linear in its length and independent of the number of channels, except for
the channels it actually matches. ``match_paper`` is a one-filter index, so the two cannot disagree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.errors import UserInputError
from bot.papers import Paper

__all__ = [
    "ABBREVIATIONS",
    "MAX_EXCLUDED",
    "MAX_NAMES",
    "MAX_TERM_LENGTH",
    "MAX_TERM_WORDS",
    "MAX_TOPICS",
    "ChannelFilter",
    "FilterIndex",
    "Hit",
    "MatchResult",
    "choose_matches",
    "format_filter",
    "match_paper",
    "parse_filter",
    "parse_topic_list",
    "select_papers",
]

MAX_TOPICS = 50
MAX_EXCLUDED = 50
MAX_NAMES = 20  # author: and org: qualifiers, each
MAX_TERM_LENGTH = 100
MAX_TERM_WORDS = 12  # a Han or kana character counts as a word
_MAX_UPVOTES = 1_000_000
EXAMPLE = 'model merging, "process reward", -medical, org:nvidia, min-upvotes:10'
TOPICS_EXAMPLE = 'model merging, "process reward", LLM'

# Abbreviation -> spelled-out forms. Matching goes both ways and also inside longer phrases; plurals
# and hyphenation are handled by normalisation, so list each form once, in the singular.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "LLM": ("large language model",),
    "SLM": ("small language model",),
    "MLLM": ("multimodal large language model", "multimodal LLM"),
    "LMM": ("large multimodal model",),
    "VLM": ("vision language model", "visual language model"),
    "LVLM": ("large vision language model",),
    "VLA": ("vision language action model",),
    "RL": ("reinforcement learning",),
    "RLHF": ("reinforcement learning from human feedback",),
    "RLVR": ("reinforcement learning with verifiable rewards",),
    "DPO": ("direct preference optimization",),
    "PPO": ("proximal policy optimization",),
    "GRPO": ("group relative policy optimization",),
    "SFT": ("supervised fine tuning",),
    "PEFT": ("parameter efficient fine tuning",),
    "LoRA": ("low rank adaptation",),
    "MoE": ("mixture of experts",),
    "RAG": ("retrieval augmented generation",),
    "CoT": ("chain of thought",),
    "ICL": ("in context learning",),
    "PRM": ("process reward model",),
    "ASR": ("automatic speech recognition", "speech recognition"),
    "TTS": ("text to speech",),
    "OCR": ("optical character recognition",),
    "VQA": ("visual question answering",),
    "GNN": ("graph neural network",),
    "CNN": ("convolutional neural network",),
    "RNN": ("recurrent neural network",),
    "LSTM": ("long short term memory",),
    "GAN": ("generative adversarial network",),
    "VAE": ("variational autoencoder",),
    "ViT": ("vision transformer",),
    "DiT": ("diffusion transformer",),
    "NeRF": ("neural radiance field",),
    "3DGS": ("3d gaussian splatting", "gaussian splatting"),
    "SSM": ("state space model",),
    "MCTS": ("monte carlo tree search",),
    "NLP": ("natural language processing",),
    "T2I": ("text to image",),
    "T2V": ("text to video",),
}

# ---------------------------------------------------------------------------------------------------
# Normalisation

_TOKEN_RE = re.compile(r"[^\W_]+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ACCENT_RE = re.compile(r"(?<=[\x00-\u024f])[\u0300-\u036f]+")
# Phrases never span sentence or clause punctuation ("... a model. Merging ..." is not "model merging").
_BREAK_RE = re.compile(r"[.!?;:,]+(?=\s|$)|[()\[\]{}\"|•–—]")
_VOWELS = frozenset("aeiouy")
_KEEP = frozenset({"alias", "atlas", "bias", "canvas", "embed", "lens", "news", "series", "species"})
# Joining words into one compound is not allowed across these ("a symmetric" is not "asymmetric").
_STOP = frozenset(
    ("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "its", "no",
     "not", "of", "on", "or", "our", "than", "that", "the", "this", "to", "via", "vs", "we", "with")
)  # fmt: skip


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():  # the common case skips the slower passes
        text = unicodedata.normalize("NFC", _ACCENT_RE.sub("", unicodedata.normalize("NFD", text)))
        text = _CJK_RE.sub(r" \g<0> ", text)
    return text


def _words(text: str) -> list[str]:
    return _TOKEN_RE.findall(_normalize(text))


def _segments(text: str) -> list[list[str]]:
    return [words for part in _BREAK_RE.split(_normalize(text)) if (words := _TOKEN_RE.findall(part))]


@lru_cache(maxsize=1 << 16)
def _light(word: str) -> str:
    """Strip plural and -ing/-ed endings; the form used for the inner words of a compound."""
    if len(word) <= 3 or not word.isalpha() or word in _KEEP:
        return word
    w = word
    if w.endswith("ies") and len(w) > 4:
        w = w[:-2]  # studies -> studi (= study)
    elif w.endswith(("sses", "xes", "ches", "shes", "zzes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ied") and len(w) > 4:
        w = w[:-2]
    elif w.endswith(("ing", "ed")) and not w.endswith("eed"):
        base = w[:-3] if w.endswith("ing") else w[:-2]
        if base[-1:] == base[-2:-1] and base[-1:] not in _VOWELS and base[-1:] != "s":
            base = base[:-1] if len(base) > 4 else ""  # embedd -> embed, plann -> plan; not ragged -> rag
        if len(base) >= 3 and not _VOWELS.isdisjoint(base):  # not "string", "thing", "used"
            w = base
    if len(w) > 3 and w.endswith("y") and w[-2] not in _VOWELS:
        w = w[:-1] + "i"
    if len(w) > 4 and w[-1] == w[-2] and w[-1] not in _VOWELS and w[-1] != "s":
        w = w[:-1]  # install = installing, modell(ing) = model
    return w


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """``_light`` plus a final-e strip, so merge, merging and merged all become ``merg``."""
    w = _light(word)
    return w[:-1] if len(w) > 3 and w.endswith("e") and w.isalpha() else w


_Phrase = tuple[str, ...]  # normalised words


def _key(words: _Phrase) -> str:
    return " ".join(_stem(w) for w in words)


def _compound_key(words: _Phrase) -> str | None:
    if any(w in _STOP for w in words):
        return None
    return "".join(_light(w) for w in words[:-1]) + _stem(words[-1])


def _build_groups() -> dict[str, tuple[_Phrase, ...]]:
    groups: dict[str, tuple[_Phrase, ...]] = {}
    for abbr, spelled in ABBREVIATIONS.items():
        merged: dict[str, _Phrase] = {}
        for text in (abbr, *spelled):
            phrase = tuple(_words(text))
            for member in groups.get(_key(phrase), (phrase,)):
                merged[_key(member)] = member
        for key in merged:
            groups[key] = tuple(merged.values())
    return groups


_GROUPS = _build_groups()  # stem key of each form -> every form of its abbreviation
_GROUP_STARTS: dict[str, list[_Phrase]] = {}  # first stem -> stem keys starting with it, split
for _stems in (tuple(key.split()) for key in _GROUPS):
    _GROUP_STARTS.setdefault(_stems[0], []).append(_stems)


def _variants(words: _Phrase, limit: int = 32) -> list[_Phrase]:
    """The phrase with every abbreviation span swapped for its other forms (both ways)."""
    stems = tuple(_stem(w) for w in words)
    memo: dict[int, list[_Phrase]] = {len(words): [()]}

    def tail(i: int) -> list[_Phrase]:
        if i not in memo:
            out = [(words[i], *rest) for rest in tail(i + 1)]
            for member in _GROUP_STARTS.get(stems[i], ()):
                end = i + len(member)
                if stems[i:end] == member:
                    for alt in _GROUPS[" ".join(member)]:
                        if _key(alt) != " ".join(member):
                            out.extend((*alt, *rest) for rest in tail(end))
            memo[i] = out[:limit]
        return memo[i]

    return list({_key(v): v for v in tail(0)}.values())


# ---------------------------------------------------------------------------------------------------
# The filter model


@dataclass(frozen=True, slots=True)
class ChannelFilter:
    """What one channel wants; values as typed, de-duplicated on their normalised form."""

    topics: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    min_upvotes: int = 0
    has_code: bool = False

    def is_empty(self) -> bool:
        return self == ChannelFilter()

    def with_topics(self, topics: Iterable[str]) -> ChannelFilter:
        return replace(self, topics=_merge(self.topics, topics, "topic", MAX_TOPICS))

    def without_topic(self, topic: str) -> ChannelFilter:
        return replace(self, topics=_remove(self.topics, topic, "topic"))

    def with_excluded(self, terms: Iterable[str]) -> ChannelFilter:
        return replace(self, excluded=_merge(self.excluded, terms, "exclusion", MAX_EXCLUDED))

    def without_excluded(self, term: str) -> ChannelFilter:
        return replace(self, excluded=_remove(self.excluded, term, "exclusion"))


def _clean(text: str, what: str) -> str:
    term = " ".join(text.translate(_QUOTES).split())
    if len(term) >= 2 and term[0] == term[-1] == '"':
        term = term[1:-1].strip()
    if not term:
        raise UserInputError(f"Empty {what}.", EXAMPLE)
    if '"' in term:
        raise UserInputError(f"A {what} cannot contain a double quote: {term}", EXAMPLE)
    if len(term) > MAX_TERM_LENGTH:
        raise UserInputError(
            f'The {what} "{term[:40]}…" has {len(term)} characters; the limit is {MAX_TERM_LENGTH}.', EXAMPLE
        )
    words = _words(term)
    if not words:
        raise UserInputError(f'The {what} "{term}" has no letters or digits.', EXAMPLE)
    if len(words) > MAX_TERM_WORDS:
        raise UserInputError(f'The {what} "{term}" has {len(words)} words; the limit is {MAX_TERM_WORDS}.', EXAMPLE)
    return term


def _merge(old: tuple[str, ...], new: Iterable[str], what: str, cap: int, *, names: bool = False) -> tuple[str, ...]:
    keyed = (lambda t: " ".join(_words(t))) if names else (lambda t: _key(tuple(_words(t))))
    out, seen = list(old), {keyed(t) for t in old}
    for raw in [new] if isinstance(new, str) else new:
        term = _clean(raw, what)
        if keyed(term) not in seen:
            seen.add(keyed(term))
            out.append(term)
    if len(out) > cap:
        raise UserInputError(
            f"A channel can have at most {cap} {what}s; this would make {len(out)}. Remove some first.",
            TOPICS_EXAMPLE,
        )
    return tuple(out)


def _remove(old: tuple[str, ...], term: str, what: str) -> tuple[str, ...]:
    key = _key(tuple(_words(term)))
    kept = tuple(t for t in old if _key(tuple(_words(t))) != key)
    if not key or len(kept) == len(old):
        listed = ", ".join(old) if old else "nothing yet"
        article = "an" if what[0] in "aeiou" else "a"
        message = f'"{term.strip()}" is not {article} {what} here. Current {what}s: {listed}.'
        raise UserInputError(message, old[0] if old else "")
    return kept


# ---------------------------------------------------------------------------------------------------
# Query language

_QUOTES = str.maketrans(dict.fromkeys("“”„‟«»＂", '"'))
_LEX_RE = re.compile(r'\s*(?:(,)|"([^"]*)("?)|([^\s,"]+))')
_QUALIFIER_RE = re.compile(r"^([^\W\d_][\w-]*):(.*)$")
_KEYS = {
    "author": "author", "authors": "author", "org": "org", "organization": "org", "organisation": "org",
    "min-upvotes": "min-upvotes", "min_upvotes": "min-upvotes", "minupvotes": "min-upvotes",
    "upvotes": "min-upvotes", "has": "has", "exclude": "exclude",
}  # fmt: skip


def _lex(text: str) -> list[tuple[str, str]]:
    """(",", ","), ('"', phrase) or ("w", word) tokens; an unclosed quote is an error."""
    text, pos, out = text.translate(_QUOTES), 0, []
    while (m := _LEX_RE.match(text, pos)) is not None:
        pos = m.end()
        if m[1]:
            out.append((",", ","))
        elif m[2] is not None:
            if not m[3]:
                raise UserInputError(f"Unclosed quote in: {text.strip()}", EXAMPLE)
            if m[2].strip():
                out.append(('"', m[2]))
        else:
            out.append(("w", m[4]))
    return out


def _value(tokens: list[tuple[str, str]], i: int, key: str) -> tuple[str, int]:
    if i < len(tokens) and tokens[i][0] != ",":
        return tokens[i][1], i + 1
    raise UserInputError(f"`{key}` needs a value right after it.", EXAMPLE)


def parse_filter(text: str) -> ChannelFilter:
    """Parse the query language described in the module docstring; raise ``UserInputError``."""
    tokens = _lex(text)
    topics: list[str] = []
    excluded: list[str] = []
    authors: list[str] = []
    orgs: list[str] = []
    min_upvotes, has_code, phrase, i = 0, False, [], 0
    while i < len(tokens):
        kind, word = tokens[i]
        i += 1
        if kind == "w" and not word.startswith("-") and not _QUALIFIER_RE.match(word):
            phrase.append(word)
            continue
        if phrase:
            topics.append(" ".join(phrase))
            phrase = []
        if kind == '"':
            topics.append(word)
        elif kind == "w" and word.startswith("-"):
            term, i = (word[1:], i) if len(word) > 1 else _value(tokens, i, "-")
            qualifier = _QUALIFIER_RE.match(term) if len(word) > 1 else None
            if qualifier and qualifier[1].casefold() in _KEYS:
                raise UserInputError(f"`{word}`: qualifiers cannot be negated; only terms can.", EXAMPLE)
            excluded.append(term)
        elif kind == "w":
            qualifier = _QUALIFIER_RE.match(word)
            assert qualifier is not None
            key = _KEYS.get(qualifier[1].casefold())
            if key is None:
                raise UserInputError(
                    f"Unknown filter `{qualifier[1]}:` in `{word}`. Known: author:, org:, min-upvotes:, "
                    'has:code, exclude: (or -term). Put a topic containing ":" in quotes.',
                    EXAMPLE,
                )
            value, i = (qualifier[2], i) if qualifier[2] else _value(tokens, i, f"{qualifier[1]}:")
            if key == "author":
                authors.append(value)
            elif key == "org":
                orgs.append(value)
            elif key == "exclude":
                excluded.append(value)
            elif key == "has":
                if value.strip().casefold() not in ("code", "github", "repo"):
                    raise UserInputError(f"`has:` only knows `code` (a GitHub repo), not `{value}`.", "has:code")
                has_code = True
            else:
                value = value.strip()
                if not (value.isascii() and value.isdigit()) or int(value) > _MAX_UPVOTES:
                    raise UserInputError(f"`min-upvotes:` needs a whole number, not `{value}`.", "min-upvotes:10")
                min_upvotes = int(value)
    if phrase:
        topics.append(" ".join(phrase))
    return replace(
        ChannelFilter(min_upvotes=min_upvotes, has_code=has_code).with_topics(topics).with_excluded(excluded),
        authors=_merge((), authors, "author", MAX_NAMES, names=True),
        orgs=_merge((), orgs, "org", MAX_NAMES, names=True),
    )


def _quoted(value: str, *, qualifier: bool) -> str:
    bare = "," not in value and ":" not in value and not any(w.startswith("-") for w in value.split())
    return value if bare and not (qualifier and " " in value) else f'"{value}"'


def format_filter(f: ChannelFilter) -> str:
    """The canonical text of a filter: ``parse_filter(format_filter(f)) == f``."""
    parts = [_quoted(t, qualifier=False) for t in f.topics]
    parts += [f"-{_quoted(t, qualifier=True)}" for t in f.excluded]
    parts += [f"author:{_quoted(a, qualifier=True)}" for a in f.authors]
    parts += [f"org:{_quoted(o, qualifier=True)}" for o in f.orgs]
    parts += [f"min-upvotes:{f.min_upvotes}"] if f.min_upvotes else []
    parts += ["has:code"] if f.has_code else []
    return ", ".join(parts)


def parse_topic_list(text: str) -> list[str]:
    """Topics for ``/papers follow a, "b c", d``: comma-separated, quotes optional, validated."""
    topics, phrase = [], []
    for kind, word in _lex(text):
        if kind == "w" and (word.startswith("-") or _QUALIFIER_RE.match(word)):
            raise UserInputError(
                f"`{word}` looks like a filter, not a topic. Quote it to follow it as written.", TOPICS_EXAMPLE
            )
        if kind == "w":
            phrase.append(word)
            continue
        if phrase:
            topics.append(" ".join(phrase))
            phrase = []
        if kind == '"':
            topics.append(word)
    if phrase:
        topics.append(" ".join(phrase))
    if not topics:
        raise UserInputError("Name at least one topic.", TOPICS_EXAMPLE)
    return list(ChannelFilter().with_topics(topics).topics)


# ---------------------------------------------------------------------------------------------------
# Matching

_TITLE, _KEYWORDS, _ABSTRACT, _AUTHORS = 1, 2, 4, 8
_FIELDS = (("title", _TITLE), ("keywords", _KEYWORDS), ("abstract", _ABSTRACT), ("authors", _AUTHORS))
_WHERE = tuple(tuple(name for name, bit in _FIELDS if mask & bit) for mask in range(16))
_STRONG = _TITLE | _KEYWORDS | _AUTHORS
_EXCLUDABLE = _TITLE | _KEYWORDS | _ABSTRACT


@dataclass(frozen=True, slots=True)
class Hit:
    """One topic that matched, and the fields it matched in (title, keywords, abstract, authors)."""

    topic: str
    where: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Why a paper matched; ``strong`` when some hit is outside the abstract (or the filter has no topics)."""

    hits: tuple[Hit, ...]
    strong: bool

    def explain(self) -> str:
        return " · ".join(f"{h.topic} ({', '.join(h.where)})" for h in self.hits)


_EVERYTHING = MatchResult(hits=(), strong=True)


class _Vocabulary:
    """Every distinct term, compiled to the keys a paper's token stream can produce."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys: dict[str, list[int]] = {}  # stem phrase or compound -> term ids
        self.prefixes: set[str] = set()  # proper word-prefixes of stem phrases
        self.chars: set[str] = set()  # proper character-prefixes of compounds
        self.names: dict[str, list[int]] = {}  # as-typed stem phrases, for author names
        self.name_prefixes: set[str] = set()

    def add(self, term: str) -> int | None:
        words = tuple(_words(term))
        if not words:
            return None
        key = _key(words)
        if key in self.ids:
            return self.ids[key]
        tid = self.ids[key] = len(self.ids)
        _register(self.names, self.name_prefixes, key, tid)
        for variant in _variants(words):
            _register(self.keys, self.prefixes, _key(variant), tid)
            compound = _compound_key(variant)
            if compound is not None:
                self.keys.setdefault(compound, [])
                if tid not in self.keys[compound]:
                    self.keys[compound].append(tid)
                self.chars.update(compound[:k] for k in range(1, len(compound)))
        return tid

    def scan(self, paper: Paper) -> dict[int, int]:
        """Term id -> bit mask of the fields it occurs in."""
        hits: dict[int, int] = {}
        for text, bit in ((paper.title, _TITLE), (paper.abstract, _ABSTRACT)):
            for words in _segments(text):
                self._walk(words, bit, hits)
        for keyword in paper.ai_keywords:
            for words in _segments(keyword):
                self._walk(words, _KEYWORDS, hits)
        for name in paper.authors:
            stems = [_stem(w) for w in _words(name)]
            _walk_phrases(stems, self.names, self.name_prefixes, _AUTHORS, hits)
        return hits

    def _walk(self, words: list[str], bit: int, hits: dict[int, int]) -> None:
        stems = [_stem(w) for w in words]
        _walk_phrases(stems, self.keys, self.prefixes, bit, hits)
        keys, chars, n = self.keys, self.chars, len(words)
        for i in range(n - 1):  # compounds: "pre training" -> "pretrain"
            acc = _light(words[i])
            if words[i] in _STOP or acc not in chars:
                continue
            for j in range(i + 1, n):
                if words[j] in _STOP:
                    break
                for tid in keys.get(acc + stems[j], ()):
                    hits[tid] = hits.get(tid, 0) | bit
                acc += _light(words[j])
                if acc not in chars:
                    break


def _register(keys: dict[str, list[int]], prefixes: set[str], key: str, tid: int) -> None:
    ids = keys.setdefault(key, [])
    if tid not in ids:
        ids.append(tid)
    parts = key.split(" ")
    prefixes.update(" ".join(parts[:k]) for k in range(1, len(parts)))


def _walk_phrases(
    stems: list[str], keys: dict[str, list[int]], prefixes: set[str], bit: int, hits: dict[int, int]
) -> None:
    n = len(stems)
    for i in range(n):
        key, j = stems[i], i + 1
        while True:
            for tid in keys.get(key, ()):
                hits[tid] = hits.get(tid, 0) | bit
            if j == n or key not in prefixes:
                break
            key = f"{key} {stems[j]}"
            j += 1


def _name_keys(names: Iterable[str]) -> frozenset[str]:
    """Every run of whole words of each name: ``author:lecun`` matches "Yann LeCun"."""
    out: set[str] = set()
    for name in names:
        words = _words(name)
        out.update(" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1))
    return frozenset(out)


class FilterIndex:
    """Matches many channels' filters against a day's papers without looping over channels × topics.

    Work per paper: one walk over its text, then one step per (matching term, filter following it),
    done in bulk with dict and set operations. Channels with equal filters share one entry, and
    equal explanations share one ``MatchResult``.
    """

    def __init__(self, filters: Mapping[str, ChannelFilter]) -> None:
        self._vocab = _Vocabulary()
        self._term_ids: dict[str, int | None] = {}  # as typed; most channels share most terms
        users: dict[int, dict[str, list[int]]] = {}  # term id -> topic as typed -> filter ids
        self._excluders: dict[int, list[int]] = {}  # term id -> filter ids excluding it
        # Qualifiers, inverted too: the filters each one lets through, so checks are set operations.
        self._min_upvotes: dict[int, set[int]] = {}  # threshold -> filter ids
        self._need_code: set[int] = set()
        self._orgs: dict[str, set[int]] = {}  # normalised org -> filter ids naming it
        self._authors: dict[str, set[int]] = {}
        self._org_filters: set[int] = set()
        self._author_filters: set[int] = set()
        self._topics: list[tuple[str, ...]] = []
        self._open: list[int] = []  # filters without topics: every paper is a candidate
        self._channels: dict[str, int] = {}
        self._results: dict[tuple[tuple[str, int], ...], MatchResult] = {}
        distinct: dict[ChannelFilter, int] = {}
        for channel, f in filters.items():
            fid = distinct.get(f)
            if fid is None:
                fid = distinct[f] = len(self._topics)
                self._compile(fid, f, users)
            self._channels[channel] = fid
        self._users = {tid: [(topic, fids) for topic, fids in by_topic.items()] for tid, by_topic in users.items()}

    def _compile(self, fid: int, f: ChannelFilter, users: dict[int, dict[str, list[int]]]) -> None:
        self._topics.append(f.topics)
        for topic in f.topics:
            tid = self._term(topic)
            if tid is not None:
                users.setdefault(tid, {}).setdefault(topic, []).append(fid)
        for term in f.excluded:
            tid = self._term(term)
            if tid is not None:
                self._excluders.setdefault(tid, []).append(fid)
        if f.min_upvotes > 0:
            self._min_upvotes.setdefault(f.min_upvotes, set()).add(fid)
        if f.has_code:
            self._need_code.add(fid)
        for names, index, named in (
            (f.orgs, self._orgs, self._org_filters),
            (f.authors, self._authors, self._author_filters),
        ):
            for name in names:
                index.setdefault(" ".join(_words(name)), set()).add(fid)
                named.add(fid)
        if not f.topics:
            self._open.append(fid)

    def _term(self, text: str) -> int | None:
        if text not in self._term_ids:
            self._term_ids[text] = self._vocab.add(text)
        return self._term_ids[text]

    def match(self, papers: Sequence[Paper]) -> dict[str, list[tuple[Paper, MatchResult]]]:
        """Every channel -> every paper its filter lets through, in the given order (not limited)."""
        per_filter: list[list[tuple[Paper, MatchResult]]] = [[] for _ in self._topics]
        for paper in papers:
            for fids, result in self._match(paper):
                item = (paper, result)
                for fid in fids:
                    per_filter[fid].append(item)
        handed_out: set[int] = set()
        out = {}
        for channel, fid in self._channels.items():  # copy only lists that channels share
            out[channel] = per_filter[fid] if fid not in handed_out else list(per_filter[fid])
            handed_out.add(fid)
        return out

    def _match(self, paper: Paper) -> list[tuple[Iterable[int], MatchResult]]:
        """Groups of filter ids that let ``paper`` through, each group with its one explanation."""
        hits = self._vocab.scan(paper)
        singles: list[tuple[tuple[str, int], list[int]]] = []
        first: dict[int, tuple[str, int]] = {}  # filter id -> (topic, field mask) of its first hit
        several: dict[int, list[tuple[str, int]]] = {}  # filters with more than one topic hit
        rejected: set[int] = set()
        for tid, mask in hits.items():
            if mask & _EXCLUDABLE and tid in self._excluders:
                rejected.update(self._excluders[tid])
            for topic, fids in self._users.get(tid, ()):
                pair = (topic, mask)
                for fid in first.keys() & fids:
                    several.setdefault(fid, [first[fid]]).append(pair)
                first.update(dict.fromkeys(fids, pair))
                singles.append((pair, fids))
        for threshold, fids in self._min_upvotes.items():
            if paper.upvotes < threshold:
                rejected.update(fids)
        if not paper.github_repo:
            rejected.update(self._need_code)
        if self._org_filters:
            orgs = {" ".join(_words(paper.organization_id)), " ".join(_words(paper.organization))}
            rejected.update(self._org_filters.difference(*(self._orgs.get(o, ()) for o in orgs)))
        if self._author_filters:
            names = _name_keys(paper.authors)
            rejected.update(self._author_filters.difference(*(self._authors.get(n, ()) for n in names)))
        groups: list[tuple[Iterable[int], MatchResult]] = []
        for fid, pairs in several.items():
            if fid not in rejected:
                order = self._topics[fid]
                ranked = sorted([(order.index(topic), topic, mask) for topic, mask in pairs])
                groups.append(((fid,), self._result(tuple((topic, mask) for _, topic, mask in ranked))))
        rejected.update(several)
        # set - set walks the smaller side (CPython), so this stays proportional to each group.
        groups.extend((passing, self._result((pair,))) for pair, fids in singles if (passing := set(fids) - rejected))
        if self._open:
            groups.append((set(self._open) - rejected, _EVERYTHING))
        return groups

    def _result(self, key: tuple[tuple[str, int], ...]) -> MatchResult:
        result = self._results.get(key)
        if result is None:
            found = tuple(Hit(topic, _WHERE[mask]) for topic, mask in key)
            result = self._results[key] = MatchResult(found, any(mask & _STRONG for _, mask in key))
        return result


@lru_cache(maxsize=256)
def _single(f: ChannelFilter) -> FilterIndex:
    return FilterIndex({"": f})


def match_paper(f: ChannelFilter, paper: Paper) -> MatchResult | None:
    """Why ``paper`` matches ``f``, or ``None`` (excluded, no topic matched, or a qualifier failed)."""
    return next((result for fids, result in _single(f)._match(paper) if fids), None)


def choose_matches(matches: Iterable[tuple[Paper, MatchResult]], limit: int) -> list[tuple[Paper, MatchResult]]:
    """Up to ``limit`` matches: strong ones first by upvotes, then weak ones; shown by upvotes."""
    ranked = sorted(matches, key=lambda m: -m[0].upvotes)
    if len(ranked) <= limit:
        return ranked
    strong = [i for i, m in enumerate(ranked) if m[1].strong]
    weak = [i for i, m in enumerate(ranked) if not m[1].strong]
    return [ranked[i] for i in sorted((strong + weak)[: max(limit, 0)])]


def select_papers(
    f: ChannelFilter, papers: Iterable[Paper], limit: int, *, exclude_keys: AbstractSet[str] = frozenset()
) -> tuple[list[tuple[Paper, MatchResult]], int]:
    """The papers to post and how many the filter turned away.

    Papers in ``exclude_keys`` (already posted) and repeated keys are skipped without counting; the
    count is of papers the filter rejected, so a post can say "12 other papers did not match".
    """
    index, matches, dropped, seen = _single(f), [], 0, set()
    for paper in papers:
        if paper.key in exclude_keys or paper.key in seen:
            continue
        seen.add(paper.key)
        result = next((result for fids, result in index._match(paper) if fids), None)
        if result is None:
            dropped += 1
        else:
            matches.append((paper, result))
    return choose_matches(matches, limit), dropped
