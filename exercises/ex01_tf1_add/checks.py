"""Checks of ex01_tf1_add: the TF 1 program of the slide (placeholders, tf.add, Session.run).

Runs on the trusted side. The graph counts as the clean process found it: the student's
child exports the returned tf.Graph as a GraphDef, a process that never ran student code
imports it, describes its ops and evaluates `add` in its own Session. The names of a, b
and add are only labels to look up in that graph. "Computed with Session.run" is read from
the source of run_add; the child's own Session counter is a hint worth no points.
Every word is in messages.toml (the `messages` fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from tfgrade.catalogue import Catalogue
from tfgrade.checking import fail
from tfgrade.checklib import source as src
from tfgrade.checklib.phrases import fill, framed, joined
from tfgrade.i18n import Msg
from tfgrade.specs import GraphSpec, GraphTensorSpec, ModelHandle, OpaqueValue, TensorValue

# The English article before "<dtype> Placeholder" ("an int16", "a float32", "a uint8"): the
# entry of messages.toml to use, by dtype; any other dtype takes "article_a".
ARTICLES = {"int8": "article_an", "int16": "article_an", "int32": "article_an", "int64": "article_an"}


@dataclass
class Built:
    """What build_graph() returned, unpacked once for all checks."""

    graph: Any = None
    a: Any = None
    b: Any = None
    add: Any = None
    found: str | None = None        # set when the value is not a (graph, a, b, add) tuple
    reported: bool = False          # the full message is given once, then a short one

    def tensors(self) -> list[tuple[str, Any]]:
        return [("a", self.a), ("b", self.b), ("add", self.add)]


@pytest.fixture(scope="module")
def built(student: Any) -> Built:
    value = student.call("build_graph")
    if isinstance(value, (tuple, list)) and len(value) == 4:
        return Built(*value)
    if isinstance(value, (tuple, list)):
        return Built(found=f"{type(value).__name__} ({len(value)})")
    return Built(found=describe(value))


def describe(value: Any) -> str:
    """A short, language-neutral name for what came back."""
    if value is None:
        return "None"
    if isinstance(value, GraphSpec):
        return "tf.Graph"
    if isinstance(value, GraphTensorSpec):
        return f"tf.Tensor {value.name} ({value.op_type}, {value.dtype})"
    if isinstance(value, TensorValue):
        return f"eager tf.Tensor {value.dtype} {shown(value.array)}"
    if isinstance(value, np.ndarray):
        return f"NumPy {value.dtype} {shown(value)}"
    if isinstance(value, OpaqueValue):
        return value.type_name
    if isinstance(value, ModelHandle):
        return "keras.Model"
    return f"{type(value).__name__} {value!r}"[:120]


def shown(array: np.ndarray) -> str:
    """A one-value array as its value, a bigger one by its shape."""
    return f"({array.reshape(-1)[0].item()!r})" if array.size == 1 else f"shape {array.shape}"


def article(messages: Catalogue, dtype: str) -> Msg:
    return messages(ARTICLES.get(dtype, "article_a"))


def require_tuple(built: Built, messages: Catalogue) -> None:
    """Fail once with the full explanation, then briefly, when build_graph() gave no tuple."""
    if built.found is None:
        return
    if not built.reported:
        built.reported = True
        fail(messages("not_a_tuple", found=built.found), expected="(tf.Graph, a, b, add)", found=built.found)
    fail(messages("no_tuple_not_evaluated"))


def dtype_name(dtype: Any) -> str:
    """'int16' from 'int16', 'tf.int16' or "<dtype: 'int16'>"."""
    text = str(dtype)
    if "'" in text:
        text = text.split("'")[1]
    return text.removeprefix("tf.").lower()


def number(value: Any) -> int | float | None:
    """The number a result stands for (a Python number, a 0-d array, a one-value tensor)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    array = value.array if isinstance(value, TensorValue) else value
    if isinstance(array, np.ndarray) and array.size == 1 and array.dtype.kind in "iuf":
        return array.reshape(()).item()
    return None


