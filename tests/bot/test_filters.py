"""Per-channel topic filters: tolerant whole-word matching, the query language, ranking, the batch index."""

from __future__ import annotations

import random

import pytest

from bot.errors import UserInputError
from bot.feed.papers import Paper
from bot.filters import (
    MAX_EXCLUDED,
    MAX_TERM_LENGTH,
    MAX_TOPICS,
    ChannelFilter,
    FilterIndex,
    Hit,
    MatchResult,
    format_filter,
    match_paper,
    parse_filter,
    parse_topic_list,
    select_papers,
)

_ids = iter(range(10_000, 99_999))


def paper(
    title: str = "A paper",
    abstract: str = "",
    *,
    keywords: tuple[str, ...] = (),
    authors: tuple[str, ...] = (),
    upvotes: int = 0,
    org: str = "",
    org_id: str = "",
    repo: str = "",
) -> Paper:
    return Paper(
        id=f"2501.{next(_ids)}",
        title=title,
        abstract=abstract,
        ai_keywords=keywords,
        authors=authors,
        upvotes=upvotes,
        organization=org,
        organization_id=org_id,
        github_repo=repo,
    )


def matches(filter_text: str, **fields: object) -> bool:
    return match_paper(parse_filter(filter_text), paper(**fields)) is not None  # type: ignore[arg-type]


# --- whole words and word forms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "title", "expected"),
    [
        ("merging", "Model merging at scale", True),
        ("merging", "Emerging abilities of language models", False),
        ("speech", "Speech tokenizers revisited", True),
        ("speech", "Speechless: lip reading without audio", False),
        ("model merging", "Merging of models", True),  # words apart, ranked below the phrase (below)
        ("merge", "Merged experts", True),
        ("merging", "How to merge adapters", True),
        ("model merging", "Models merging for free", True),
        ("model", "Scaling laws for models", True),
        ("models", "A model of everything", True),
        ("diffusion", "Diffusion-based planners", True),
        ("agent", "Agentic workflows", True),  # derived forms: agentic is about agents
        ("embedding", "We embed tokens", True),
        ("study", "Two studies of attention", True),
        ("RL", "Control via reinforcement", False),
    ],
)
def test_whole_words_and_word_forms(topic: str, title: str, expected: bool) -> None:
    assert matches(f'"{topic}"', title=title) is expected


@pytest.mark.parametrize("topic", ["pre-training", "pretraining", "pre training", "Pre-Trained"])
@pytest.mark.parametrize(
    "title", ["Scaling pre-training data", "Scaling pretraining data", "Scaling pre training data"]
)
def test_hyphens_and_spacing_are_one_term(topic: str, title: str) -> None:
    assert matches(f'"{topic}"', title=title)


@pytest.mark.parametrize(
    ("topic", "title"),
    [
        ("fine-tuning", "Finetuning small models"),
        ("finetuning", "Fine-tuned small models"),
        ("dataset", "A new data set for code"),
        ("multimodal large language model", "Multi-modal large language models see better"),
        ("pre-trained models", "Pretrained models are few-shot learners"),
    ],
)
def test_compounds_across_inner_word_forms(topic: str, title: str) -> None:
    assert matches(f'"{topic}"', title=title)


def test_compounds_are_not_joined_across_small_words() -> None:
    assert not matches("asymmetric", title="A symmetric attention kernel")
    assert matches("asymmetric", title="An asymmetric attention kernel")


def test_phrases_do_not_span_sentences_or_keywords() -> None:
    assert not matches("model merging", abstract="We train a model. Merging is future work.")
    assert not matches("model merging", keywords=("model", "merging"))
    assert matches("model merging", keywords=("model merging",))


