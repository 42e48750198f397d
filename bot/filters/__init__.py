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

from bot.filters._match import (
    RELATED_PREFIX,
    FilterIndex,
    Hit,
    MatchResult,
    RelatedTopics,
    choose_matches,
    match_paper,
    select_papers,
)
from bot.filters._query import ChannelFilter, format_filter, parse_filter, parse_topic_list
from bot.filters._terms import (
    ABBREVIATIONS,
    MAX_EXCLUDED,
    MAX_NAMES,
    MAX_TERM_LENGTH,
    MAX_TERM_WORDS,
    MAX_TOPICS,
    MAX_UPVOTES,
)

__all__ = [
    "ABBREVIATIONS",
    "MAX_EXCLUDED",
    "MAX_NAMES",
    "MAX_TERM_LENGTH",
    "MAX_TERM_WORDS",
    "MAX_TOPICS",
    "MAX_UPVOTES",
    "RELATED_PREFIX",
    "ChannelFilter",
    "FilterIndex",
    "Hit",
    "MatchResult",
    "RelatedTopics",
    "choose_matches",
    "format_filter",
    "match_paper",
    "parse_filter",
    "parse_topic_list",
    "select_papers",
]
