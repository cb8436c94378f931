"""Record, inside the sandbox, what the checks need to know about how a result was computed.

Counters are reset before each call: a Session.run, a GradientTape.gradient, each matrix
product asked of TensorFlow (tf.matmul, tf.linalg.matmul, `@`), each Model.fit.
These are pedagogical signals, not security: the sandbox is untrusted and says so.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from typing import Any

import numpy as np

EVENTS: Counter[str] = Counter()
MAX_EPOCHS_KEPT = 1000


_DEPTH = threading.local()


def _counting(name: str, fn: Any) -> Any:
    """Count calls of fn, but not calls nested in another counted call of the same event:
    `a @ b` goes through Tensor.__matmul__ *and* tf.matmul, and is one product."""
    if getattr(fn, "_tfgrade_wrapped", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth = getattr(_DEPTH, name, 0)
        if depth == 0:
            EVENTS[name] += 1
        setattr(_DEPTH, name, depth + 1)
        try:
            return fn(*args, **kwargs)
        finally:
            setattr(_DEPTH, name, depth)

    wrapper._tfgrade_wrapped = True  # type: ignore[attr-defined]
    return wrapper


def _history_curves(history: Any) -> dict[str, Any]:
    curves = {}
    raw = getattr(history, "history", None) or {}
    for key, values in list(raw.items())[:20]:
        try:
            curves[str(key)] = [float(np.asarray(v)) for v in list(values)[:MAX_EPOCHS_KEPT]]
        except Exception:  # noqa: BLE001 - odd values are skipped, not fatal
            continue
    epochs = max((len(v) for v in curves.values()), default=0)
    return {"epochs": epochs, "curves": curves}


def install() -> None:
    import keras
    import tensorflow as tf
    from tensorflow.python.client import session as session_lib

    # BaseSession covers Session and InteractiveSession alike.
    base = session_lib.BaseSession
    base.run = _counting("session_run", base.run)
    tape = tf.GradientTape
    tape.gradient = _counting("gradient_tape_gradient", tape.gradient)

    matmul = _counting("matmul", tf.linalg.matmul)
    tf.linalg.matmul = matmul
    tf.matmul = matmul
    from tensorflow.python.ops import math_ops

    math_ops.matmul = matmul
    for cls in (tf.Tensor, tf.Variable):
        for dunder in ("__matmul__", "__rmatmul__"):
            original = getattr(cls, dunder, None)
            if original is not None:
                setattr(cls, dunder, _counting("matmul", original))

    original_fit = keras.Model.fit

    @functools.wraps(original_fit)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        EVENTS["fit"] += 1
        history = original_fit(self, *args, **kwargs)
        try:
            kept = self.__dict__.setdefault("_tfgrade_histories", [])
            kept.append(_history_curves(history))
        except Exception:  # noqa: BLE001 - recording must never break the student's fit
            pass
        return history

    keras.Model.fit = fit


def snapshot() -> dict[str, int]:
    return {k: int(v) for k, v in EVENTS.items()}


def reset() -> None:
    EVENTS.clear()
