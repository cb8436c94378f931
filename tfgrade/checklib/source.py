"""Teaching checks read from the submission's source text, parsed here (never executed).

"Uses GradientTape", "runs the graph in a Session", "raises ValueError": what the student's
process reports about itself is a claim, but the source handed in is what it is. A function
is read together with the module-level functions it calls (a helper `step()` holding the
tape counts), followed transitively, so a reasonable decomposition is not penalised.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceView:
    """The parsed module, or the reason it could not be parsed."""

    tree: ast.Module | None
    error: str | None = None

    @classmethod
    def parse(cls, text: str) -> SourceView:
        try:
            return cls(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            return cls(None, type(exc).__name__)

    def functions(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        """Module-level functions, also those defined inside module-level `if`, `try` and
        `with` blocks (a notebook's cells become such blocks); the last definition wins, as
        it does when the module runs."""
        found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        todo: list[ast.stmt] = list(self.tree.body) if self.tree is not None else []
        while todo:
            node = todo.pop(0)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = node
            elif isinstance(node, (ast.If, ast.Try, ast.TryStar, ast.With, ast.AsyncWith)):
                blocks = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
                blocks += [h.body for h in getattr(node, "handlers", [])]
                todo[:0] = [stmt for block in blocks for stmt in block]
        return found

    def reach(self, name: str) -> list[ast.AST]:
        """`name`'s definition and every module-level function it (transitively) calls."""
        defs = self.functions()
        seen: list[str] = []
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen or current not in defs:
                continue
            seen.append(current)
            for node in ast.walk(defs[current]):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    todo.append(node.func.id)
        return [defs[n] for n in seen]


def _walk(nodes: list[ast.AST]) -> Iterator[ast.AST]:
    for root in nodes:
        yield from ast.walk(root)


def dotted(node: ast.AST) -> str:
    """`tf.compat.v1.Session` for that expression; '' for anything not a plain dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return ""


def calls_named(nodes: list[ast.AST], suffix: str) -> bool:
    """A call whose callee's dotted name ends in `suffix` (`polyfit` matches `np.polyfit`)."""
    return any(isinstance(n, ast.Call) and (dotted(n.func) == suffix or dotted(n.func).endswith("." + suffix))
               for n in _walk(nodes))


def method_calls(nodes: list[ast.AST], method: str) -> int:
    """Calls of `<anything>.method(...)`."""
    return sum(1 for n in _walk(nodes)
               if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == method)


def with_context(nodes: list[ast.AST], suffix: str) -> bool:
    """A `with X(...) as …:` whose context's dotted name ends in `suffix`."""
    for n in _walk(nodes):
        if isinstance(n, (ast.With, ast.AsyncWith)):
            for item in n.items:
                name = dotted(item.context_expr)
                if name == suffix or name.endswith("." + suffix):
                    return True
    return False


def mentions(nodes: list[ast.AST], suffix: str) -> bool:
    """Any name or attribute chain ending in `suffix` (a Session made by a helper counts)."""
    for n in _walk(nodes):
        if isinstance(n, (ast.Name, ast.Attribute)):
            name = dotted(n)
            if name == suffix or name.endswith("." + suffix):
                return True
    return False


def raises(nodes: list[ast.AST], exc_name: str) -> bool:
    """A `raise ExcName(...)` / `raise ExcName` statement."""
    for n in _walk(nodes):
        if isinstance(n, ast.Raise) and n.exc is not None:
            name = dotted(n.exc)
            if name == exc_name or name.endswith("." + exc_name):
                return True
    return False


# Attributes whose re-assignment changes what a model, layer or library says about itself.
PATCHED_ATTRIBUTES = frozenset({
    "get_config", "get_compile_config", "compile_config", "get_build_config", "from_config",
    "count_params", "predict", "predict_on_batch", "predict_step", "evaluate", "call", "__call__",
    "save", "save_own_variables", "load_own_variables", "save_weights", "to_json", "summary",
    "units", "filters", "kernel_size", "strides", "pool_size", "activation", "input_shape",
    "output_shape", "optimizer", "loss", "compiled_loss", "compiled_metrics", "__class__",
    "perf_counter", "monotonic", "time", "matmul", "list_logical_devices", "list_physical_devices",
})
DYNAMIC_CODE = ("exec", "eval", "compile", "__import__", "setattr", "delattr")


def tampering(view: SourceView) -> list[str]:
    """What the file does to change how its objects describe themselves: assignments to
    `obj.get_compile_config`, `layer.units`, `keras.layers.Dense`, `tf.matmul`, …, and
    code built at run time (exec/eval/setattr). The list is for the message; empty is clean."""
    if view.tree is None:
        return []
    found: list[str] = []
    for node in ast.walk(view.tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for t in ast.walk(target):
                if isinstance(t, ast.Attribute):
                    base = dotted(t.value)
                    root = base.split(".")[0] if base else ""
                    if t.attr in PATCHED_ATTRIBUTES or root in ("tf", "keras", "tensorflow", "np", "numpy",
                                                                "time", "grader", "tfgrade"):
                        found.append(f"{dotted(t) or t.attr} = …")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DYNAMIC_CODE:
            found.append(f"{node.func.id}(…)")
    return sorted(set(found))[:8]