def verified_op(built: Built, tensor: Any) -> Any:
    """The op a returned tensor names, as the clean process found it in the graph."""
    if not isinstance(built.graph, GraphSpec) or not isinstance(tensor, GraphTensorSpec):
        return None
    return built.graph.op(tensor.op_name)


def graph_sum(built: Built, x: int, y: int) -> int | float | None:
    """`add` evaluated by the clean process's own Session with a = x, b = y; None when the
    returned graph cannot give it (the reason is then told by the graph checks)."""
    if built.found is not None or not isinstance(built.graph, GraphSpec) or built.graph.refused is not None:
        return None
    tensors = (built.a, built.b, built.add)
    if not all(isinstance(t, GraphTensorSpec) and built.graph.op(t.op_name) for t in tensors):
        return None
    try:
        return number(built.graph.run(built.add.name, {built.a.name: x, built.b.name: y}))
    except Exception:  # noqa: BLE001 - a graph that does not run gives no number
        return None


def require_graph_gives(built: Built, x: int, y: int, expected: int, messages: Catalogue) -> None:
    """The value check is repeated on the graph build_graph() returned, in a Session of the
    clean process: a number returned by run_add alone (plain Python) does not count."""
    found = graph_sum(built, x, y)
    if found is None:
        fail(messages("graph_gives_nothing", x=x, y=y, expected=expected), expected=expected, found="no value")
    if found != expected:
        fail(messages("graph_disagrees", x=x, y=y, expected=expected, found=found), expected=expected, found=found)


def session_run_in_source(source: str) -> bool:
    """run_add (with the helpers it calls) runs something in a Session: a `.run(...)` call and
    a Session (tf.compat.v1.Session, InteractiveSession) in reach."""
    view = src.SourceView.parse(source)
    reach = view.reach("run_add")
    return bool(reach) and src.method_calls(reach, "run") > 0 and (
        src.mentions(reach, "Session") or src.mentions(reach, "InteractiveSession"))


# --------------------------------------------------------------------------- build_graph


def test_is_graph(built: Built, messages: Catalogue) -> None:
    require_tuple(built, messages)
    if not isinstance(built.graph, GraphSpec) or not built.graph.is_graph:
        found = describe(built.graph)
        fail(messages("first_not_graph", found=found), expected="tf.Graph", found=found)
    if built.graph.refused is not None:
        fail(built.graph.refused, expected="tf.Graph", found="unverifiable graph")
    eager = [(name, describe(t)) for name, t in built.tensors()
             if not isinstance(t, GraphTensorSpec)]
    if eager:
        listed = "; ".join(f"{name}: {found}" for name, found in eager)
        fail(messages("eager_tensors", listed=listed), expected="graph tensors", found=listed)
    op_names = {op.name for op in built.graph.ops}
    outside = [name for name, t in built.tensors()
               if t.op_name not in op_names]
    if outside:
        listed = ", ".join(outside)
        fail(messages("one_not_in_graph" if len(outside) == 1 else "many_not_in_graph", listed=listed),
             expected="a, b, add in the graph", found=f"not in the graph: {listed}")


def test_placeholders_int16(built: Built, params: dict[str, Any], messages: Catalogue) -> None:
    require_tuple(built, messages)
    want_type, want_dtype = params["placeholder_op"], params["dtype"]
    problems: list[Msg] = []
    for name, tensor in (("a", built.a), ("b", built.b)):
        if not isinstance(tensor, GraphTensorSpec):
            problems.append(fill(messages, "placeholder_not_graph_tensor", name=name,
                                 article=article(messages, want_dtype), want_type=want_type,
                                 want_dtype=want_dtype, found=describe(tensor)))
            continue
        op = verified_op(built, tensor)
        if op is None:
            problems.append(messages("placeholder_not_in_graph", name=name, op=tensor.op_name))
            continue
        found_dtype = dtype_name(op.dtype)
        if op.type != want_type or found_dtype != want_dtype:
            problems.append(fill(messages, "placeholder_wrong", name=name,
                                 want_article=article(messages, want_dtype), want_type=want_type,
                                 want_dtype=want_dtype, found_article=article(messages, found_dtype),
                                 found_type=op.type, found_dtype=found_dtype))
    if (not problems and isinstance(built.a, GraphTensorSpec)
            and isinstance(built.b, GraphTensorSpec) and built.a.name == built.b.name):
        problems.append(messages("same_tensor", name=built.a.name))
    if problems:
        told = joined(problems)
        fail(framed(messages, "use_placeholder", told, dtype=want_dtype),
             expected=f"{want_type} {want_dtype}", found=told.en)


