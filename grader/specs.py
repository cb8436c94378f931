"""What the sandbox returns, as typed data on the trusted side.

The sandbox describes every value (a Keras model, a tf.Graph, a tensor) as JSON + arrays;
these classes are built from that description by `from_wire`. None of them can execute
anything: a model is a handle whose predictions are asked for over the channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ProtocolError


def _opt_int(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _shape(v: Any) -> tuple[int | None, ...] | None:
    if not isinstance(v, list):
        return None
    return tuple(_opt_int(d) for d in v)


def _ints(v: Any) -> tuple[int, ...] | None:
    if not isinstance(v, list):
        return None
    return tuple(int(d) for d in v if isinstance(d, (int, float)))


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _str(v: Any, limit: int = 500) -> str:
    return str(v)[:limit] if v is not None else ""


@dataclass(frozen=True)
class LayerSpec:
    name: str
    type: str
    units: int | None = None
    filters: int | None = None
    kernel_size: tuple[int, ...] | None = None
    strides: tuple[int, ...] | None = None
    pool_size: tuple[int, ...] | None = None
    activation: str | None = None
    input_shape: tuple[int | None, ...] | None = None
    output_shape: tuple[int | None, ...] | None = None
    params: int = 0

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> LayerSpec:
        return cls(
            name=_str(d.get("name")), type=_str(d.get("type"), 100), units=_opt_int(d.get("units")),
            filters=_opt_int(d.get("filters")), kernel_size=_ints(d.get("kernel_size")),
            strides=_ints(d.get("strides")), pool_size=_ints(d.get("pool_size")),
            activation=_str(d.get("activation"), 100) or None,
            input_shape=_shape(d.get("input_shape")), output_shape=_shape(d.get("output_shape")),
            params=_opt_int(d.get("params")) or 0,
        )

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ModelSpec:
    class_kind: str                      # sequential | functional | subclassed
    class_name: str
    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int | None, ...] | None
    output_shape: tuple[int | None, ...] | None
    n_params: int
    compiled: bool
    optimizer: str | None = None
    learning_rate: float | None = None
    loss: str | None = None
    metrics: tuple[str, ...] = ()
    loss_weights: str | None = None
    histories: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> ModelSpec:
        lr = d.get("learning_rate")
        raw_hist = d.get("histories")
        hist: list[Any] = raw_hist if isinstance(raw_hist, list) else []
        return cls(
            class_kind=_str(d.get("class_kind"), 20), class_name=_str(d.get("class_name"), 200),
            layers=tuple(LayerSpec.from_wire(x) for x in _list(d.get("layers")) if isinstance(x, dict)),
            input_shape=_shape(d.get("input_shape")), output_shape=_shape(d.get("output_shape")),
            n_params=_opt_int(d.get("n_params")) or 0, compiled=d.get("compiled") is True,
            optimizer=_str(d.get("optimizer"), 100) or None,
            learning_rate=float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None,
            loss=_str(d.get("loss"), 200) or None,
            metrics=tuple(_str(m, 100) for m in _list(d.get("metrics")) if isinstance(m, str)),
            loss_weights=_str(d.get("loss_weights"), 200) if d.get("loss_weights") is not None else None,
            histories=tuple(_history(h) for h in hist if isinstance(h, dict)),
        )

    @property
    def dense_layers(self) -> tuple[LayerSpec, ...]:
        return tuple(layer for layer in self.layers if layer.type == "Dense")

    def summary_rows(self) -> list[dict[str, Any]]:
        return [layer.to_json() for layer in self.layers]


def _history(h: dict[str, Any]) -> dict[str, Any]:
    curves: dict[str, list[float]] = {}
    raw = h.get("curves")
    if isinstance(raw, dict):
        for name, values in list(raw.items())[:20]:
            if isinstance(values, list):
                curves[_str(name, 60)] = [float(v) for v in values[:10000] if isinstance(v, (int, float))]
    return {"epochs": _opt_int(h.get("epochs")) or 0, "curves": curves}


@dataclass(frozen=True)
class ModelHandle:
    """A model that stays in the sandbox; `predict` asks the sandbox for outputs."""

    handle: int
    spec: ModelSpec
    _predict: Callable[[int, np.ndarray], np.ndarray] = field(repr=False, compare=False)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._predict(self.handle, np.asarray(x))


@dataclass(frozen=True)
class OpSpec:
    name: str
    type: str
    dtype: str | None
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class GraphSpec:
    is_graph: bool
    ops: tuple[OpSpec, ...]

    def op(self, name: str) -> OpSpec | None:
        return next((o for o in self.ops if o.name == name), None)


@dataclass(frozen=True)
class GraphTensorSpec:
    name: str
    op_name: str
    op_type: str
    dtype: str | None


@dataclass(frozen=True)
class TensorValue:
    array: np.ndarray
    dtype: str
    device: str


@dataclass(frozen=True)
class OpaqueValue:
    """Something the sandbox could not describe as data: only its type name and a short text."""

    type_name: str
    text: str


MAX_ITEMS = 100_000


def from_wire(value: Any, arrays: tuple[np.ndarray, ...],
              predict: Callable[[int, np.ndarray], np.ndarray]) -> Any:
    """Rebuild a described value. Anything unexpected is a ProtocolError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ProtocolError("list too long")
        return [from_wire(v, arrays, predict) for v in value]
    if not isinstance(value, dict):
        raise ProtocolError(f"unexpected value {type(value).__name__}")
    tag = value.get("__t__")
    if tag is None:
        return {str(k): from_wire(v, arrays, predict) for k, v in value.items()}
    try:
        if tag == "ndarray":
            return arrays[int(value["i"])]
        if tag == "tuple":
            return tuple(from_wire(v, arrays, predict) for v in value["items"])
        if tag == "dict":
            return {str(k): from_wire(v, arrays, predict) for k, v in value["items"]}
        if tag == "tensor":
            return TensorValue(arrays[int(value["i"])], _str(value.get("dtype"), 40),
                               _str(value.get("device"), 200))
        if tag == "model":
            return ModelHandle(int(value["handle"]), ModelSpec.from_wire(value["spec"]), predict)
        if tag == "graph":
            ops = tuple(OpSpec(_str(o.get("name")), _str(o.get("type"), 100),
                               _str(o.get("dtype"), 40) or None,
                               tuple(_str(i) for i in o.get("inputs", [])[:64]))
                        for o in value.get("ops", [])[:MAX_ITEMS] if isinstance(o, dict))
            return GraphSpec(value.get("is_graph") is True, ops)
        if tag == "graph_tensor":
            return GraphTensorSpec(_str(value.get("name")), _str(value.get("op_name")),
                                   _str(value.get("op_type"), 100), _str(value.get("dtype"), 40) or None)
        if tag == "opaque":
            return OpaqueValue(_str(value.get("type_name"), 200), _str(value.get("text"), 500))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ProtocolError(f"bad {tag!r} value ({type(exc).__name__})") from None
    raise ProtocolError(f"unknown value tag {tag!r}")