# --- abbreviations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "title"),
    [
        ("LLM", "Large Language Models as judges"),
        ("LLMs", "A large language model judge"),
        ("large language model", "LLMs as judges"),
        ("large language models", "An LLM judge"),
        ("VLM", "Vision-language models can count"),
        ("vision language model", "VLMs can count"),
        ("MoE", "Sparse mixture-of-experts routing"),
        ("mixture of experts", "Sparse MoEs at scale"),
        ("RLHF", "Reinforcement learning from human feedback, revisited"),
        ("RL", "Deep reinforcement learning for chips"),
        ("reinforcement learning", "RL for chips"),
        ("RAG", "Retrieval-augmented generation for law"),
        ("ASR", "Robust speech recognition"),
        ("speech recognition", "Multilingual ASR"),
        ("TTS", "Zero-shot text-to-speech"),
        ("GNN", "Graph neural networks for molecules"),
        ("ViT", "Vision transformers need registers"),
        ("NeRF", "Neural radiance fields in the wild"),
        ("neural radiance field", "NeRFs in the wild"),
        ("LoRA", "Low-rank adaptation of large models"),
        ("LLM agents", "Large language model agents for science"),
        ("large language model agents", "LLM agents for science"),
    ],
)
def test_abbreviations_match_both_ways(topic: str, title: str) -> None:
    assert matches(f'"{topic}"', title=title)


def test_abbreviations_keep_whole_words() -> None:
    assert not matches("RAG", title="Ragged tensors")
    assert not matches("LLM", title="Language models")


# --- fields and why it matched ----------------------------------------------------------------------


def test_hits_say_where_each_topic_matched() -> None:
    p = paper(
        "LLMs for theorem proving",
        "We align large language models with RLHF.",
        keywords=("LLM", "theorem proving"),
    )
    result = match_paper(parse_filter("LLM, RLHF, diffusion"), p)
    assert result == MatchResult(
        hits=(Hit("LLM", ("title", "keywords", "abstract")), Hit("RLHF", ("abstract",))), strong=True
    )
    assert result.explain() == "LLM (title, keywords, abstract) · RLHF (abstract)"


def test_abstract_only_hits_are_weak() -> None:
    result = match_paper(parse_filter("RLHF"), paper("A title", "We use RLHF."))
    assert result is not None and not result.strong


def test_topics_match_author_names() -> None:
    result = match_paper(parse_filter('"Yann LeCun"'), paper(authors=("Randall Balestriero", "Yann LeCun")))
    assert result is not None
    assert result.hits == (Hit("Yann LeCun", ("authors",)),)
    assert result.strong
    # abbreviation forms are not applied to names: "GAN" is not Zhe Gan
    assert not matches("generative adversarial network", authors=("Zhe Gan",))


def test_empty_filter_matches_every_paper_with_no_reasons() -> None:
    result = match_paper(ChannelFilter(), paper("Anything at all"))
    assert result == MatchResult(hits=(), strong=True)
    assert result.explain() == ""
    assert ChannelFilter().is_empty()
    assert not parse_filter("has:code").is_empty()


# --- exclusions and qualifiers ------------------------------------------------------------------


def test_exclusions_drop_papers_whatever_else_matches() -> None:
    f = parse_filter("LLM, -medical, exclude: survey")
    assert match_paper(f, paper("LLMs for radiology", "A medical benchmark.")) is None
    assert match_paper(f, paper("LLM surveys", keywords=("LLM",))) is None  # word forms apply
    assert match_paper(f, paper("LLMs for law")) is not None
    assert match_paper(f, paper("LLMs", authors=("Ann Survey",))) is not None  # not on author names


def test_excluded_phrase() -> None:
    f = parse_filter('diffusion, -"medical imaging"')
    assert match_paper(f, paper("Diffusion for medical imaging")) is None
    assert match_paper(f, paper("Diffusion for imaging; not medical")) is not None


def test_author_qualifier() -> None:
    f = parse_filter('author:"Yann LeCun", author:Bengio')
    assert match_paper(f, paper(authors=("Yann LeCun",))) is not None
    assert match_paper(f, paper(authors=("Yoshua Bengio", "X Y"))) is not None
    assert match_paper(f, paper(authors=("Yann Dubois",))) is None
    assert match_paper(parse_filter("author:jose"), paper(authors=("José García",))) is not None
    assert match_paper(parse_filter("author:José"), paper(authors=("Jose Garcia",))) is not None


