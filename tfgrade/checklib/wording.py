"""How numbers, shapes and values that came back from the sandbox read in feedback, and how
catalogue messages combine (tfgrade.catalogue: the words themselves are data).

A message made of several problems ("layer 2: expected 1 unit, found 2; expected activation
sigmoid, found softmax") is built from catalogue entries: `joined` puts the problems side by
side, `framed` puts them inside a lead-in or a closing hint, `fill` is `Catalogue.msg` where a
value is itself a `Msg` (an article, a list of problems) and each language takes its own text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from tfgrade.catalogue import Catalogue
from tfgrade.engine.returned import ModelHandle, OpaqueValue, TensorValue
from tfgrade.i18n import Msg

# Truncation of a value's text in a message: enough to recognise it, short enough to read.
_VALUE_TEXT = 120


def fill(catalogue: Catalogue, key: str, /, **values: Any) -> Msg:
    """`catalogue.msg(key, …)` where a value may be a `Msg`: the Spanish text is filled with its
    Spanish text, the English with its English (`article=messages("article_an")`)."""
    es = {name: v.es if isinstance(v, Msg) else v for name, v in values.items()}
    en = {name: v.en if isinstance(v, Msg) else v for name, v in values.items()}
    return Msg(catalogue.msg(key, **es).es, catalogue.msg(key, **en).en, key=key)


def joined(parts: Sequence[Msg], sep: str = "; ") -> Msg:
    """Several problems told in one message. It keeps the first problem's key: a test or a
    report names what is wrong (what to fix first), not how the sentence is put together."""
    if not parts:
        raise ValueError("joined() needs at least one message")
    return Msg(sep.join(p.es for p in parts), sep.join(p.en for p in parts), key=parts[0].key)


def framed(catalogue: Catalogue, key: str, problems: Msg, /, **values: Any) -> Msg:
    """`problems` inside the entry `key` (its `{problems}` placeholder: "layer {position}:
    {problems}", "{problems}. Expected {call}"); the result keeps the problems' key."""
    msg = fill(catalogue, key, problems=problems, **values)
    return replace(msg, key=problems.key or key)


def es_decimals(text: str) -> str:
    """Spanish writes decimals with a comma: 0.75 -> 0,75 (only between digits).
    Superseded by the catalogue (a format spec in a template, `{x:.3f}`); kept for the
    checks not moved to messages.toml yet."""
    return re.sub(r"(?<=\d)\.(?=\d)", ",", text)


def thousands_es(n: int) -> str:
    """100000 -> "100.000" (Spanish groups thousands with a point).
    Superseded by the catalogue (`{n:,}` in a template); kept for the checks not moved yet."""
    return f"{n:,}".replace(",", ".")


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
