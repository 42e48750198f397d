"""Filter vocabulary: limits, the abbreviation table, text normalisation, stemming and the variants
of a phrase. Pure; see ``bot.filters`` for how matching uses them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.filters._vocab import ABBREVIATIONS, DERIVED, NARROWER, SYNONYMS

__all__ = [
    "ABBREVIATIONS",
    "EXAMPLE",
    "JOIN_STOPWORDS",
    "MAX_EXCLUDED",
    "MAX_NAMES",
    "MAX_TERM_LENGTH",
    "MAX_TERM_WORDS",
    "MAX_TOPICS",
    "MAX_UPVOTES",
    "TOPICS_EXAMPLE",
    "compound_key",
    "light_stem",
    "phrase_key",
    "phrase_variants",
    "segments_of",
    "stem",
    "words_of",
]

MAX_TOPICS = 50
MAX_EXCLUDED = 50
MAX_NAMES = 20  # author: and org: qualifiers, each
MAX_TERM_LENGTH = 100
MAX_TERM_WORDS = 12  # a Han or kana character counts as a word
# The one cap on a minimum-upvotes threshold: the `min-upvotes:` qualifier, `/papers set min-upvotes` and
# the settings form all use it (no paper has come near 100,000 upvotes, so a higher value is a typo).
MAX_UPVOTES = 100_000
EXAMPLE = 'model merging, "process reward", -medical, org:nvidia, min-upvotes:10'
TOPICS_EXAMPLE = 'model merging, "process reward", LLM'

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
JOIN_STOPWORDS = frozenset(
    ("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "its", "no",
     "not", "of", "on", "or", "our", "than", "that", "the", "this", "to", "via", "vs", "we", "with")
)  # fmt: skip


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():  # the common case skips the slower passes
        text = unicodedata.normalize("NFC", _ACCENT_RE.sub("", unicodedata.normalize("NFD", text)))
        text = _CJK_RE.sub(r" \g<0> ", text)
    return text


def words_of(text: str) -> list[str]:
    return _TOKEN_RE.findall(_normalize(text))


def segments_of(text: str) -> list[list[str]]:
    return [words for part in _BREAK_RE.split(_normalize(text)) if (words := _TOKEN_RE.findall(part))]


@lru_cache(maxsize=1 << 16)
def light_stem(word: str) -> str:
    """Strip plural and -ing/-ed endings; the form used for the inner words of a compound."""
    word = DERIVED.get(word, word)
    if len(word) <= 3 or not word.isalpha() or word in _KEEP:
        return word
    w = word
    if w.endswith(("ization", "isation")) and len(w) > 9:
        w = w[:-7] + "ize"  # quantization = quantize(d)
    elif w.endswith("ation") and len(w) > 8:
        w = w[:-5] + "ate"  # generation = generate, annotation = annotate
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
def stem(word: str) -> str:
    """``light_stem`` plus a final-e strip, so merge, merging and merged all become ``merg``."""
    w = light_stem(word)
    return w[:-1] if len(w) > 3 and w.endswith("e") and w.isalpha() else w


_Phrase = tuple[str, ...]  # normalised words


def phrase_key(words: _Phrase) -> str:
    return " ".join(stem(w) for w in words)


def compound_key(words: _Phrase) -> str | None:
    if any(w in JOIN_STOPWORDS for w in words):
        return None
    return "".join(light_stem(w) for w in words[:-1]) + stem(words[-1])


def _phrase(text: str) -> _Phrase:
    return tuple(words_of(text))


def _build_groups() -> tuple[dict[str, tuple[_Phrase, ...]], dict[str, str], dict[str, str], dict[str, str]]:
    """Union the abbreviation table and the synonym groups; remember which forms are one abbreviation."""
    parent: dict[str, str] = {}
    phrases: dict[str, _Phrase] = {}
    display: dict[str, str] = {}
    family: dict[str, str] = {}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def add(texts: tuple[str, ...], *, same_name: bool) -> None:
        keys = []
        for text in texts:
            phrase = _phrase(text)
            key = phrase_key(phrase)
            if not key:
                continue
            keys.append(key)
            parent.setdefault(key, key)
            phrases.setdefault(key, phrase)
            display.setdefault(key, text)
            if same_name:
                family.setdefault(key, keys[0])
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])

    for abbr, spelled in ABBREVIATIONS.items():
        add((abbr, *spelled), same_name=True)
    for group in SYNONYMS:
        add(group, same_name=False)
    members: dict[str, list[_Phrase]] = {}
    for key in parent:
        members.setdefault(find(key), []).append(phrases[key])
    groups = {key: tuple(members[find(key)]) for key in parent}
    roots = {key: find(key) for key in parent}
    return groups, display, {key: family.get(key, key) for key in parent}, roots


# stem key of each known form -> every form of its group; its display text; its abbreviation family;
# its group's root key (what NARROWER attaches to)
_GROUPS, _DISPLAY, _FAMILY, _ROOT = _build_groups()


def _build_narrower() -> dict[str, list[tuple[_Phrase, str]]]:
    """Group root of a broad term -> (narrower form, its label), each narrower term with its other forms."""
    out: dict[str, list[tuple[_Phrase, str]]] = {}
    for broad, narrower in NARROWER.items():
        key = phrase_key(_phrase(broad))
        forms = out.setdefault(_ROOT.get(key, key), [])
        for text in narrower:
            phrase = _phrase(text)
            nkey = phrase_key(phrase)
            family = _FAMILY.get(nkey, nkey)  # its abbreviation, not its synonyms: a narrower term's
            for member in _GROUPS.get(nkey, (phrase,)):  # synonyms may be broader than the topic
                if _FAMILY.get(phrase_key(member), phrase_key(member)) == family:
                    forms.append((member, text))
    return out


_NARROWER = _build_narrower()
_ABBREVIATED = {phrase_key(_phrase(t)) for abbr, spelled in ABBREVIATIONS.items() for t in (abbr, *spelled)}
_GROUP_STARTS: dict[str, list[_Phrase]] = {}  # first stem -> stem keys starting with it, split
_SPAN_KEYS = set(_GROUPS) | {phrase_key(_phrase(b)) for b in NARROWER}
for _stems in (tuple(key.split()) for key in _SPAN_KEYS):
    _GROUP_STARTS.setdefault(_stems[0], []).append(_stems)


def _alternatives(key: str) -> list[tuple[_Phrase, str]]:
    """Other forms of a span: its synonyms and abbreviations (labelled unless one abbreviation), and
    narrower terms (labelled)."""
    out: list[tuple[_Phrase, str]] = []
    family = _FAMILY.get(key, key)
    for alt in _GROUPS.get(key, ()):
        akey = phrase_key(alt)
        if akey != key:
            out.append((alt, "" if _FAMILY.get(akey, akey) == family else _DISPLAY.get(akey, " ".join(alt))))
    out.extend(_NARROWER.get(_ROOT.get(key, key), ()))
    return out


def phrase_variants(words: _Phrase, limit: int = 160) -> list[tuple[_Phrase, str]]:
    """The phrase with every known span swapped for its other forms, each with the label a match
    through it shows ("" for the phrase itself and for abbreviations of the same name)."""
    stems = tuple(stem(w) for w in words)
    memo: dict[int, list[tuple[_Phrase, str]]] = {len(words): [((), "")]}

    def tail(i: int) -> list[tuple[_Phrase, str]]:
        if i not in memo:
            out = [((words[i], *rest), label) for rest, label in tail(i + 1)]
            for member in _GROUP_STARTS.get(stems[i], ()):
                end = i + len(member)
                if stems[i:end] == member:
                    for alt, alt_label in _alternatives(" ".join(member)):
                        out.extend(((*alt, *rest), alt_label or label) for rest, label in tail(end))
            memo[i] = out[:limit]
        return memo[i]

    variants: dict[str, tuple[_Phrase, str]] = {}
    for variant, label in tail(0):
        key = phrase_key(variant)
        if key not in variants or (variants[key][1] and not label):
            variants[key] = (variant, label)
    return list(variants.values())


def topic_units(words: _Phrase) -> list[list[_Phrase]]:
    """The content units of a topic, each with its other forms, for matching its words apart:
    ``agent memory`` -> [agent|agentic…], [memory]; ``LLM agents`` -> [LLM|large language model…], [agent…].
    The spelled-out form of an abbreviation stays one unit (``reinforcement learning``); small words
    are dropped."""
    stems = tuple(stem(w) for w in words)
    units: list[list[_Phrase]] = []
    i = 0
    while i < len(words):
        best = None
        for member in _GROUP_STARTS.get(stems[i], ()):
            if len(member) == 1 or " ".join(member) not in _ABBREVIATED:
                continue
            if stems[i : i + len(member)] == member and (best is None or len(member) > len(best)):
                best = member
        if best is not None:
            key = " ".join(best)
            units.append([words[i : i + len(best)], *(alt for alt, _ in _alternatives(key))])
            i += len(best)
            continue
        if words[i] not in JOIN_STOPWORDS:
            units.append([(words[i],), *(alt for alt, _ in _alternatives(stems[i]))])
        i += 1
    return units
