"""Filter vocabulary: limits, the abbreviation table, text normalisation, stemming and the variants
of a phrase. Pure; see ``bot.filters`` for how matching uses them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def _build_groups() -> dict[str, tuple[_Phrase, ...]]:
    groups: dict[str, tuple[_Phrase, ...]] = {}
    for abbr, spelled in ABBREVIATIONS.items():
        merged: dict[str, _Phrase] = {}
        for text in (abbr, *spelled):
            phrase = tuple(words_of(text))
            for member in groups.get(phrase_key(phrase), (phrase,)):
                merged[phrase_key(member)] = member
        for key in merged:
            groups[key] = tuple(merged.values())
    return groups


_GROUPS = _build_groups()  # stem key of each form -> every form of its abbreviation
_GROUP_STARTS: dict[str, list[_Phrase]] = {}  # first stem -> stem keys starting with it, split
for _stems in (tuple(key.split()) for key in _GROUPS):
    _GROUP_STARTS.setdefault(_stems[0], []).append(_stems)


def phrase_variants(words: _Phrase, limit: int = 32) -> list[_Phrase]:
    """The phrase with every abbreviation span swapped for its other forms (both ways)."""
    stems = tuple(stem(w) for w in words)
    memo: dict[int, list[_Phrase]] = {len(words): [()]}

    def tail(i: int) -> list[_Phrase]:
        if i not in memo:
            out = [(words[i], *rest) for rest in tail(i + 1)]
            for member in _GROUP_STARTS.get(stems[i], ()):
                end = i + len(member)
                if stems[i:end] == member:
                    for alt in _GROUPS[" ".join(member)]:
                        if phrase_key(alt) != " ".join(member):
                            out.extend((*alt, *rest) for rest in tail(end))
            memo[i] = out[:limit]
        return memo[i]

    return list({phrase_key(v): v for v in tail(0)}.values())
