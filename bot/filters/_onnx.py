"""The weights of a BERT-style encoder exported to ONNX, read without an ONNX runtime.

Why not ``onnxruntime``: the related-papers extra needs one small sentence encoder (MiniLM, 6 layers)
whose forward pass is a few lines of numpy (``_encoder``). A runtime would add tens of MB and a
native wheel per platform to run the same matrix products. What we need from the file is its
*initializers* (the weight tensors) and enough of the graph to name them: an ``torch.onnx`` export
names biases after the PyTorch module (``encoder.layer.0.attention.self.query.bias``) but gives the
matching weight an anonymous name (``val_49``) consumed by ``MatMul(x, val_49)`` whose output feeds
``Add(…, <bias>)``. Weights quantised to int8 are ``Mul(Cast(w_q), w_scale)``. Both patterns are
followed here, so a float export and an int8 export read the same way.

The file is protobuf: fields are (number, wire type) keys followed by a varint, a fixed 4/8 bytes
or a length-prefixed payload; only the few ``ModelProto``/``GraphProto``/``TensorProto``/``NodeProto``
fields below are read, the rest skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["OnnxFormatError", "read_encoder_weights"]

Array = npt.NDArray[np.float32]

# ONNX TensorProto.DataType -> numpy dtype, for the types an encoder's initializers use.
_DTYPES: dict[int, type[np.generic]] = {1: np.float32, 3: np.int8, 6: np.int32, 7: np.int64, 9: np.bool_}
# Field numbers (onnx.proto3).
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER = 1, 5
_NODE_INPUT, _NODE_OUTPUT, _NODE_OP = 1, 2, 4
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_FLOATS, _TENSOR_NAME, _TENSOR_RAW = 1, 2, 4, 8, 9


class OnnxFormatError(ValueError):
    """The file is not an ONNX encoder this reader understands (what is wrong is in the message)."""


def _varint(data: memoryview, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(data):
            raise OnnxFormatError("truncated varint")
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7


def _fields(data: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """(field number, value): an int for varints, bytes for everything else."""
    i, end = 0, len(data)
    while i < end:
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        value: int | memoryview
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise OnnxFormatError(f"unsupported protobuf wire type {wire}")
        if i > end:
            raise OnnxFormatError("truncated field")
        yield number, value


def _text(value: int | memoryview) -> str:
    return bytes(value).decode() if isinstance(value, memoryview) else str(value)


def _tensor(data: memoryview) -> tuple[str, npt.NDArray[np.generic]]:
    name, dims, dtype, raw, floats = "", [], 0, b"", []
    for number, value in _fields(data):
        if number == _TENSOR_NAME:
            name = _text(value)
        elif number == _TENSOR_DIMS and isinstance(value, int):
            dims.append(value)
        elif number == _TENSOR_DIMS:  # packed repeated int64
            dims.extend(_packed_varints(value))
        elif number == _TENSOR_TYPE and isinstance(value, int):
            dtype = value
        elif number == _TENSOR_RAW and isinstance(value, memoryview):
            raw = bytes(value)
        elif number == _TENSOR_FLOATS and isinstance(value, memoryview):
            floats.append(bytes(value))  # packed repeated float
    if dtype not in _DTYPES:
        return name, np.zeros(0, np.float32)  # a type no encoder weight has: never looked up
    if raw:
        array = np.frombuffer(raw, dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<"))
    elif floats and dtype == 1:
        array = np.frombuffer(b"".join(floats), dtype="<f4")
    else:
        array = np.zeros(0, _DTYPES[dtype])
    if array.size != int(np.prod(dims, dtype=np.int64)):
        raise OnnxFormatError(f"tensor {name!r}: {array.size} values for shape {dims}")
    return name, array.reshape(dims)


def _packed_varints(value: int | memoryview) -> list[int]:
    if isinstance(value, int):
        return [value]
    out, i = [], 0
    while i < len(value):
        number, i = _varint(value, i)
        out.append(number)
    return out


def read_encoder_weights(path: Path) -> dict[str, Array]:
    """Every weight of the encoder as float32, named as in PyTorch (``embeddings.word_embeddings.weight``,
    ``encoder.layer.3.attention.self.query.weight`` …). Linear weights are ``[in, out]`` (``x @ w``).

    Raises ``OnnxFormatError`` (not a crash deep inside numpy) when the file is something else.
    """
    try:
        data = memoryview(Path(path).read_bytes())
    except OSError as exc:
        raise OnnxFormatError(f"cannot read the model file: {exc.strerror}") from None
    graph = next((v for n, v in _fields(data) if n == _MODEL_GRAPH and isinstance(v, memoryview)), None)
    if graph is None:
        raise OnnxFormatError("no graph in the file: not an ONNX model")
    tensors: dict[str, npt.NDArray[np.generic]] = {}
    nodes: list[tuple[str, list[str], list[str]]] = []
    for number, value in _fields(graph):
        if number == _GRAPH_INITIALIZER and isinstance(value, memoryview):
            name, array = _tensor(value)
            tensors[name] = array
        elif number == _GRAPH_NODE and isinstance(value, memoryview):
            op, inputs, outputs = "", [], []
            for field, item in _fields(value):
                if field == _NODE_OP:
                    op = _text(item)
                elif field == _NODE_INPUT:
                    inputs.append(_text(item))
                elif field == _NODE_OUTPUT:
                    outputs.append(_text(item))
            nodes.append((op, inputs, outputs))
    return _name_weights(tensors, nodes)


def _name_weights(
    tensors: dict[str, npt.NDArray[np.generic]], nodes: list[tuple[str, list[str], list[str]]]
) -> dict[str, Array]:
    values: dict[str, Array] = {
        name: array.astype(np.float32) for name, array in tensors.items() if array.dtype == np.float32
    }
    cast_of: dict[str, str] = {}  # output of Cast(int8 initializer) -> that initializer
    scales: set[str] = set()
    for op, inputs, outputs in nodes:  # dequantisation: Mul(Cast(w_q), scale)
        if op == "Cast" and inputs and inputs[0] in tensors and tensors[inputs[0]].dtype == np.int8:
            cast_of[outputs[0]] = inputs[0]
        elif op == "Mul" and len(inputs) == 2 and inputs[0] in cast_of and inputs[1] in values:
            values[outputs[0]] = tensors[cast_of[inputs[0]]].astype(np.float32) * values[inputs[1]]
            scales.add(inputs[1])
    adds = {inputs[0]: inputs[1] for op, inputs, _ in nodes if op == "Add" and len(inputs) == 2}
    named: dict[str, Array] = {}
    for op, inputs, outputs in nodes:
        if op == "MatMul" and len(inputs) == 2 and inputs[1] in values:
            bias = adds.get(outputs[0], "")
            if bias.endswith(".bias") and bias in values:
                named[bias.removesuffix(".bias") + ".weight"] = values[inputs[1]]
    named.update((name, array) for name, array in values.items() if "." in name and name not in scales)
    prefix = _common_prefix(named)
    return {name.removeprefix(prefix): array for name, array in named.items()}


def _common_prefix(named: dict[str, Array]) -> str:
    """``inner.`` or ``bert.`` in front of every name (wrappers add one); stripped so names are stable."""
    anchor = next((n for n in named if n.endswith("embeddings.word_embeddings.weight")), None)
    if anchor is None:
        raise OnnxFormatError("no word embeddings in the model: not a BERT-style encoder")
    return anchor.removesuffix("embeddings.word_embeddings.weight")
