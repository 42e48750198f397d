"""The post run's all-channels matcher must choose exactly what the per-channel selection chooses."""

from __future__ import annotations

import random
import threading

from bench.bench_filters import make_filters, make_paper, vocabulary
from bot.filters import format_filter
from bot.filters.run_matcher import RunMatcher
from bot.filters.selection import select_for_channel
from bot.models import ChannelConfig


def test_same_papers_order_reasons_and_dropped_as_select_for_channel_on_random_filters() -> None:
    rng = random.Random(5)
    vocab = vocabulary(rng, 400)
    day_one = [make_paper(rng, vocab, i) for i in range(40)]
    day_two = [make_paper(rng, vocab, 100 + i) for i in range(30)] + day_one[:3]  # a paper listed twice
    filters = make_filters(rng, vocab, 120, 4)
    configs = [
        ChannelConfig(
            channel,
            subscribed=True,
            filter_text=format_filter(f) if n % 5 else "",  # some channels without a filter
            max_papers=rng.choice((3, 5, 10)),
            min_upvotes=rng.choice((0, 0, 30)),
        )
        for n, (channel, f) in enumerate(filters.items())
    ]
    matcher = RunMatcher(configs)
    papers = day_one + day_two
    for config in configs:
        posted = {p.key for p in rng.sample(papers, 5)}
        assert matcher.select(config, papers, posted) == select_for_channel(config, papers, posted), config


def test_a_channel_not_planned_or_changed_since_falls_back_to_its_own_selection() -> None:
    rng = random.Random(9)
    vocab = vocabulary(rng, 200)
    papers = [make_paper(rng, vocab, i) for i in range(20)]
    planned = ChannelConfig("C1", subscribed=True, filter_text="diffusion")
    matcher = RunMatcher([planned])
    changed = planned.replace(filter_text="agents")
    other = ChannelConfig("C2", subscribed=True)
    assert matcher.select(changed, papers, set()) == select_for_channel(changed, papers, set())
    assert matcher.select(other, papers, set()) == select_for_channel(other, papers, set())


def test_threads_share_one_match() -> None:
    rng = random.Random(3)
    vocab = vocabulary(rng, 200)
    papers = [make_paper(rng, vocab, i) for i in range(30)]
    configs = [ChannelConfig(f"C{i}", subscribed=True) for i in range(16)]
    matcher = RunMatcher(configs)
    out: dict[str, object] = {}

    def pick(config: ChannelConfig) -> None:
        out[config.channel_id] = matcher.select(config, papers, set())

    threads = [threading.Thread(target=pick, args=(c,)) for c in configs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(out[c.channel_id] == select_for_channel(c, papers, set()) for c in configs)