def test_org_qualifier_matches_handle_or_display_name() -> None:
    f = parse_filter("org:nvidia, org:google-deepmind")
    assert match_paper(f, paper(org="NVIDIA", org_id="nvidia")) is not None
    assert match_paper(f, paper(org="Google DeepMind", org_id="deepmind")) is not None
    assert match_paper(f, paper(org="Meta", org_id="facebook")) is None
    assert match_paper(f, paper()) is None
    assert match_paper(parse_filter("org:NVIDIA"), paper(org_id="nvidia")) is not None


def test_upvotes_and_code_qualifiers_narrow_topics() -> None:
    f = parse_filter("diffusion, min-upvotes:10, has:code")
    assert f.min_upvotes == 10 and f.has_code
    good = dict(title="Diffusion", upvotes=10, repo="https://github.com/a/b")
    assert matches("diffusion, min-upvotes:10, has:code", **good)
    assert not matches("diffusion, min-upvotes:10, has:code", **{**good, "upvotes": 9})
    assert not matches("diffusion, min-upvotes:10, has:code", **{**good, "repo": ""})
    assert not matches("diffusion, min-upvotes:10, has:code", **{**good, "title": "Transformers"})
    assert matches("min-upvotes:10", title="Anything", upvotes=50)


# --- unicode ------------------------------------------------------------------------------------


def test_unicode_titles() -> None:
    assert matches("modèles", title="Des modèles de langue")
    assert matches("modeles", title="Des MODÈLES de langue")
    assert matches("大语言模型", title="面向大语言模型的推理")  # CJK phrases match inside runs of text
    assert not matches("语音", title="面向大语言模型的推理")
    assert matches("LLM", title="ＬＬＭ agents 🚀🤖")  # NFKC folds full-width letters; emoji are ignored
    assert matches("straße", title="STRASSE networks")
    assert not matches("LLM", title="🚀🚀🚀", abstract="\u0301\u200b")
    assert match_paper(parse_filter("ok"), paper("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ok", authors=("", "李 雷"))) is not None


# --- query language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ChannelFilter()),
        ("llm rlhf", ChannelFilter(topics=("llm rlhf",))),
        ("model merging, rlhf", ChannelFilter(topics=("model merging", "rlhf"))),
        (
            'model merging, "process reward", -medical, org:nvidia',
            ChannelFilter(topics=("model merging", "process reward"), excluded=("medical",), orgs=("nvidia",)),
        ),
        (
            'model merging "process reward" -medical org:nvidia llm',
            ChannelFilter(topics=("model merging", "process reward", "llm"), excluded=("medical",), orgs=("nvidia",)),
        ),
        ("“process reward”, LLM", ChannelFilter(topics=("process reward", "LLM"))),
        ('author:"Yann LeCun" author: Bengio', ChannelFilter(authors=("Yann LeCun", "Bengio"))),
        ('exclude: survey, -"medical imaging"', ChannelFilter(excluded=("survey", "medical imaging"))),
        ("LLM, llms, Large  Language Model", ChannelFilter(topics=("LLM", "Large Language Model"))),
        ("MIN-UPVOTES:5 HAS:CODE", ChannelFilter(min_upvotes=5, has_code=True)),
        ("a,,b ,", ChannelFilter(topics=("a", "b"))),
    ],
)
def test_parse_filter(text: str, expected: ChannelFilter) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'model merging, "process reward", -medical, org:nvidia',
        'author:"Yann LeCun", org:"Google DeepMind", min-upvotes:3, has:code, -"a, b", "x:y", "-dash"',
        "LLM, 大语言模型, José, -survey",
    ],
)
def test_format_round_trips(text: str) -> None:
    f = parse_filter(text)
    assert parse_filter(format_filter(f)) == f


