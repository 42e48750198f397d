"""Related papers: a match in meaning is labelled, ranked after word matches, refused by exclusions and
qualifiers, asked for once per day list, and can be turned off per channel.

A scripted matcher stands in for the model, so these rules are tested without the `semantic` extra;
``test_semantic_encoder.py`` tests the model itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.feed.papers import Paper
from bot.filters import RELATED_PREFIX, FilterIndex, match_paper, parse_filter
from bot.filters.run_matcher import RunMatcher
from bot.filters.selection import select_for_channel
from bot.models import ChannelConfig
from bot.ui.render import render_digest


class ScriptedRelated:
    """Says a paper is related to a topic when the paper's title contains one of the topic's cue words."""

    def __init__(self, cues: dict[str, tuple[str, ...]]) -> None:
        self.cues = cues
        self.calls: list[tuple[tuple[str, ...], int]] = []

    def close_topics(self, topics: Sequence[str], papers: Sequence[Paper]) -> list[frozenset[int]]:
        self.calls.append((tuple(topics), len(papers)))
        return [
            frozenset(i for i, t in enumerate(topics) if any(c in p.title.casefold() for c in self.cues.get(t, ())))
            for p in papers
        ]


CUES = {"LLM agents": ("computer-use",), "reward model": ("scoring",)}
COMPUTER_USE = Paper("2601.00001", "A computer-use system that operates a desktop", upvotes=40)
VERIFIER = Paper("2601.00002", "Scoring math solutions step by step", upvotes=30, github_repo="https://github.com/x/y")
AGENTS = Paper("2601.00003", "LLM agents that plan", upvotes=5)
OTHER = Paper("2601.00004", "Protein folding at scale", upvotes=90)
DAY = [COMPUTER_USE, VERIFIER, AGENTS, OTHER]


# ---------------------------------------------------------------------------------------------------
# Matching rules (no numpy needed)


def test_a_paper_close_in_meaning_matches_labelled_related_and_ranks_after_word_matches() -> None:
    related = ScriptedRelated(CUES)
    config = ChannelConfig("C1", filter_text="LLM agents", max_papers=1)

    one = select_for_channel(config, DAY, set(), related=related)
    assert one.papers == [AGENTS]  # 5 upvotes, but it names the topic: before the 40-upvote related one
    assert one.kinds == {AGENTS.key: "word"}

    both = select_for_channel(config.replace(max_papers=5), DAY, set(), related=related)
    assert both.papers == [COMPUTER_USE, AGENTS]  # shown by upvotes
    assert both.reasons[COMPUTER_USE.key] == f"{RELATED_PREFIX}LLM agents"
    assert both.kinds[COMPUTER_USE.key] == "related"
    assert both.dropped == 2


def test_without_a_matcher_or_with_related_off_only_words_match() -> None:
    config = ChannelConfig("C1", filter_text="LLM agents, reward model")
    assert select_for_channel(config, DAY, set()).papers == [AGENTS]
    off = select_for_channel(config.replace(related=False), DAY, set(), related=ScriptedRelated(CUES))
    assert off.papers == [AGENTS]


def test_exclusions_and_qualifiers_refuse_related_papers_too() -> None:
    related = ScriptedRelated(CUES)
    assert match_paper(parse_filter("reward model, -math"), VERIFIER, related=related) is None
    assert match_paper(parse_filter("LLM agents, min-upvotes:50"), COMPUTER_USE, related=related) is None
    assert match_paper(parse_filter("LLM agents, has:code"), COMPUTER_USE, related=related) is None
    result = match_paper(parse_filter("reward model, has:code"), VERIFIER, related=related)
    assert result is not None and result.kind == "related" and result.explain() == "Related to: reward model"


def test_several_related_topics_are_named_in_the_filters_order() -> None:
    paper = Paper("2601.00009", "A computer-use scoring tool", upvotes=3)
    result = match_paper(parse_filter("reward model, LLM agents"), paper, related=ScriptedRelated(CUES))
    assert result is not None and result.explain() == "Related to: reward model, LLM agents"


def test_one_question_to_the_matcher_per_day_list_for_all_channels() -> None:
    related = ScriptedRelated(CUES)
    filters = {f"C{i}": parse_filter("LLM agents" if i % 2 else "reward model, LLM agents") for i in range(50)}
    index = FilterIndex(filters, related=related)
    out = index.match(DAY)
    assert len(related.calls) == 1 and sorted(related.calls[0][0]) == ["LLM agents", "reward model"]
    assert [p for p, _ in out["C1"]] == [COMPUTER_USE, AGENTS]
    assert [p for p, _ in out["C0"]] == [COMPUTER_USE, VERIFIER, AGENTS]


def test_the_run_matcher_gives_what_one_channel_at_a_time_gives() -> None:
    related = ScriptedRelated(CUES)
    configs = [
        ChannelConfig("C1", filter_text="LLM agents"),
        ChannelConfig("C2", filter_text="reward model, -math"),
        ChannelConfig("C3", filter_text="reward model", related=False),
        ChannelConfig("C4", filter_text="LLM agents, reward model", max_papers=2),
    ]
    run = RunMatcher(configs, related=related)
    for config in configs:
        assert run.select(config, DAY, set()) == select_for_channel(config, DAY, set(), related=related)


def test_a_post_says_related_to_without_claiming_the_words_matched() -> None:
    selection = select_for_channel(
        ChannelConfig("C1", filter_text="LLM agents"), DAY, set(), related=ScriptedRelated(CUES)
    )
    text = json.dumps([m.blocks for m in render_digest(selection.papers, days=[], reasons=selection.reasons)])
    assert "_Related to: LLM agents_" in text
    assert "Matched: Related" not in text
    assert "_Matched: LLM agents (title)_" in text
