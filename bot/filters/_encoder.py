"""A sentence encoder (BERT-style, post-LayerNorm, as all-MiniLM-L6-v2) in numpy: texts -> unit vectors.

Why numpy: one forward pass of a 6-layer, 384-wide encoder is a dozen matrix products per layer,
and numpy's BLAS does them as fast as a runtime would on one core (``bench/bench_semantic.py``).
The steps are the model's own (sentence-transformers): token + position + segment embeddings,
LayerNorm, then per layer self-attention and a GELU feed-forward block, each followed by a residual
LayerNorm; the sentence vector is the mean of the token vectors (padding left out), L2-normalised so
that a dot product is the cosine similarity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from bot.filters._wordpiece import WordPiece

__all__ = ["Encoder"]

Array = npt.NDArray[np.float32]
_EPS = 1e-12  # BERT's LayerNorm epsilon
_BATCH = 16  # texts per forward pass: padding waste stays small, matrices stay in cache


def _layer_norm(x: Array, weight: Array, bias: Array) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + _EPS) * weight + bias


def _erf(x: Array) -> Array:
    """Abramowitz & Stegun 7.1.26 (error < 1.5e-7, below float32 noise); numpy has no erf."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


def _gelu(x: Array) -> Array:
    """BERT's exact GELU, x·Φ(x), not the tanh approximation: the weights were trained with it."""
    return 0.5 * x * (1.0 + _erf(x * np.float32(1.0 / math.sqrt(2.0))))


class Encoder:
    """Weights as ``_onnx.read_encoder_weights`` names them; ``head_size`` is the attention head width,
    which the weights do not record: by default the hidden size over 12 heads, as in MiniLM (32),
    BERT-base, bge-small and e5-small."""

    def __init__(
        self,
        weights: Mapping[str, Array],
        tokenizer: WordPiece,
        *,
        head_size: int | None = None,
        max_length: int = 128,
    ) -> None:
        def get(name: str) -> Array:
            if name not in weights:
                raise ValueError(f"the model has no weight {name!r}")
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        self.tokenizer = tokenizer
        # The largest table (30k x 384) kept in half precision: 23 MB instead of 47 MB resident, and
        # a token vector differs by < 1e-3 relative, far below what moves a cosine similarity.
        self.words = get("embeddings.word_embeddings.weight").astype(np.float16)
        self.positions = get("embeddings.position_embeddings.weight")
        self.segment = get("embeddings.token_type_embeddings.weight")[0]
        self.norm = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        if len(tokenizer) > self.words.shape[0]:
            raise ValueError(f"the vocabulary has {len(tokenizer)} tokens, the model {self.words.shape[0]}")
        self.width = self.words.shape[1]
        head_size = head_size or self.width // 12
        if not head_size or self.width % head_size:
            raise ValueError(f"hidden size {self.width} is not a multiple of the head size {head_size}")
        self.heads, self.head_size = self.width // head_size, head_size
        self.max_length = min(max_length, self.positions.shape[0])
        self.layers = []
        n = 0
        while f"encoder.layer.{n}.attention.self.query.weight" in weights:
            p = f"encoder.layer.{n}."
            qkv = np.concatenate([get(p + f"attention.self.{m}.weight") for m in ("query", "key", "value")], axis=1)
            qkv_bias = np.concatenate([get(p + f"attention.self.{m}.bias") for m in ("query", "key", "value")])
            self.layers.append(
                (
                    qkv,
                    qkv_bias,
                    get(p + "attention.output.dense.weight"),
                    get(p + "attention.output.dense.bias"),
                    get(p + "attention.output.LayerNorm.weight"),
                    get(p + "attention.output.LayerNorm.bias"),
                    get(p + "intermediate.dense.weight"),
                    get(p + "intermediate.dense.bias"),
                    get(p + "output.dense.weight"),
                    get(p + "output.dense.bias"),
                    get(p + "output.LayerNorm.weight"),
                    get(p + "output.LayerNorm.bias"),
                )
            )
            n += 1
        if not self.layers:
            raise ValueError("the model has no encoder layers")

    def encode(self, texts: Sequence[str]) -> Array:
        """One unit vector per text, ``[len(texts), width]``; shortest texts batched together."""
        ids = [self.tokenizer.encode(t, self.max_length) for t in texts]
        out = np.zeros((len(texts), self.width), np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> Array:
        size, length = len(batch), max(len(ids) for ids in batch)
        tokens = np.full((size, length), self.tokenizer.pad, np.int64)
        mask = np.zeros((size, length), np.float32)
        for row, ids in enumerate(batch):
            tokens[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        x = self.words[tokens].astype(np.float32) + self.positions[:length] + self.segment
        x = _layer_norm(x, *self.norm)
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padding gets no attention
        scale = np.float32(1.0 / math.sqrt(self.head_size))
        h, d = self.heads, self.head_size
        for qkv, qkv_b, out_w, out_b, ln1_w, ln1_b, up_w, up_b, down_w, down_b, ln2_w, ln2_b in self.layers:
            q, k, v = np.split((x @ qkv + qkv_b).reshape(size, length, 3 * h, d).transpose(0, 2, 1, 3), 3, axis=1)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(size, length, self.width)
            x = _layer_norm(context @ out_w + out_b + x, ln1_w, ln1_b)
            x = _layer_norm(_gelu(x @ up_w + up_b) @ down_w + down_b + x, ln2_w, ln2_b)
        pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
