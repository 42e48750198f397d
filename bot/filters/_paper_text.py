"""A paper's text as the matcher reads it. Pure.

Two things a plain tokenizer gets wrong, fixed here once per paper (not once per channel):

* A parenthesised abbreviation breaks a phrase: "Large Language Model (LLM) agents" must still read
  as "large language model agents". The ``(LLM)`` is taken out of the running text.
* An abbreviation means what the paper says it means: a paper that writes "test-time scaling (TTS)"
  is not about text-to-speech, so its later "TTS" reads as "test time scaling". An abbreviation known
  to be ambiguous (``AMBIGUOUS``) that the paper never defines reads as nothing when the paper uses
  words of the other meaning and none of the usual one: "25% higher ASR" beside "jailbreak attacks" is
  an attack success rate, not speech recognition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.feed.papers import Paper
from bot.filters._terms import JOIN_STOPWORDS, segments_of, words_of
from bot.filters._vocab import AMBIGUOUS

__all__ = ["PaperText", "definitions_in", "name_parts", "read_paper"]

# "(LLM)", "(LLMs)", "(MoE)", "(3DGS)", "(T2V)": a short word with at least two capitals.
_PAREN_RE = re.compile(r"\s*\(\s*([A-Za-z0-9][A-Za-z0-9\-]{1,11}?)(s?)\s*\)")
_SENTENCE_RE = re.compile(r"(?<=[.!?;])\s+")
# Names made of words, as papers name their systems: "MemTrapBench", "TVRBench", "AgentSafetyBench".
_CAMEL_RE = re.compile(r"\b[A-Za-z]*[a-z][A-Z][A-Za-z]*\b|\b[A-Z]{2,}[A-Z][a-z]+[A-Za-z]*\b")
_CAMEL_SPLIT_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def name_parts(title: str) -> list[list[str]]:
    """The words inside camel-case names of a title, one list per name: "MemTrapBench" reads as
    "mem trap bench" too, so a paper introducing a benchmark says "bench" in its title. Names with a
    part shorter than two letters ("LLaMA", "GPT4o") are left whole: they are not made of words."""
    out = []
    for m in _CAMEL_RE.finditer(title):
        parts = [p for p in _CAMEL_SPLIT_RE.split(m[0]) if p]
        if len(parts) >= 2 and all(len(p) >= 2 for p in parts):
            out.append([w for p in parts for w in words_of(p)])
    return out


def _is_abbreviation(word: str) -> bool:
    return sum(c.isupper() for c in word) >= 2 and any(c.isalpha() for c in word)


def _defined_by(letters: str, before: list[str]) -> tuple[str, ...] | None:
    """The words just before "(ABBR)" whose initials (or whole chunks, as "3d") spell it, if any."""
    i, j = len(letters), len(before) - 1
    while i > 0 and j >= 0 and len(before) - j <= len(letters) + 3:
        word = before[j]
        if letters[:i].endswith(word) and len(word) > 1:
            i -= len(word)
        elif word[0] == letters[i - 1]:
            i -= 1
        elif word not in JOIN_STOPWORDS:
            return None
        j -= 1
    if i > 0 or j + 1 >= len(before) or before[j + 1] in JOIN_STOPWORDS:
        return None
    return tuple(before[j + 1 :])


def definitions_in(text: str) -> tuple[str, dict[str, tuple[str, ...]]]:
    """The text without its parenthesised abbreviations, and what each one the text defines stands for."""
    found: dict[str, tuple[str, ...]] = {}
    out, last = [], 0
    for m in _PAREN_RE.finditer(text):
        abbr = m[1]
        if not _is_abbreviation(abbr):
            continue
        out.append(text[last : m.start()])
        out.append(" ")
        last = m.end()
        letters = "".join(c for c in abbr.casefold() if c.isalnum())
        before = words_of(text[max(0, m.start() - 160) : m.start()])
        definition = _defined_by(letters, before)
        if definition is not None:
            found.setdefault(abbr.casefold(), definition)
    out.append(text[last:])
    return "".join(out), found


@dataclass(frozen=True, slots=True)
class PaperText:
    """Word lists per field: ``phrases`` never cross clause punctuation; ``spans`` are the units in
    which the words of a topic may stand apart (the whole title, each sentence, each keyword)."""

    title: tuple[list[str], ...]
    title_spans: tuple[list[str], ...]
    abstract: tuple[tuple[list[str], ...], ...]  # per sentence
    abstract_spans: tuple[list[str], ...]
    keywords: tuple[list[str], ...]
    keyword_spans: tuple[list[str], ...]


def _substitute(lists: Iterable[list[str]], table: dict[str, tuple[str, ...]]) -> tuple[list[str], ...]:
    if not table:
        return tuple(lists)
    out = []
    for words in lists:
        replaced: list[str] = []
        for word in words:
            replaced.extend(table.get(word, (word,)))
        if replaced:
            out.append(replaced)
    return tuple(out)


def _uses(tokens: set[str], starts: tuple[str, ...]) -> bool:
    return any(w.startswith(starts) for w in tokens)


def read_paper(paper: Paper) -> PaperText:
    title, defined = definitions_in(paper.title)
    abstract, more = definitions_in(paper.abstract)
    for abbr, words in more.items():
        defined.setdefault(abbr, words)
    table: dict[str, tuple[str, ...]] = {}
    for abbr, words in defined.items():
        table[abbr] = table[abbr + "s"] = words
    tokens: set[str] | None = None
    for abbr, (usual, other) in AMBIGUOUS.items():
        if abbr in defined:
            continue
        if tokens is None:
            tokens = {*words_of(title), *words_of(abstract), *(w for k in paper.ai_keywords for w in words_of(k))}
        if (abbr in tokens or abbr + "s" in tokens) and _uses(tokens, other) and not _uses(tokens, usual):
            table[abbr] = table[abbr + "s"] = ()
    keywords = [segments_of(k) for k in paper.ai_keywords]
    return PaperText(
        title=_substitute([*segments_of(title), *name_parts(title)], table),
        title_spans=_substitute([words_of(title)], table),
        abstract=tuple(_substitute(segments_of(s), table) for s in _SENTENCE_RE.split(abstract)),
        abstract_spans=_substitute((words_of(s) for s in _SENTENCE_RE.split(abstract)), table),
        keywords=_substitute((seg for segs in keywords for seg in segs), table),
        keyword_spans=_substitute((words_of(k) for k in paper.ai_keywords), table),
    )
