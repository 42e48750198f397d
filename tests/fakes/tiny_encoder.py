"""A tiny BERT-style encoder written as an ONNX file, in the shape of the real int8 export.

Why a file and not weights handed over in memory: the reader (``bot.filters._onnx``) is part of what
is tested. The file is written with our own protobuf encoder (no ``onnx`` package): initializers for
biases and LayerNorms named after the PyTorch modules under a wrapper prefix, linear weights stored
as int8 + per-column scale and dequantised by ``Cast``/``Mul`` nodes, and ``MatMul(x, w)`` nodes
whose output feeds ``Add(…, <module>.bias)``, exactly the patterns of all-MiniLM-L6-v2's export.
Only numpy is needed, so tests using it skip without the ``semantic`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

PREFIX = "inner."
VOCABULARY = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "agent",
    "##s",
    "robot",
    "memory",
    "reward",
    "model",
    "video",
    "language",
    "large",
    "tool",
    "use",
    "planning",
    "grasp",
    "arm",
    ",",
    ".",
    "the",
    "of",
    "keywords",
    ":",
]


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _tensor(name: str, array: Any) -> bytes:
    import numpy as np

    types = {np.dtype(np.float32): 1, np.dtype(np.int8): 3, np.dtype(np.int64): 7}
    out = b"".join(_field(1, int(d)) for d in array.shape)
    out += _field(2, types[array.dtype]) + _field(8, name.encode())
    return out + _field(9, np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())


def _node(op: str, inputs: Sequence[str], outputs: Sequence[str]) -> bytes:
    out = b"".join(_field(1, i.encode()) for i in inputs) + b"".join(_field(2, o.encode()) for o in outputs)
    return out + _field(4, op.encode())


def tiny_weights(width: int = 8, layers: int = 2, seed: int = 7, vocabulary: int = len(VOCABULARY)) -> dict[str, Any]:
    """Random weights (float32) named as ``read_encoder_weights`` returns them; small enough that int8
    quantisation keeps them recognisable."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def r(*shape: int) -> Any:
        return (rng.standard_normal(shape) * 0.5).astype(np.float32)

    w: dict[str, Any] = {
        "embeddings.word_embeddings.weight": r(vocabulary, width),
        "embeddings.position_embeddings.weight": r(32, width) * np.float32(0.1),
        "embeddings.token_type_embeddings.weight": r(2, width) * np.float32(0.1),
        "embeddings.LayerNorm.weight": 1 + r(width) * np.float32(0.1),
        "embeddings.LayerNorm.bias": r(width) * np.float32(0.1),
    }
    for n in range(layers):
        p = f"encoder.layer.{n}."
        for name, (rows, cols) in {
            "attention.self.query": (width, width),
            "attention.self.key": (width, width),
            "attention.self.value": (width, width),
            "attention.output.dense": (width, width),
            "intermediate.dense": (width, 4 * width),
            "output.dense": (4 * width, width),
        }.items():
            w[p + name + ".weight"] = r(rows, cols)
            w[p + name + ".bias"] = r(cols) * np.float32(0.1)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + norm + ".weight"] = 1 + r(width) * np.float32(0.1)
            w[p + norm + ".bias"] = r(width) * np.float32(0.1)
    return w


def quantised(array: Any) -> tuple[Any, Any]:
    """int8 values and a per-output-column scale, as the export stores linear weights."""
    import numpy as np

    scale = np.maximum(np.abs(array).max(axis=0, keepdims=True), 1e-8) / 127.0
    return np.round(array / scale).astype(np.int8), scale.astype(np.float32)


def write_tiny_encoder(path: Path, weights: dict[str, Any]) -> dict[str, Any]:
    """Write ``weights`` as an int8 ONNX export; returns the weights as the file holds them
    (dequantised), which is what a reader must get back."""
    import numpy as np

    initializers: list[bytes] = []
    nodes: list[bytes] = []
    stored: dict[str, Any] = {}
    counter = iter(range(100, 10_000))
    x = "hidden"
    for name, array in weights.items():
        linear = name.endswith(".weight") and array.ndim == 2 and "embeddings" not in name
        if name.startswith("embeddings.") and name.endswith("_embeddings.weight") and "token_type" not in name:
            q, scale = quantised(array.T)  # embeddings: one scale per row, as in the export
            q, scale = q.T, scale.T
            full = PREFIX + name
            initializers += [_tensor(full + "_q", q), _tensor(full + "_scale", scale)]
            nodes += [_node("Cast", [full + "_q"], [full + "_f"]), _node("Mul", [full + "_f", full + "_scale"], [full])]
            stored[name] = q.astype(np.float32) * scale
        elif linear:
            anonymous = f"val_{next(counter)}"
            q, scale = quantised(array)
            initializers += [_tensor(anonymous + "_q", q), _tensor(anonymous + "_scale", scale)]
            out = f"val_{next(counter)}"
            nodes += [
                _node("Cast", [anonymous + "_q"], [anonymous + "_f"]),
                _node("Mul", [anonymous + "_f", anonymous + "_scale"], [anonymous]),
                _node("MatMul", [x, anonymous], [out]),
                _node("Add", [out, PREFIX + name.removesuffix(".weight") + ".bias"], [f"linear_{next(counter)}"]),
            ]
            stored[name] = q.astype(np.float32) * scale
        else:
            initializers.append(_tensor(PREFIX + name, array.astype(np.float32)))
            stored[name] = array.astype(np.float32)
    # Constants every export carries and a reader must skip: an int64 shape and a float scalar.
    initializers += [_tensor("val_55", np.array([4], np.int64)), _tensor("val_88", np.array(0.42, np.float32))]
    graph = b"".join(_field(1, n) for n in nodes) + _field(2, b"main_graph")
    graph += b"".join(_field(5, t) for t in initializers)
    model = _field(1, 10) + _field(2, b"pytorch") + _field(7, graph) + _field(8, _field(2, 17))
    path.write_bytes(model)
    return stored


def write_vocabulary(path: Path, tokens: Sequence[str] = VOCABULARY) -> None:
    path.write_text("\n".join(tokens) + "\n", encoding="utf-8")
