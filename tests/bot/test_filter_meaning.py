"""Filters find what a team means: the causes of missed papers in bench/relevance, one rule each, and the
word-boundary guarantees that must survive them."""

from __future__ import annotations

import pytest

from bot.feed.papers import Paper
from bot.filters import MatchResult, choose_matches, match_paper, parse_filter

_ids = iter(range(10_000, 99_999))


def paper(
    title: str = "A paper",
    abstract: str = "",
    *,
    keywords: tuple[str, ...] = (),
    upvotes: int = 0,
    org: str = "",
    org_id: str = "",
) -> Paper:
    return Paper(
        id=f"2502.{next(_ids)}",
        title=title,
        abstract=abstract,
        ai_keywords=keywords,
        upvotes=upvotes,
        organization=org,
        organization_id=org_id,
    )


def why(filter_text: str, p: Paper) -> MatchResult | None:
    return match_paper(parse_filter(filter_text), p)


# --- 1. org: by word tokens ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org_id", "org"),
    [
        ("AlibabaTongyiLab", "Alibaba Tongyi Lab"),
        ("alibaba-multimodal-industrial-ai", ""),
        ("AlibabaTongyiLab", ""),  # the handle alone, camelCase split
        ("Qwen", "Qwen"),  # a lab of the company, under another name
        ("Wan-Video", "Wan"),
    ],
)
def test_org_matches_the_handle_and_full_name_by_word_tokens(org_id: str, org: str) -> None:
    assert why("org:alibaba", paper(org_id=org_id, org=org)) is not None


@pytest.mark.parametrize("value", ["org:ali", "org:baba", "org:alibabagroup"])
def test_org_tokens_are_whole_words(value: str) -> None:
    assert why(value, paper(org_id="AlibabaTongyiLab", org="Alibaba Tongyi Lab")) is None


def test_org_families_and_spellings() -> None:
    deepmind = paper(org_id="deepmind", org="Google DeepMind")
    assert why("org:google", deepmind) is not None
    assert why("org:GoogleDeepMind", deepmind) is not None
    assert why("org:tongyi", paper(org_id="AlibabaTongyiLab")) is not None
    assert why("org:alibaba", paper(org_id="antgroup", org="Ant Group")) is None  # an affiliate, not a lab
    assert why("org:google", paper(org_id="nvidia", org="NVIDIA")) is None


# --- 2. a parenthesised abbreviation does not break a phrase ---------------------------------------


def test_parenthesised_abbreviation_inside_a_phrase() -> None:
    result = why("LLM agents", paper("Large Language Model (LLM) agents for science"))
    assert result is not None and result.strong
    assert result.explain() == "LLM agents (title)"
    # the abbreviation's own mention still counts
    assert why("LLM", paper("Large Language Model (LLM) agents")) is not None


# --- 3. derived forms -------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["Agentic search at scale", "A tool-agentic framework", "Robotic grasping"])
def test_derived_forms(title: str) -> None:
    assert why("agent, robot", paper(title)) is not None


def test_derived_forms_keep_word_boundaries() -> None:
    assert why("agent", paper("Reagents in chemistry")) is None
    assert why("quantization", paper("Quantized models run on phones")) is not None
    assert why("video generation", paper("Generating videos from text")) is not None


# --- 4. word order and small gaps -------------------------------------------------------------------


def test_words_apart_in_the_title_match_and_say_so() -> None:
    result = why("agent memory", paper("Memory management for edge-cloud agents"))
    assert result is not None
    assert result.explain() == "agent memory (words apart: title)"
    assert not result.strong
    assert why("model merging", paper("Merging Models with Fisher averaging")) is not None


def test_words_apart_rank_below_the_exact_phrase() -> None:
    apart = paper("Memory management for edge-cloud agents", upvotes=90)
    exact = paper("Agent memory in practice", upvotes=10)
    f = parse_filter("agent memory")
    matches = [(p, r) for p in (apart, exact) if (r := match_paper(f, p)) is not None]
    assert [p for p, _ in choose_matches(matches, 1)] == [exact]
    assert [p for p, _ in choose_matches(matches, 2)] == [apart, exact]  # shown by upvotes


def test_words_apart_stay_within_a_sentence_and_close_together() -> None:
    assert why("agent memory", paper("A title", "We study agents. Memory is cheap. " * 2)) is None
    far = "Agents that plan long trips across many cities and several days also need memory."
    assert why("agent memory", paper("A title", f"{far} {far}")) is None
    assert why("agent memory", paper("Agents", "We add memory to the agents. Memory for agents helps.")) is not None


def test_words_apart_in_only_one_abstract_sentence_are_not_enough() -> None:
    once = "We study the memory of these agents. Results are good."
    assert why("agent memory", paper("A title", once)) is None
    twice = "We study the memory of these agents. The agents use memory well."
    assert why("agent memory", paper("A title", twice)) is not None