def test_add_op(built: Built, params: dict[str, Any], messages: Catalogue) -> None:
    require_tuple(built, messages)
    want_types = list(params["add_op_types"])
    types = "/".join(want_types)
    if not isinstance(built.add, GraphTensorSpec):
        found = describe(built.add)
        fail(messages("add_not_graph_tensor", types=types, found=found), expected=types, found=found)
    op = verified_op(built, built.add)
    if op is None:
        fail(messages("add_not_in_graph", op=built.add.op_name),
             expected=f"{built.add.op_name} in the graph", found="missing")
    if op.type not in want_types:
        fail(messages("add_wrong_op", types=types, found=op.type), expected=types, found=op.type)
    inputs = sorted(name for name in op.inputs if not name.startswith("^"))
    wanted = sorted(t.name for t in (built.a, built.b) if isinstance(t, GraphTensorSpec))
    if len(wanted) != 2:
        fail(messages("add_inputs_not_ab", inputs=inputs), expected=wanted, found=inputs)
    if inputs != wanted:
        fail(messages("add_wrong_inputs", a=wanted[0], b=wanted[1], inputs=inputs), expected=wanted, found=inputs)


# --------------------------------------------------------------------------- run_add


def test_run_add_session(student: Any, built: Built, params: dict[str, Any], record: Any,
                         messages: Catalogue) -> None:
    x, y, expected = params["add_x"], params["add_y"], params["add_expected"]
    value = student.call("run_add", x, y)
    runs = student.last.events.get("session_run", 0)     # self-reported: shown, never scored
    found = number(value)
    if found is None:
        fail(messages("not_a_number", x=x, y=y, expected=expected, found=describe(value)),
             expected=expected, found=describe(value))
    if found != expected:
        fail(messages("wrong_sum", x=x, y=y, expected=expected, found=found), expected=expected, found=found)
    if not session_run_in_source(student.source):
        fail(messages("no_session_run", x=x, y=y, expected=expected),
             expected="Session.run", found="no Session.run in run_add")
    require_graph_gives(built, x, y, expected, messages)
    record(messages("run_add_ok", x=x, y=y, found=found), self_reported_session_runs=runs)


def test_negative_and_int(student: Any, built: Built, params: dict[str, Any], messages: Catalogue) -> None:
    x, y, expected = params["neg_x"], params["neg_y"], params["neg_expected"]
    value = student.call("run_add", x, y)
    found = number(value)
    if found != expected:
        fail(messages("wrong_sum", x=x, y=y, expected=expected, found=describe(value)),
             expected=expected, found=describe(value))
    if not isinstance(value, int) or isinstance(value, bool):
        fail(messages("not_python_int", x=x, y=y, expected=expected, found=describe(value)),
             expected="int", found=describe(value))
    require_graph_gives(built, x, y, expected, messages)


def test_int16_wraps(student: Any, built: Built, params: dict[str, Any], messages: Catalogue) -> None:
    x, y, expected = params["wrap_x"], params["wrap_y"], params["wrap_expected"]
    value = student.call("run_add", x, y)
    found = number(value)
    if found != expected:
        shown = found if found is not None else describe(value)
        fail(messages("no_wrap", x=x, y=y, dtype=params["dtype"], expected=expected, found=shown),
             expected=expected, found=shown)
    require_graph_gives(built, x, y, expected, messages)
