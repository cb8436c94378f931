"""How numbers, shapes and values that came back from the sandbox read in feedback, and how
catalogue messages combine (tfgrade.catalogue: the words themselves are data).

A message made of several problems ("layer 2: expected 1 unit, found 2; expected activation
sigmoid, found softmax") is built from catalogue entries: `joined` puts the problems side by
side, `framed` puts them inside a lead-in or a closing hint, `fill` is `Catalogue.msg` where a
value is itself a `Msg` (an article, a list of problems) and each language takes its own text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tfgrade.engine.returned import ModelHandle, OpaqueValue, TensorValue

# Truncation of a value's text in a message: enough to recognise it, short enough to read.
_VALUE_TEXT = 120


def shape_text(shape: tuple[int | None, ...] | None) -> str:
    """(None, 100) -> "(None, 100)"; an unknown shape -> "?"."""
    return "?" if shape is None else "(" + ", ".join(str(d) for d in shape) + ")"


def describe(value: Any) -> str:
    """A short, language-neutral name for what came back: its kind, not its contents."""
    if value is None:
        return "None"
    if isinstance(value, TensorValue):
        return f"tf.Tensor ({value.dtype})"
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray {value.shape}"
    if isinstance(value, OpaqueValue):
        return value.type_name
    if isinstance(value, ModelHandle):
        return "keras.Model"
    return f"{type(value).__name__} {value!r}"[:_VALUE_TEXT]


def describe_with_contents(value: Any) -> str:
    """Like `describe`, with the numbers a tensor or array holds (when the values matter,
    e.g. a function that should return two floats)."""
    if value is None:
        return "None"
    if isinstance(value, TensorValue):
        return f"tf.Tensor/tf.Variable ({value.dtype}) = {value.array.tolist()!r}"[:_VALUE_TEXT]
    if isinstance(value, np.ndarray):
        kind = "NumPy scalar" if value.ndim == 0 else f"numpy.ndarray {value.shape}"
        return f"{kind} ({value.dtype}) = {value.tolist()!r}"[:_VALUE_TEXT]
    if isinstance(value, ModelHandle):
        return "keras.Model"
    if isinstance(value, OpaqueValue):
        return value.type_name
    return f"{type(value).__name__} {value!r}"[:_VALUE_TEXT]
