"""Turn whatever the student's function returned into data (JSON + arrays).

Keras models stay here behind an integer handle; the trusted side gets a ModelSpec.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

MAX_ARRAY_BYTES = 256 * 1024 * 1024
MAX_ITEMS = 10_000
MAX_DEPTH = 20

_LOSS_ALIASES = {
    "mse": "mean_squared_error", "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy", "huber_loss": "huber",
}


def snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return _LOSS_ALIASES.get(s, s)


class Describer:
    def __init__(self) -> None:
        self.handles: dict[int, Any] = {}
        self.arrays: list[np.ndarray] = []
        self._bytes = 0

    def reset_arrays(self) -> None:
        self.arrays = []
        self._bytes = 0

    def _array(self, arr: np.ndarray) -> dict[str, Any]:
        if arr.dtype.hasobject or arr.dtype.kind not in "biufc":
            return {"__t__": "opaque", "type_name": f"ndarray[{arr.dtype}]", "text": "array of non-numbers"}
        if self._bytes + arr.nbytes > MAX_ARRAY_BYTES:
            return {"__t__": "opaque", "type_name": "ndarray", "text": f"array too large {arr.shape}"}
        self._bytes += arr.nbytes
        self.arrays.append(arr.copy(order="C"))   # ascontiguousarray would make a 0-d array 1-d
        return {"__t__": "ndarray", "i": len(self.arrays) - 1}

    def describe(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return {"__t__": "opaque", "type_name": type(value).__name__, "text": "nested too deeply"}
        t = type(value)
        if value is None or t in (bool, int, float, str):
            return value[:100_000] if t is str else value
        if t is tuple or t is list:
            items = [self.describe(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
            return {"__t__": "tuple", "items": items} if t is tuple else items
        if t is dict:
            pairs = list(value.items())[:MAX_ITEMS]
            if all(type(k) is str for k, _ in pairs) and "__t__" not in value:
                return {k: self.describe(v, depth + 1) for k, v in pairs}
            return {"__t__": "dict", "items": [[str(k)[:200], self.describe(v, depth + 1)] for k, v in pairs]}
        if isinstance(value, np.ndarray) and t is np.ndarray:
            return self._array(value)
        if isinstance(value, np.generic):
            return self._array(np.asarray(value))
        return self._describe_tf(value)

    def _describe_tf(self, value: Any) -> Any:
        import keras
        import tensorflow as tf

        if isinstance(value, keras.Model):
            handle = len(self.handles) + 1
            self.handles[handle] = value
            return {"__t__": "model", "handle": handle, "spec": model_spec(value)}
        if isinstance(value, tf.Graph):
            return {"__t__": "graph", "is_graph": True, "ops": graph_ops(value)}
        if isinstance(value, (tf.Tensor, tf.Variable)):
            if hasattr(value, "numpy") and tf.executing_eagerly() and not _is_symbolic(value):
                try:
                    arr = np.asarray(value.numpy())
                    ref = self._array(arr)
                    if ref.get("__t__") != "ndarray":
                        return ref
                    return {"__t__": "tensor", "i": ref["i"], "dtype": value.dtype.name,
                            "device": str(getattr(value, "device", "") or "")}
                except Exception:  # noqa: BLE001 - a graph tensor has no value here
                    pass
            op = getattr(value, "op", None)
            return {"__t__": "graph_tensor", "name": str(getattr(value, "name", "")),
                    "op_name": str(getattr(op, "name", "")), "op_type": str(getattr(op, "type", "")),
                    "dtype": getattr(getattr(value, "dtype", None), "name", None)}
        if isinstance(value, tf.Operation):
            return {"__t__": "graph_tensor", "name": value.name, "op_name": value.name,
                    "op_type": value.type, "dtype": None}
        try:
            text = repr(value)[:300]
        except Exception:  # noqa: BLE001 - student objects may raise in __repr__
            text = "<repr failed>"
        return {"__t__": "opaque", "type_name": type(value).__name__[:200], "text": text}


def _is_symbolic(value: Any) -> bool:
    try:
        import tensorflow as tf
        return bool(tf.is_symbolic_tensor(value))
    except Exception:  # noqa: BLE001
        return hasattr(value, "graph") and not hasattr(value, "_numpy")


def graph_ops(graph: Any) -> list[dict[str, Any]]:
    ops = []
    for op in graph.get_operations()[:MAX_ITEMS]:
        dtype = None
        try:
            dtype = op.get_attr("dtype").name
        except Exception:  # noqa: BLE001 - not every op has a dtype attr
            if op.outputs:
                dtype = op.outputs[0].dtype.name
        ops.append({"name": op.name, "type": op.type, "dtype": dtype,
                    "inputs": [t.name for t in op.inputs]})
    return ops


def _shape(shape: Any) -> list[int | None] | None:
    try:
        return [None if d is None else int(d) for d in tuple(shape)]
    except Exception:  # noqa: BLE001
        return None


def _activation_name(fn: Any) -> str | None:
    if fn is None:
        return None
    return str(getattr(fn, "__name__", None) or type(fn).__name__)


def _tuple_attr(layer: Any, name: str) -> list[int] | None:
    v = getattr(layer, name, None)
    if v is None:
        return None
    if isinstance(v, int):
        return [v]
    try:
        return [int(x) for x in v]
    except Exception:  # noqa: BLE001
        return None


def layer_spec(layer: Any) -> dict[str, Any]:
    activation = getattr(layer, "activation", None)
    if type(layer).__name__ == "Activation":
        activation = getattr(layer, "activation", None)
    out_shape = None
    in_shape = None
    try:
        out_shape = _shape(layer.output.shape)
        in_shape = _shape(layer.input.shape)
    except Exception:  # noqa: BLE001 - unbuilt or subclassed
        pass
    try:
        params = int(layer.count_params())
    except Exception:  # noqa: BLE001
        params = 0
    return {
        "name": layer.name, "type": type(layer).__name__,
        "units": getattr(layer, "units", None) if isinstance(getattr(layer, "units", None), int) else None,
        "filters": getattr(layer, "filters", None) if isinstance(getattr(layer, "filters", None), int) else None,
        "kernel_size": _tuple_attr(layer, "kernel_size"), "strides": _tuple_attr(layer, "strides"),
        "pool_size": _tuple_attr(layer, "pool_size"), "activation": _activation_name(activation),
        "input_shape": in_shape, "output_shape": out_shape, "params": params,
    }


def _config_name(item: Any) -> str | None:
    if item is None:
        return None
    if isinstance(item, str):
        return snake(item)
    if isinstance(item, dict):
        cfg = item.get("config")
        if item.get("class_name") == "function" and isinstance(cfg, str):
            return snake(cfg)          # a plain function: keras.losses.binary_crossentropy
        if isinstance(cfg, dict) and isinstance(cfg.get("name"), str):
            return snake(cfg["name"])
        if isinstance(item.get("class_name"), str):
            return snake(item["class_name"])
    name = getattr(item, "name", None) or getattr(item, "__name__", None) or type(item).__name__
    return snake(str(name))


def _flatten_metrics(metrics: Any) -> list[str]:
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        metrics = list(metrics.values())
    if not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    names = []
    for m in metrics:
        if isinstance(m, (list, tuple)):
            names += _flatten_metrics(m)
        else:
            name = _config_name(m)
            if name:
                names.append(name)
    return names


def model_spec(model: Any) -> dict[str, Any]:
    import keras

    try:
        from keras.src.models.functional import Functional
    except ImportError:  # pragma: no cover - other Keras layouts
        Functional = ()  # noqa: N806
    if isinstance(model, keras.Sequential):
        kind = "sequential"
    elif Functional and isinstance(model, Functional) and type(model).__name__ in ("Functional", "Model"):
        kind = "functional"
    else:
        kind = "subclassed"
    layers = [layer_spec(layer) for layer in model.layers if type(layer).__name__ != "InputLayer"]
    try:
        n_params = int(model.count_params())
    except Exception:  # noqa: BLE001 - an unbuilt model has no weights yet
        n_params = sum(layer["params"] for layer in layers)
    in_shape = out_shape = None
    try:
        in_shape = _shape(model.input_shape)
    except Exception:  # noqa: BLE001
        pass
    try:
        out_shape = _shape(model.output_shape)
    except Exception:  # noqa: BLE001
        pass
    compiled = bool(getattr(model, "compiled", False))
    cfg: dict[str, Any] = {}
    if compiled:
        try:
            cfg = model.get_compile_config() or {}
        except Exception:  # noqa: BLE001
            cfg = {}
    optimizer = getattr(model, "optimizer", None) if compiled else None
    lr = None
    if optimizer is not None:
        try:
            lr = float(np.asarray(optimizer.learning_rate))
        except Exception:  # noqa: BLE001 - a schedule
            lr = None
    loss_weights = cfg.get("loss_weights")
    return {
        "class_kind": kind, "class_name": type(model).__name__, "layers": layers,
        "input_shape": in_shape, "output_shape": out_shape, "n_params": n_params,
        "compiled": compiled,
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "learning_rate": lr,
        "loss": _config_name(cfg.get("loss", getattr(model, "loss", None))) if compiled else None,
        "metrics": _flatten_metrics(cfg.get("metrics")) if compiled else [],
        "loss_weights": repr(loss_weights)[:200] if loss_weights is not None else None,
        "histories": list(getattr(model, "_tfgrade_histories", []))[-5:],
    }
