"""Checks of ex01_tf1_add: the TF 1 program of the slide (placeholders, tf.add, Session.run).

Runs on the trusted side. The graph counts as the clean process found it: the student's
child exports the returned tf.Graph as a GraphDef, a process that never ran student code
imports it, describes its ops and evaluates `add` in its own Session. The names of a, b
and add are only labels to look up in that graph. "Computed with Session.run" is read from
the source of run_add; the child's own Session counter is a hint worth no points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from tfgrade.checking import fail
from tfgrade.checklib import source as src
from tfgrade.specs import GraphSpec, GraphTensorSpec, ModelHandle, OpaqueValue, TensorValue


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


def an(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def require_tuple(built: Built) -> None:
    """Fail once with the full explanation, then briefly, when build_graph() gave no tuple."""
    if built.found is None:
        return
    if not built.reported:
        built.reported = True
        fail(es="build_graph() debe devolver la tupla (grafo, a, b, add); "
                f"devolvió {built.found}",
             en="build_graph() must return the tuple (graph, a, b, add); "
                f"it returned {built.found}",
             expected="(tf.Graph, a, b, add)", found=built.found)
    fail(es="no evaluado: build_graph() no devolvió (grafo, a, b, add) (ver la primera comprobación)",
         en="not evaluated: build_graph() did not return (graph, a, b, add) (see the first check)")


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


def call_text(x: int, y: int) -> str:
    return f"run_add({x}, {y})"


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


def require_graph_gives(built: Built, x: int, y: int, expected: int) -> None:
    """The value check is repeated on the graph build_graph() returned, in a Session of the
    clean process: a number returned by run_add alone (plain Python) does not count."""
    found = graph_sum(built, x, y)
    if found != expected:
        shown = "no value (see the build_graph checks)" if found is None else found
        fail(es=f"{call_text(x, y)} devuelve {expected}, pero el grafo de build_graph(), evaluado por el "
                f"calificador con a = {x}, b = {y}, da {shown}: run_add debe evaluar ese grafo",
             en=f"{call_text(x, y)} returns {expected}, but build_graph()'s graph, evaluated by the grader "
                f"with a = {x}, b = {y}, gives {shown}: run_add must evaluate that graph",
             expected=expected, found=str(shown))


def session_run_in_source(source: str) -> bool:
    """run_add (with the helpers it calls) runs something in a Session: a `.run(...)` call and
    a Session (tf.compat.v1.Session, InteractiveSession) in reach."""
    view = src.SourceView.parse(source)
    reach = view.reach("run_add")
    return bool(reach) and src.method_calls(reach, "run") > 0 and (
        src.mentions(reach, "Session") or src.mentions(reach, "InteractiveSession"))


# --------------------------------------------------------------------------- build_graph


def test_is_graph(built: Built) -> None:
    require_tuple(built)
    if not isinstance(built.graph, GraphSpec) or not built.graph.is_graph:
        found = describe(built.graph)
        fail(es=f"el primer valor debe ser un tf.Graph; hay {found}",
             en=f"the first value must be a tf.Graph; found {found}",
             expected="tf.Graph", found=found)
    if built.graph.refused is not None:
        fail(es=built.graph.refused.es, en=built.graph.refused.en, expected="tf.Graph",
             found="unverifiable graph")
    eager = [(name, describe(t)) for name, t in built.tensors()
             if not isinstance(t, GraphTensorSpec)]
    if eager:
        listed = "; ".join(f"{name}: {found}" for name, found in eager)
        fail(es="a, b y add deben ser tensores simbólicos de un grafo (sin valor hasta Session.run); "
                f"hay {listed}. En TF 2 todo se ejecuta en modo eager: crea el grafo con "
                "`with tf.Graph().as_default():` (o tf.compat.v1.disable_eager_execution())",
             en="a, b and add must be symbolic graph tensors (no value until Session.run); "
                f"found {listed}. TF 2 runs eagerly: build the graph inside "
                "`with tf.Graph().as_default():` (or call tf.compat.v1.disable_eager_execution())",
             expected="graph tensors", found=listed)
    op_names = {op.name for op in built.graph.ops}
    outside = [name for name, t in built.tensors()
               if t.op_name not in op_names]
    if outside:
        listed = ", ".join(outside)
        fail(es=f"{listed} no pertenece(n) al grafo devuelto: devuelve el grafo en el que "
                "creaste los placeholders y la suma",
             en=f"{listed} is/are not in the returned graph: return the graph in which you "
                "created the placeholders and the sum",
             expected="a, b, add in the graph", found=f"not in the graph: {listed}")


def test_placeholders_int16(built: Built, params: dict[str, Any]) -> None:
    require_tuple(built)
    want_type, want_dtype = params["placeholder_op"], params["dtype"]
    problems_es, problems_en = [], []
    for name, tensor in (("a", built.a), ("b", built.b)):
        if not isinstance(tensor, GraphTensorSpec):
            found = describe(tensor)
            problems_es.append(f"{name}: se esperaba un {want_type} {want_dtype}, hay {found}")
            problems_en.append(f"{name}: expected {an(want_dtype)} {want_type}, found {found}")
            continue
        op = verified_op(built, tensor)
        if op is None:
            problems_es.append(f"{name}: {tensor.op_name} no está en el grafo devuelto")
            problems_en.append(f"{name}: {tensor.op_name} is not in the returned graph")
            continue
        found_dtype = dtype_name(op.dtype)
        if op.type != want_type or found_dtype != want_dtype:
            problems_es.append(f"{name}: se esperaba un {want_type} {want_dtype}, "
                               f"hay un {op.type} {found_dtype}")
            problems_en.append(f"{name}: expected {an(want_dtype)} {want_type}, "
                               f"found {an(found_dtype)} {op.type}")
    if (not problems_es and isinstance(built.a, GraphTensorSpec)
            and isinstance(built.b, GraphTensorSpec) and built.a.name == built.b.name):
        problems_es.append(f"a y b son el mismo tensor ({built.a.name}); se esperaban dos placeholders")
        problems_en.append(f"a and b are the same tensor ({built.a.name}); expected two placeholders")
    if problems_es:
        fail(es="; ".join(problems_es) + f". Usa tf.compat.v1.placeholder(tf.{want_dtype})",
             en="; ".join(problems_en) + f". Use tf.compat.v1.placeholder(tf.{want_dtype})",
             expected=f"{want_type} {want_dtype}", found="; ".join(problems_en))


def test_add_op(built: Built, params: dict[str, Any]) -> None:
    require_tuple(built)
    want_types = list(params["add_op_types"])
    if not isinstance(built.add, GraphTensorSpec):
        found = describe(built.add)
        fail(es=f"add: se esperaba el tensor de una operación {'/'.join(want_types)}, hay {found}",
             en=f"add: expected the tensor of an {'/'.join(want_types)} op, found {found}",
             expected="/".join(want_types), found=found)
    op = verified_op(built, built.add)
    if op is None:
        fail(es=f"add: la operación {built.add.op_name} no está en el grafo devuelto",
             en=f"add: the op {built.add.op_name} is not in the returned graph",
             expected=f"{built.add.op_name} in the graph", found="missing")
    if op.type not in want_types:
        fail(es=f"add: se esperaba una operación {'/'.join(want_types)} (tf.add(a, b)), "
                f"hay {op.type}",
             en=f"add: expected an {'/'.join(want_types)} op (tf.add(a, b)), found {op.type}",
             expected="/".join(want_types), found=op.type)
    inputs = sorted(name for name in op.inputs if not name.startswith("^"))
    wanted = sorted(t.name for t in (built.a, built.b) if isinstance(t, GraphTensorSpec))
    if len(wanted) != 2 or inputs != wanted:
        expected = " y ".join(wanted) if wanted else "a, b"
        fail(es=f"add: sus entradas deberían ser a y b ({expected}), son {inputs}",
             en=f"add: its inputs should be a and b ({' and '.join(wanted) or 'a, b'}), they are {inputs}",
             expected=wanted, found=inputs)


# --------------------------------------------------------------------------- run_add


def test_run_add_session(student: Any, built: Built, params: dict[str, Any], record: Any) -> None:
    x, y, expected = params["add_x"], params["add_y"], params["add_expected"]
    value = student.call("run_add", x, y)
    runs = student.last.events.get("session_run", 0)     # self-reported: shown, never scored
    found = number(value)
    if found is None:
        fail(es=f"{call_text(x, y)}: se esperaba el número {expected}, hay {describe(value)}",
             en=f"{call_text(x, y)}: expected the number {expected}, found {describe(value)}",
             expected=expected, found=describe(value))
    if found != expected:
        fail(es=f"{call_text(x, y)}: se esperaba {expected}, da {found}",
             en=f"{call_text(x, y)}: expected {expected}, got {found}",
             expected=expected, found=found)
    if not session_run_in_source(student.source):
        fail(es=f"{call_text(x, y)} da {expected}, pero run_add no evalúa el grafo con Session.run: "
                "evalúa add en un tf.compat.v1.Session con feed_dict={a: x, b: y}",
             en=f"{call_text(x, y)} gives {expected}, but run_add does not evaluate the graph with "
                "Session.run: evaluate add in a tf.compat.v1.Session with feed_dict={a: x, b: y}",
             expected="Session.run", found="no Session.run in run_add")
    require_graph_gives(built, x, y, expected)
    record(es=f"{call_text(x, y)} = {found}, con Session.run en run_add; el grafo da lo mismo",
           en=f"{call_text(x, y)} = {found}, with Session.run in run_add; the graph gives the same",
           self_reported_session_runs=runs)


def test_negative_and_int(student: Any, built: Built, params: dict[str, Any]) -> None:
    x, y, expected = params["neg_x"], params["neg_y"], params["neg_expected"]
    value = student.call("run_add", x, y)
    found = number(value)
    if found != expected:
        fail(es=f"{call_text(x, y)}: se esperaba {expected}, da {describe(value)}",
             en=f"{call_text(x, y)}: expected {expected}, got {describe(value)}",
             expected=expected, found=describe(value))
    if not isinstance(value, int) or isinstance(value, bool):
        fail(es=f"{call_text(x, y)} vale {expected}, pero se esperaba un int de Python y hay "
                f"{describe(value)}: Session.run devuelve un escalar de NumPy; devuelve int(...)",
             en=f"{call_text(x, y)} equals {expected}, but a Python int was expected and it is "
                f"{describe(value)}: Session.run returns a NumPy scalar; return int(...)",
             expected="int", found=describe(value))
    require_graph_gives(built, x, y, expected)


def test_int16_wraps(student: Any, built: Built, params: dict[str, Any]) -> None:
    x, y, expected = params["wrap_x"], params["wrap_y"], params["wrap_expected"]
    value = student.call("run_add", x, y)
    found = number(value)
    if found != expected:
        shown = found if found is not None else describe(value)
        fail(es=f"{call_text(x, y)}: con aritmética {params['dtype']} se esperaba {expected} "
                f"(desbordamiento), da {shown}: ¿son {params['dtype']} tus placeholders?",
             en=f"{call_text(x, y)}: with {params['dtype']} arithmetic {expected} was expected "
                f"(it wraps around), got {shown}: are your placeholders {params['dtype']}?",
             expected=expected, found=shown)
    require_graph_gives(built, x, y, expected)
