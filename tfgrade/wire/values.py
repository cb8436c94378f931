"""Plain values on the wire: the tags, and their encoding and decoding, in one place.

A value travels as JSON in a frame's header, with its arrays beside it in the frame
(tfgrade.wire.framing). What JSON cannot say is a tagged object `{"__t__": TAG, ...}`:

- arguments (trusted side -> child): `encode_args` / `decode_args` (ndarray, tuple, list,
  dict with string keys, scalars);
- replies (child or clean process -> trusted side): the sandbox's `Describer` writes them
  with the builders below (`ndarray_ref`, `tuple_value`, `dict_value`, `opaque`, and the
  artifact references `model_ref`, `graph_ref`, `tensor_ref`, `graph_tensor_ref`);
  `decode_reply` reads them back defensively (anything unexpected is a ProtocolError) and
  hands each reference, parsed and capped, to a callback: the trusted side builds its own
  typed values (ModelHandle, GraphSpec...) from those.

Numpy only: both sides import this module; it imports neither side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfgrade.errors import ProtocolError

TAG = "__t__"

NDARRAY = "ndarray"            # {"__t__": "ndarray", "i": index of the frame's array}
TUPLE = "tuple"                # {"__t__": "tuple", "items": [...]}
DICT = "dict"                  # {"__t__": "dict", "items": [[key, value], ...]} (non-string keys, or a key "__t__")
OPAQUE = "opaque"              # {"__t__": "opaque", "type_name": ..., "text": ...}
MODEL = "model"                # {"__t__": "model", "archive": ndarray ref | None, "histories", "save_error", "probe"}
GRAPH = "graph"                # {"__t__": "graph", "graphdef": ndarray ref | None, "error"}
TENSOR = "tensor"              # {"__t__": "tensor", "i", "dtype", "device"}
GRAPH_TENSOR = "graph_tensor"  # {"__t__": "graph_tensor", "name", "op_name", "op_type", "dtype"}

VALUE_TAGS = frozenset({NDARRAY, TUPLE, DICT, OPAQUE, MODEL, GRAPH, TENSOR, GRAPH_TENSOR})
REFERENCE_TAGS = frozenset({OPAQUE, MODEL, GRAPH, TENSOR, GRAPH_TENSOR})

MAX_ITEMS = 100_000            # longest list the trusted side reads back
MAX_HISTORIES = 5              # training histories kept with a model


def tag_of(value: Any) -> str | None:
    """The tag of a tagged object, else None (plain dicts, lists, scalars)."""
    if isinstance(value, dict):
        tag = value.get(TAG)
        return tag if isinstance(tag, str) else None
    return None


# -- arguments: trusted side -> child ----------------------------------------------------------
def encode_args(value: Any, arrays: list[np.ndarray]) -> Any:
    """`value` as JSON; every ndarray appended to `arrays` and referenced by its index.
    TypeError for anything that is not plain data."""
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return ndarray_ref(len(arrays) - 1)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple_value([encode_args(v, arrays) for v in value])
    if isinstance(value, list):
        return [encode_args(v, arrays) for v in value]
    if isinstance(value, dict):
        return {str(k): encode_args(v, arrays) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot send {type(value).__name__} to the sandbox")


def decode_args(value: Any, arrays: tuple[np.ndarray, ...]) -> Any:
    """What `encode_args` wrote, back as Python values (in the child: the sender is trusted)."""
    if isinstance(value, list):
        return [decode_args(v, arrays) for v in value]
    if isinstance(value, dict):
        tag = value.get(TAG)
        if tag == NDARRAY:
            return arrays[int(value["i"])]
        if tag == TUPLE:
            return tuple(decode_args(v, arrays) for v in value["items"])
        return {k: decode_args(v, arrays) for k, v in value.items()}
    return value


# -- replies: the builders (sandbox side) -----------------------------------------------------
def ndarray_ref(index: int) -> dict[str, Any]:
    return {TAG: NDARRAY, "i": index}


def tuple_value(items: list[Any]) -> dict[str, Any]:
    return {TAG: TUPLE, "items": items}


def dict_value(pairs: list[list[Any]]) -> dict[str, Any]:
    return {TAG: DICT, "items": pairs}


def opaque(type_name: str, text: str) -> dict[str, Any]:
    return {TAG: OPAQUE, "type_name": type_name, "text": text}


def model_ref(archive: dict[str, Any] | None, histories: list[Any], save_error: str | None,
              probe: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Keras model as its `.keras` archive (an ndarray ref of uint8 bytes), or None and
    why (`save_error`); `probe`: the model's outputs on the behaviour probe (an ndarray ref)."""
    out: dict[str, Any] = {TAG: MODEL, "archive": archive, "histories": histories, "save_error": save_error}
    if archive is not None:
        out["probe"] = probe
    return out


