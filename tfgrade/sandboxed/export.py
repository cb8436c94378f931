"""Turn whatever the student's function returned into data (JSON + arrays).

A Keras model travels as its `.keras` archive and a tf.Graph as its GraphDef: artifacts
that the trusted side checks and a clean process inspects. Nothing this process says about
them (a self-description, counters) carries points.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from tfgrade.wire import values

MAX_ARRAY_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_GRAPHDEF_BYTES = 16 * 1024 * 1024
MAX_ITEMS = 10_000
MAX_DEPTH = 20


class Describer:
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.models_saved = 0          # names each archive file uniquely within this child
        self.arrays: list[np.ndarray] = []
        self._bytes = 0

    def reset_arrays(self) -> None:
        self.arrays = []
        self._bytes = 0

    def _array(self, arr: np.ndarray) -> dict[str, Any]:
        if arr.dtype.hasobject or arr.dtype.kind not in "biufc":
            return values.opaque(f"ndarray[{arr.dtype}]", "array of non-numbers")
        if self._bytes + arr.nbytes > MAX_ARRAY_BYTES:
            return values.opaque("ndarray", f"array too large {arr.shape}")
        self._bytes += arr.nbytes
        self.arrays.append(arr.copy(order="C"))   # ascontiguousarray would make a 0-d array 1-d
        return values.ndarray_ref(len(self.arrays) - 1)

    def describe(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return values.opaque(type(value).__name__, "nested too deeply")
        t = type(value)
        if value is None or t in (bool, int, float, str):
            return value[:100_000] if t is str else value
        if t is tuple or t is list:
            items = [self.describe(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
            return values.tuple_value(items) if t is tuple else items
        if t is dict:
            pairs = list(value.items())[:MAX_ITEMS]
            if all(type(k) is str for k, _ in pairs) and values.TAG not in value:
                return {k: self.describe(v, depth + 1) for k, v in pairs}
            return values.dict_value([[str(k)[:200], self.describe(v, depth + 1)] for k, v in pairs])
        if isinstance(value, np.ndarray) and t is np.ndarray:
            return self._array(value)
        if isinstance(value, np.generic):
            return self._array(np.asarray(value))
        return self._describe_tf(value)

    def _raw(self, data: bytes, limit: int) -> dict[str, Any] | None:
        if len(data) > limit or self._bytes + len(data) > MAX_ARRAY_BYTES:
            return None
        return self._array(np.frombuffer(data, dtype=np.uint8))

    def _model(self, model: Any) -> dict[str, Any]:
        """A model travels as the Keras archive it saves to: config + weights, nothing of
        its Python object (an overridden predict, count_params or get_config stays here)."""
        import keras

        histories = list(getattr(model, "_tfgrade_histories", []))[-5:]
        self.models_saved += 1
        path = os.path.join(os.getcwd(), f"_tfgrade_model_{self.models_saved}.keras")
        try:
            keras.saving.save_model(model, path)
            with open(path, "rb") as f:
                data = f.read(MAX_ARCHIVE_BYTES + 1)
        except Exception as exc:  # noqa: BLE001 - a model Keras cannot save
            return values.model_ref(None, histories, f"{type(exc).__name__}: {str(exc)[:500]}")
        finally:
            try:
                os.remove(path)
            except OSError:
                pass
        ref = self._raw(data, MAX_ARCHIVE_BYTES)
        if ref is None:
            return values.model_ref(None, histories, f"the saved model is larger than {MAX_ARCHIVE_BYTES >> 20} MiB")
        return values.model_ref(ref, histories, None, self._probe(model))

    def _probe(self, model: Any) -> dict[str, Any] | None:
        """The returned model's outputs on the behaviour probe (tfgrade.wire.probe)."""
        from tfgrade.wire.probe import probe_input

        try:
            x = probe_input(tuple(model.input_shape), self.seed)
            if x is None:
                return None
            out = np.asarray(model(x, training=False), dtype=np.float64)
        except Exception:  # noqa: BLE001 - no probe: the trusted side decides what that means
            return None
        return self._array(out)

    def _graph(self, graph: Any) -> dict[str, Any]:
        try:
            data = graph.as_graph_def().SerializeToString()
        except Exception as exc:  # noqa: BLE001
            return values.graph_ref(None, f"{type(exc).__name__}: {str(exc)[:300]}")
        ref = self._raw(data, MAX_GRAPHDEF_BYTES)
        if ref is None:
            return values.graph_ref(None, "the graph is too large")
        return values.graph_ref(ref, None)

    def _describe_tf(self, value: Any) -> Any:
        import keras
        import tensorflow as tf

        if isinstance(value, keras.Model):
            return self._model(value)
        if isinstance(value, tf.Graph):
            return self._graph(value)
        if isinstance(value, (tf.Tensor, tf.Variable)):
            if hasattr(value, "numpy") and tf.executing_eagerly() and not _is_symbolic(value):
                try:
                    arr = np.asarray(value.numpy())
                    ref = self._array(arr)
                    if values.tag_of(ref) != values.NDARRAY:
                        return ref
                    return values.tensor_ref(ref["i"], value.dtype.name, str(getattr(value, "device", "") or ""))
                except Exception:  # noqa: BLE001 - a graph tensor has no value here
                    pass
            op = getattr(value, "op", None)
            return values.graph_tensor_ref(str(getattr(value, "name", "")), str(getattr(op, "name", "")),
                                           str(getattr(op, "type", "")),
                                           getattr(getattr(value, "dtype", None), "name", None))
        if isinstance(value, tf.Operation):
            return values.graph_tensor_ref(value.name, value.name, value.type, None)
        try:
            text = repr(value)[:300]
        except Exception:  # noqa: BLE001 - student objects may raise in __repr__
            text = "<repr failed>"
        return values.opaque(type(value).__name__[:200], text)


def _is_symbolic(value: Any) -> bool:
    try:
        import tensorflow as tf
        return bool(tf.is_symbolic_tensor(value))
    except Exception:  # noqa: BLE001
        return hasattr(value, "graph") and not hasattr(value, "_numpy")