# --- 5. synonyms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "title", "via"),
    [
        ("VLM", "MLLMs cannot count", "MLLM"),
        ("VLM", "LVLM hallucination", "LVLM"),
        ("VLM", "A multimodal LLM for charts", "multimodal LLM"),
        ("VLM", "Video-language models for sports", "video language model"),
        ("vision-language model", "Spatial-MLLM", "MLLM"),
        ("test-time scaling", "Inference-time scaling for tables", "inference time scaling"),
        ("inference-time scaling", "Test-time scaling laws", "test time scaling"),
        ("long context", "Extending the context window to 1M tokens", "context window"),
    ],
)
def test_synonyms_match_and_name_the_word_used(topic: str, title: str, via: str) -> None:
    result = why(f'"{topic}"', paper(title))
    assert result is not None and result.strong
    assert f"(as {via}: title)" in result.explain()


# --- 6. a specific term stands for its topic (not the other way round) ----------------------------


@pytest.mark.parametrize(
    "title", ["GRPO without a critic", "PPO for LLMs", "Deep Q-learning", "Actor-critic methods", "Policy gradients"]
)
def test_narrower_terms_of_reinforcement_learning(title: str) -> None:
    assert why("reinforcement learning", paper(title)) is not None
    assert why("RL", paper(title)) is not None


@pytest.mark.parametrize("title", ["Human image animation with pose", "Text-to-video with motion priors"])
def test_narrower_terms_of_video_generation(title: str) -> None:
    assert why("video generation", paper(title)) is not None


def test_narrower_terms_do_not_widen_the_specific_topic() -> None:
    assert why("GRPO", paper("Reinforcement learning for chips")) is None
    assert why("text-to-video", paper("Video generation at scale")) is None


def test_loose_matches_only_in_the_abstract_must_be_repeated() -> None:
    once = paper("Scaling laws", "We compare with PPO. Results hold.")
    assert why("reinforcement learning", once) is None
    twice = paper("Scaling laws", "We train with PPO. PPO is stable.")
    assert why("reinforcement learning", twice) is not None


def test_a_one_word_topic_mentioned_in_passing_is_not_what_the_paper_is_about() -> None:
    passing = paper("Faster diffusion sampling", "We speed up sampling. Results hold on standard benchmarks.")
    assert why("benchmark", passing) is None
    assert why("diffusion sampling, benchmark", passing) is not None  # a phrase counts on one mention
    assert why("benchmark", paper("A benchmark for agents")) is not None
    opening = paper("Agents in the wild", "Benchmarks for agents are saturated. We build a harder one.")
    assert why("benchmark", opening) is not None  # the first sentence says what the paper is about
    repeated = paper("Agents", "We test agents. The benchmark has 500 tasks. Our benchmark is public.")
    assert why("benchmark", repeated) is not None


def test_a_passing_mention_still_excludes() -> None:
    p = paper("Reward models for reasoning", "We train a reward model. It also helps in medical question answering.")
    assert why("reward model", p) is not None
    assert why("reward model, -medical", p) is None


@pytest.mark.parametrize(
    ("title", "matches"),
    [
        ("MemTrapBench: Cognitive Traps in LLM Memory", True),
        ("TVRBench: Reaching a Target Viewpoint", True),
        ("Benchmarking LLaMA on Maths", True),
        ("LLaMA-Adapter: Efficient Fine-tuning", False),  # not made of words: never split
        ("Benchy: a toy", False),
    ],
)
def test_names_made_of_words_are_read_as_their_words(title: str, matches: bool) -> None:
    assert (why("benchmark", paper(title)) is not None) is matches


# --- 7. ambiguous abbreviations ---------------------------------------------------------------------


def test_the_papers_own_definition_wins() -> None:
    tts = paper("TTS for agents", "Test-time scaling (TTS) spends compute at inference. TTS helps agents.")
    assert why("text-to-speech", tts) is None
    assert why("TTS", tts) is None
    assert why("test-time scaling", tts) is not None
    speech = paper("Fast TTS", "Text-to-speech (TTS) with flow matching. Our TTS is fast.")
    assert why("text-to-speech", speech) is not None


def test_an_undefined_ambiguous_abbreviation_beside_the_other_meaning_is_not_it() -> None:
    attack = paper("Jailbreaks", "Our jailbreak attack reaches a 25% higher ASR on aligned models.")
    assert why("speech recognition", attack) is None
    assert why("ASR", attack) is None
    asr = paper("Robust ASR", "We improve ASR for accented speech.")
    assert why("speech recognition", asr) is not None


# --- the word-boundary guarantees ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "title"),
    [
        ("merging", "Emerging abilities of language models"),
        ("rl", "A world model for the real world"),
        ("rag", "Averaged ragout of weights"),  # "rag" is neither "average" nor "ragout"
        ("vit", "Inevitably, transformers win"),
        ("speech", "Speechless: lip reading without audio"),
    ],
)
def test_word_boundaries_hold(topic: str, title: str) -> None:
    assert why(f'"{topic}"', paper(title, title)) is None
