"""What the sandbox returns, as typed data on the trusted side.

The student's child describes plain values (numbers, arrays, tensors) as JSON + arrays and
exports a Keras model as its archive and a tf.Graph as its GraphDef; `from_wire` rebuilds
the plain values and hands the artifacts to a `Resolver`, which verifies them (allow-list on
this side, then a clean process). None of these classes can execute anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from tfgrade.i18n import Msg
from tfgrade.wire import values


def _opt_int(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


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
    """A returned model, verified: its spec comes from its archive's config (checked on this
    side) and from a clean process's count of its weights; `predict` runs in that clean
    process on the same archive. The student's own Python object never answers."""

    spec: ModelSpec
    archive: bytes = field(repr=False)
    _predict: Callable[[bytes, np.ndarray], np.ndarray] = field(repr=False, compare=False)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._predict(self.archive, np.asarray(x))


@dataclass(frozen=True)
class UnverifiableModel:
    """A model came back but cannot be verified (refused archive, failed save or load):
    `msg` says why, to the student, in both languages; it scores as no model."""

    reason: str
    msg: Msg
    histories: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class OpSpec:
    name: str
    type: str
    dtype: str | None
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class GraphSpec:
    """A returned tf.Graph, as the clean process found it after importing its GraphDef.
    `refused` says why it could not be imported (then `ops` is empty)."""

    is_graph: bool
    ops: tuple[OpSpec, ...]
    refused: Msg | None = None
    _run: Callable[[str, dict[str, Any]], np.ndarray] | None = field(default=None, repr=False, compare=False)

    def op(self, name: str) -> OpSpec | None:
        return next((o for o in self.ops if o.name == name), None)

    def run(self, fetch: str, feeds: dict[str, Any]) -> np.ndarray:
        """Evaluate `fetch` in the clean process's own Session with these feeds."""
        if self._run is None:
            raise RuntimeError("this graph cannot be run")
        return self._run(fetch, feeds)


@dataclass(frozen=True)
class TracedRun:
    """A traced function executed by the clean process: its result, where the result
    lives, the matrix products its graph asks for (None when the graph loops, so that only
    timing can tell), and this process's own timing."""

    array: np.ndarray
    device: str
    products: int | None
    loops: bool
    seconds: float
    uses_input: bool = True     # M enters the graph (False: the result was computed outside TF)


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


MAX_ITEMS = values.MAX_ITEMS


class Resolver(Protocol):
    """Turns exported artifacts into verified values (StudentProxy implements it)."""

    def model(self, archive: bytes | None, histories: tuple[dict[str, Any], ...],
              save_error: str | None, probe: np.ndarray | None) -> ModelHandle | UnverifiableModel: ...

    def graph(self, graphdef: bytes | None, error: str | None) -> GraphSpec: ...


def _typed(ref: values.Reference, resolver: Resolver) -> Any:
    """The trusted side's own value for one reference the sandbox sent."""
    if isinstance(ref, values.TensorRef):
        return TensorValue(ref.array, ref.dtype, ref.device)
    if isinstance(ref, values.ModelRef):
        return resolver.model(ref.archive, tuple(_history(h) for h in ref.histories), ref.save_error, ref.probe)
    if isinstance(ref, values.GraphRef):
        return resolver.graph(ref.graphdef, ref.error)
    if isinstance(ref, values.GraphTensorRef):
        return GraphTensorSpec(ref.name, ref.op_name, ref.op_type, ref.dtype)
    return OpaqueValue(ref.type_name, ref.text)


def from_wire(value: Any, arrays: tuple[np.ndarray, ...], resolver: Resolver) -> Any:
    """Rebuild a described value (tfgrade.wire.values). Anything unexpected is a ProtocolError."""
    return values.decode_reply(value, arrays, lambda ref: _typed(ref, resolver))