def test_format_round_trips_random_filters() -> None:
    rng = random.Random(7)
    words = ["llm", "model", "merging", "pre-training", "José", "a:b", "-x", "x,y", "3D", "语言", "RL"]

    def term() -> str:
        return " ".join(rng.sample(words, rng.randint(1, 3)))

    for _ in range(200):
        f = (
            ChannelFilter(min_upvotes=rng.choice([0, 1, 99]), has_code=rng.random() < 0.5)
            .with_topics([term() for _ in range(rng.randint(0, 4))])
            .with_excluded([term() for _ in range(rng.randint(0, 2))])
        )
        text = format_filter(f)
        assert parse_filter(text) == f, text
    assert format_filter(parse_filter('author:"A B", org:x, "m m"')) == 'm m, author:"A B", org:x'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("llm, foo:bar", "`foo:`"),
        ("min-upvotes:abc", "whole number"),
        ("min-upvotes:-3", "whole number"),
        ("min-upvotes:100001", "from 0 to 100000"),  # the cap of `/papers set min-upvotes` and the form
        ("min-upvotes:500000", "from 0 to 100000"),
        ("min-upvotes:" + "9" * 5000, "from 0 to 100000"),  # beyond int()'s 4300-digit limit
        ('"process reward', "Unclosed quote"),
        ("has:pdf", "`code`"),
        ("-org:nvidia", "negated"),
        ("author:", "needs a value"),
        ("llm, -", "needs a value"),
        ("!!!", "no letters or digits"),
        ("x" * (MAX_TERM_LENGTH + 1), "limit is 100"),
    ],
)
def test_bad_input_gets_a_message_and_an_example(text: str, fragment: str) -> None:
    with pytest.raises(UserInputError) as error:
        parse_filter(text)
    assert fragment in error.value.message
    assert error.value.example


def test_min_upvotes_up_to_the_cap_is_accepted() -> None:
    assert parse_filter("min-upvotes:100000").min_upvotes == 100_000


def test_parse_topic_list() -> None:
    assert parse_topic_list('model merging, "process reward", d') == ["model merging", "process reward", "d"]
    assert parse_topic_list('"a, b" c') == ["a, b", "c"]
    assert parse_topic_list("LLM, LLMs") == ["LLM"]
    for bad, fragment in [("", "at least one"), (" , ", "at least one"), ("org:nvidia", "filter"), ("-x", "filter")]:
        with pytest.raises(UserInputError, match=fragment):
            parse_topic_list(bad)


# --- editing and caps ---------------------------------------------------------------------------


def test_editing_topics_and_exclusions() -> None:
    f = ChannelFilter().with_topics(["LLM", "diffusion"]).with_topics(["llms", "RLHF"])
    assert f.topics == ("LLM", "diffusion", "RLHF")
    assert f.without_topic("LLMs").topics == ("diffusion", "RLHF")
    with pytest.raises(UserInputError, match="not a topic here"):
        f.without_topic("robotics")
    g = f.with_excluded(["survey"])
    assert g.excluded == ("survey",) and g.without_excluded("Surveys").excluded == ()
    with pytest.raises(UserInputError):
        g.without_excluded("medical")
    assert f.with_topics("single string").topics[-1] == "single string"


def test_caps() -> None:
    full = ChannelFilter().with_topics([f"topic {i}" for i in range(MAX_TOPICS)])
    assert len(full.topics) == MAX_TOPICS
    with pytest.raises(UserInputError, match=r"at most 50 topics; this would make 52"):
        full.with_topics(["one more", "and another"])
    with pytest.raises(UserInputError, match="at most 50 exclusions"):
        ChannelFilter().with_excluded([f"x{i}" for i in range(MAX_EXCLUDED + 1)])
    with pytest.raises(UserInputError, match="at most 50 topics"):
        parse_filter(", ".join(f"t{i}" for i in range(MAX_TOPICS + 1)))
    assert full.with_topics(["topic 1"]) == full  # a duplicate does not count against the cap


# --- selection and ranking ----------------------------------------------------------------------


def test_select_prefers_strong_matches_then_ranks_by_upvotes() -> None:
    weak_top = paper("Scaling laws", "We use RLHF.", upvotes=100)
    strong_low = paper("RLHF without tears", upvotes=5)
    strong_mid = paper("Other", keywords=("RLHF",), upvotes=20)
    weak_mid = paper("Other", "RLHF again.", upvotes=50)
    unrelated = paper("Diffusion", upvotes=500)
    papers = [weak_top, strong_low, strong_mid, weak_mid, unrelated]
    f = parse_filter("RLHF")

    chosen, dropped = select_papers(f, papers, 3)
    assert [p for p, _ in chosen] == [weak_top, strong_mid, strong_low]
    assert dropped == 1

    chosen, _ = select_papers(f, papers, 10)
    assert [p for p, _ in chosen] == [weak_top, weak_mid, strong_mid, strong_low]
    assert select_papers(f, papers, 0) == ([], 1)

    chosen, dropped = select_papers(f, [*papers, weak_top], 10, exclude_keys={strong_low.key, unrelated.key})
    assert [p for p, _ in chosen] == [weak_top, weak_mid, strong_mid]
    assert dropped == 0