def graph_ref(graphdef: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    """A tf.Graph as its serialized GraphDef (an ndarray ref of uint8 bytes), or None and why."""
    return {TAG: GRAPH, "graphdef": graphdef, "error": error}


def tensor_ref(index: int, dtype: str, device: str) -> dict[str, Any]:
    return {TAG: TENSOR, "i": index, "dtype": dtype, "device": device}


def graph_tensor_ref(name: str, op_name: str, op_type: str, dtype: str | None) -> dict[str, Any]:
    return {TAG: GRAPH_TENSOR, "name": name, "op_name": op_name, "op_type": op_type, "dtype": dtype}


# -- replies: the decoder (trusted side) ------------------------------------------------------
@dataclass(frozen=True)
class OpaqueRef:
    type_name: str
    text: str


@dataclass(frozen=True)
class TensorRef:
    array: np.ndarray
    dtype: str
    device: str


@dataclass(frozen=True)
class GraphTensorRef:
    name: str
    op_name: str
    op_type: str
    dtype: str | None


@dataclass(frozen=True)
class ModelRef:
    archive: bytes | None
    histories: tuple[dict[str, Any], ...]     # raw history dicts, as sent (at most MAX_HISTORIES)
    save_error: str | None
    probe: np.ndarray | None


@dataclass(frozen=True)
class GraphRef:
    graphdef: bytes | None
    error: str | None


Reference = OpaqueRef | TensorRef | GraphTensorRef | ModelRef | GraphRef


def _str(v: Any, limit: int = 500) -> str:
    return str(v)[:limit] if v is not None else ""


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _array(value: dict[str, Any], arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    return arrays[int(value["i"])]


def _bytes_of(value: Any, arrays: tuple[np.ndarray, ...]) -> bytes | None:
    """The bytes an artifact reference points at: a uint8 vector, else ProtocolError."""
    if tag_of(value) != NDARRAY:
        return None
    arr = _array(value, arrays)
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise ProtocolError("artifact bytes are not a uint8 vector")
    return arr.tobytes()


def parse_reference(tag: str, value: dict[str, Any], arrays: tuple[np.ndarray, ...]) -> Reference:
    """One artifact reference or opaque value, parsed and capped (KeyError, IndexError,
    TypeError, ValueError when it is malformed; `decode_reply` makes those ProtocolErrors)."""
    if tag == TENSOR:
        return TensorRef(_array(value, arrays), _str(value.get("dtype"), 40), _str(value.get("device"), 200))
    if tag == MODEL:
        hist = tuple(h for h in _list(value.get("histories"))[:MAX_HISTORIES] if isinstance(h, dict))
        error = value.get("save_error")
        probe = value.get("probe")
        probe_out = _array(probe, arrays) if isinstance(probe, dict) and tag_of(probe) == NDARRAY else None
        return ModelRef(_bytes_of(value.get("archive"), arrays), hist,
                        _str(error, 600) if error is not None else None, probe_out)
    if tag == GRAPH:
        error = value.get("error")
        return GraphRef(_bytes_of(value.get("graphdef"), arrays), _str(error, 400) if error is not None else None)
    if tag == GRAPH_TENSOR:
        return GraphTensorRef(_str(value.get("name")), _str(value.get("op_name")),
                              _str(value.get("op_type"), 100), _str(value.get("dtype"), 40) or None)
    if tag == OPAQUE:
        return OpaqueRef(_str(value.get("type_name"), 200), _str(value.get("text"), 500))
    raise ProtocolError(f"unknown value tag {tag!r}")


def decode_reply(value: Any, arrays: tuple[np.ndarray, ...], reference: Callable[[Reference], Any]) -> Any:
    """Rebuild a described value: scalars, lists, dicts, tuples and arrays as themselves;
    each reference (model, graph, tensor, graph tensor, opaque) parsed and replaced by what
    `reference` makes of it. Anything unexpected is a ProtocolError (so is a KeyError,
    IndexError, TypeError, ValueError or AttributeError that `reference` raises)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ProtocolError("list too long")
        return [decode_reply(v, arrays, reference) for v in value]
    if not isinstance(value, dict):
        raise ProtocolError(f"unexpected value {type(value).__name__}")
    tag = value.get(TAG)
    if tag is None:
        return {str(k): decode_reply(v, arrays, reference) for k, v in value.items()}
    try:
        if tag == NDARRAY:
            return _array(value, arrays)
        if tag == TUPLE:
            return tuple(decode_reply(v, arrays, reference) for v in value["items"])
        if tag == DICT:
            return {str(k): decode_reply(v, arrays, reference) for k, v in value["items"]}
        if tag in REFERENCE_TAGS:
            return reference(parse_reference(tag, value, arrays))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ProtocolError(f"bad {tag!r} value ({type(exc).__name__})") from None
    raise ProtocolError(f"unknown value tag {tag!r}")