def test_select_with_empty_filter_is_the_unfiltered_top() -> None:
    papers = [paper(upvotes=u) for u in (3, 9, 1, 7)]
    chosen, dropped = select_papers(ChannelFilter(), papers, 2)
    assert [p.upvotes for p, _ in chosen] == [9, 7] and dropped == 0


# --- the batch index ----------------------------------------------------------------------------

_VOCAB = [
    "LLM", "large language models", "model merging", "pre-training", "pretraining", "RLHF", "diffusion",
    "speech", "speech recognition", "ASR", "graph neural network", "GNNs", "agents", "LLM agents", "MoE",
    "mixture of experts", "fine-tuning", "reasoning", "process reward", "vision transformer", "3D",
    "José", "大语言模型", "emerging", "benchmark", "survey", "medical", "robotics", "code generation",
]  # fmt: skip
_TEXT = [
    "we", "study", "Large", "language", "models", "LLMs", "merging", "merged", "model", "pre-trained",
    "pre", "training", "pretraining", "reinforcement", "learning", "from", "human", "feedback", "RLHF",
    "speech", "speechless", "recognition", "graph", "neural", "networks", "agentic", "agents", "José",
    "mixture-of-experts", "MoEs", "fine", "tuned", "reasoning", "process", "rewards", "reward", "vision",
    "transformers", "ViT", "3D", "大语言模型", "emerging", "benchmarks", "surveys", "medical", ".", ",",
]  # fmt: skip


def _random_corpus(rng: random.Random, n: int) -> list[Paper]:
    def text(k: int) -> str:
        return " ".join(rng.choice(_TEXT) for _ in range(k))

    return [
        paper(
            text(8),
            text(60),
            keywords=tuple(text(2) for _ in range(rng.randint(0, 4))),
            authors=tuple(rng.sample(["Yann LeCun", "José García", "Ann Lee", "Li Lei"], rng.randint(0, 3))),
            upvotes=rng.randint(0, 30),
            org_id=rng.choice(["", "nvidia", "meta"]),
            repo=rng.choice(["", "https://github.com/a/b"]),
        )
        for _ in range(n)
    ]


def _random_filter(rng: random.Random) -> ChannelFilter:
    parts = [f'"{t}"' for t in rng.sample(_VOCAB, rng.randint(0, 4))]
    parts += [f'-"{t}"' for t in rng.sample(_VOCAB, rng.randint(0, 1))]
    if rng.random() < 0.2:
        parts.append("org:nvidia")
    if rng.random() < 0.2:
        parts.append(f"author:{rng.choice(['lecun', 'jose', 'lee'])}")
    if rng.random() < 0.2:
        parts.append(f"min-upvotes:{rng.randint(1, 20)}")
    if rng.random() < 0.2:
        parts.append("has:code")
    return parse_filter(", ".join(parts))


def test_filter_index_agrees_with_match_paper() -> None:
    rng = random.Random(42)
    papers = _random_corpus(rng, 60)
    filters = {f"C{i}": _random_filter(rng) for i in range(150)}
    filters["C-empty"] = ChannelFilter()
    filters["C-same"] = filters["C0"]
    result = FilterIndex(filters).match(papers)
    assert set(result) == set(filters)
    total = 0
    for channel, f in filters.items():
        expected = [(p, r) for p in papers if (r := match_paper(f, p)) is not None]
        assert result[channel] == expected, channel
        total += len(expected)
    assert result["C-empty"] == [(p, MatchResult((), True)) for p in papers]
    assert 0 < total < len(papers) * len(filters)  # the corpus exercises both outcomes


def test_filter_index_with_no_channels_or_papers() -> None:
    assert FilterIndex({}).match([paper()]) == {}
    assert FilterIndex({"C": parse_filter("llm")}).match([]) == {"C": []}
