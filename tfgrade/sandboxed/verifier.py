"""The clean process: inspects and runs what a student's child exported, never its code.

A verifier is a sandbox child forked from the zygote (which only imported TensorFlow) and
isolated exactly like a student's child, but it never receives the student's source: its
init frame has `mode = "verify"`. It answers requests about *artifacts*:

- a Keras archive (`.keras`, already checked against the allow-list on the trusted side):
  loaded with `safe_mode=True` and `compile=False`; parameters and shapes counted here,
  predictions computed here;
- a `GraphDef` (ex01): imported into a fresh graph, described op by op, evaluated in this
  process's own `Session`;
- a traced function's `GraphDef` (ex05): products counted from its nodes (calls into the
  function library followed), executed on the device its nodes ask for, and timed by this
  process's clock against a plain `tf.matmul` measured here.

Everything the student's process said about these things (its counters, clocks, devices,
its `predict`) is ignored: what is graded is what this process finds.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import numpy as np

PREDICT_CHUNK = 2048
MAX_GRAPH_NODES = 20_000          # the slide's graph has 3 nodes; M^1024 unrolled ~ 60
MATMUL_OPS = frozenset({"MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum",
                        "SparseMatMul", "_MklMatMul", "_FusedMatMul", "_MklBatchMatMulV2",
                        "SparseTensorDenseMatMul", "SparseMatrixMatMul", "TridiagonalMatMul"})
LOOP_OPS = frozenset({"While", "StatelessWhile", "_While", "Enter", "NextIteration", "LoopCond", "For"})
CALL_ATTRS = ("f", "then_branch", "else_branch", "body", "cond", "branches")


class VerifyError(Exception):
    """The artifact cannot be used (it is the student's artifact: their problem, said plainly)."""


def _flat_layers(model: Any) -> list[Any]:
    import keras

    out: list[Any] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model) and hasattr(layer, "layers"):
            out += _flat_layers(layer)
        elif type(layer).__name__ != "InputLayer":
            out.append(layer)
    return out


def _shape(shape: Any) -> list[int | None] | None:
    try:
        return [None if d is None else int(d) for d in tuple(shape)]
    except Exception:  # noqa: BLE001 - unbuilt or multi-input
        return None


def _tensor_shape(layer: Any, attr: str) -> list[int | None] | None:
    try:
        return _shape(getattr(layer, attr).shape)
    except Exception:  # noqa: BLE001 - a layer without a symbolic input/output
        return None


def model_facts(model: Any) -> dict[str, Any]:
    """Counted by Keras's own code on a model loaded from the archive."""
    layers: list[dict[str, Any]] = []
    for layer in _flat_layers(model):
        try:
            params = int(layer.count_params())
        except Exception:  # noqa: BLE001 - unbuilt
            params = 0
        layers.append({"name": str(layer.name), "params": params,
                       "input_shape": _tensor_shape(layer, "input"),
                       "output_shape": _tensor_shape(layer, "output")})
    try:
        n_params = int(model.count_params())
    except Exception:  # noqa: BLE001 - an unbuilt model has no weights
        n_params = sum(layer["params"] for layer in layers)
    facts: dict[str, Any] = {"n_params": n_params, "layers": layers, "input_shape": None, "output_shape": None}
    for key, attr in (("input_shape", "input"), ("output_shape", "output")):
        # A loaded Sequential has no `.input` until called, but knows its shapes.
        shape = None
        try:
            shape = _shape(getattr(model, key))
        except Exception:  # noqa: BLE001 - unbuilt, or several inputs
            shape = _tensor_shape(model, attr)
        facts[key] = shape
    return facts


class Verifier:
    """The state of one verifier: loaded models and imported graphs, by small integers."""

    def __init__(self) -> None:
        self.models: dict[int, Any] = {}
        self.graphs: dict[int, Any] = {}
        self.sessions: dict[int, Any] = {}

    # -- Keras archives -------------------------------------------------------------------
    def load_model(self, archive: np.ndarray) -> dict[str, Any]:
        import keras

        path = os.path.join(os.getcwd(), f"model_{len(self.models) + 1}.keras")
        with open(path, "wb") as f:
            f.write(archive.astype(np.uint8, copy=False).tobytes())
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as exc:  # noqa: BLE001 - a broken archive is the student's
            raise VerifyError(f"{type(exc).__name__}: {str(exc)[:400]}") from None
        finally:
            os.remove(path)
        if not isinstance(model, keras.Model):
            raise VerifyError(f"the archive holds a {type(model).__name__}, not a keras.Model")
        handle = len(self.models) + 1
        self.models[handle] = model
        return {"handle": handle, "facts": model_facts(model)}

    def predict(self, handle: int, x: np.ndarray) -> np.ndarray:
        model = self.models.get(handle)
        if model is None:
            raise KeyError(f"model handle {handle}")
        # Eager calls in chunks: Model.predict builds a predict function for every freshly
        # loaded model (~0.1 s each); a few hundred rows need no compiled loop.
        chunks = []
        try:
            for start in range(0, max(len(x), 1), PREDICT_CHUNK):
                out = model(x[start:start + PREDICT_CHUNK], training=False)
                if isinstance(out, (list, tuple, dict)):
                    raise VerifyError("the model has several outputs; one was expected")
                chunks.append(np.asarray(out, dtype=np.float64))
        except VerifyError:
            raise
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the inputs
            raise VerifyError(f"{type(exc).__name__}: {str(exc)[:400]}") from None
        return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]

    # -- GraphDefs ------------------------------------------------------------------------
    @staticmethod
    def parse_graphdef(data: np.ndarray) -> Any:
        import tensorflow as tf

        graph_def = tf.compat.v1.GraphDef()
        try:
            graph_def.ParseFromString(data.astype(np.uint8, copy=False).tobytes())
        except Exception as exc:  # noqa: BLE001 - not a GraphDef
            raise VerifyError(f"not a GraphDef ({type(exc).__name__})") from None
        nodes = len(graph_def.node) + sum(len(f.node_def) for f in graph_def.library.function)
        if nodes > MAX_GRAPH_NODES:
            raise VerifyError(f"the graph has {nodes} nodes; at most {MAX_GRAPH_NODES} are accepted")
        return graph_def

    def import_graph(self, data: np.ndarray) -> dict[str, Any]:
        import tensorflow as tf

        graph_def = self.parse_graphdef(data)
        graph = tf.Graph()
        try:
            with graph.as_default():
                tf.graph_util.import_graph_def(graph_def, name="")
        except Exception as exc:  # noqa: BLE001 - an inconsistent graph
            raise VerifyError(f"the graph cannot be imported: {type(exc).__name__}: {str(exc)[:300]}") from None
        gid = len(self.graphs) + 1
        self.graphs[gid] = graph
        ops = []
        for op in graph.get_operations():
            try:
                dtype = op.get_attr("dtype").name
            except Exception:  # noqa: BLE001 - not every op has a dtype attr
                dtype = op.outputs[0].dtype.name if op.outputs else None
            ops.append({"name": op.name, "type": op.type, "dtype": dtype,
                        "inputs": [t.name for t in op.inputs]})
        return {"gid": gid, "ops": ops}

    def run_graph(self, gid: int, fetch: str, feeds: dict[str, Any]) -> np.ndarray:
        import tensorflow as tf

        graph = self.graphs[gid]
        try:
            # One Session per graph, kept for the next value check (a Session costs more to
            # open than the slide's addition costs to run); the process ends with the exercise.
            session = self.sessions.get(gid)
            if session is None:
                session = self.sessions[gid] = tf.compat.v1.Session(graph=graph)
            feed = {graph.get_tensor_by_name(name): value for name, value in feeds.items()}
            out = session.run(graph.get_tensor_by_name(fetch), feed_dict=feed)
        except Exception as exc:  # noqa: BLE001 - the student's graph does not run
            raise VerifyError(f"{type(exc).__name__}: {str(exc)[:300]}") from None
        return np.asarray(out)

    # -- traced functions (ex05) -----------------------------------------------------------
    def run_traced(self, data: np.ndarray, output: str, captures: dict[str, np.ndarray],
                   repeats: int, matrix: np.ndarray) -> dict[str, Any]:
        import tensorflow as tf

        graph_def = self.parse_graphdef(data)
        products, loops = count_products(graph_def)
        # The call was traced with M as a constant; TensorFlow's function runtime would fold
        # a chain of products of constants before the first run. So every constant that
        # holds M becomes the function's argument: the products really run, every time.
        holders = matrix_constants(graph_def, matrix)

        def imported(x: Any) -> Any:
            input_map = {name: tf.constant(value) for name, value in captures.items()}
            for name, dtype in holders.items():
                input_map[name] = tf.cast(x, dtype)
            (out,) = tf.graph_util.import_graph_def(graph_def, input_map=input_map,
                                                    return_elements=[output], name="")
            return out

        try:
            fn = tf.compat.v1.wrap_function(imported, [tf.TensorSpec(matrix.shape, tf.as_dtype(matrix.dtype))])
            argument = tf.constant(matrix)
            result = fn(argument)
            times = []
            for _ in range(max(1, repeats)):
                start = time.perf_counter()
                again = fn(argument)
                _ = again.numpy()          # wait for the device
                times.append(time.perf_counter() - start)
        except Exception as exc:  # noqa: BLE001 - the traced graph does not run
            raise VerifyError(f"{type(exc).__name__}: {str(exc)[:300]}") from None
        return {"array": np.asarray(result.numpy()), "device": str(result.device or ""),
                "products": products, "loops": loops, "seconds": min(times), "uses_input": bool(holders),
                "median_s": statistics.median(times)}


def matrix_constants(graph_def: Any, matrix: np.ndarray) -> dict[str, Any]:
    """`{"name:0": dtype}` of the top-level Const nodes whose value is `matrix` (any float dtype)."""
    import tensorflow as tf

    found: dict[str, Any] = {}
    for node in graph_def.node:
        if node.op != "Const":
            continue
        proto = node.attr["value"].tensor
        dims = tuple(d.size for d in proto.tensor_shape.dim)
        if dims != matrix.shape:
            continue
        try:
            value = tf.make_ndarray(proto)
        except Exception:  # noqa: BLE001 - a constant this TF cannot decode is not M
            continue
        if value.dtype.kind == "f" and np.allclose(value.astype(np.float64), matrix, rtol=1e-5, atol=1e-6):
            found[f"{node.name}:0"] = tf.as_dtype(value.dtype)
    return found


def count_products(graph_def: Any) -> tuple[int, bool]:
    """Matrix products the graph asks for, following function calls (each call counted at
    each call site; a conditional counts its costlier branch), and whether it has loops,
    whose trip count no static count can know."""
    library = {f.signature.name: list(f.node_def) for f in graph_def.library.function}
    memo: dict[str, tuple[int, bool]] = {}

    def called(node: Any) -> list[list[str]]:
        groups = []
        for key in CALL_ATTRS:
            if key not in node.attr:
                continue
            attr = node.attr[key]
            if attr.HasField("func"):
                groups.append([attr.func.name])
            elif attr.HasField("list"):
                groups.append([f.name for f in attr.list.func])
        return groups

    def count(nodes: list[Any], stack: tuple[str, ...]) -> tuple[int, bool]:
        total, loops = 0, False
        for node in nodes:
            if node.op in MATMUL_OPS:
                total += 1
            if node.op in LOOP_OPS:
                loops = True
            targets = called(node)
            if node.op in library:
                targets.append([node.op])
            branch_costs = []
            for group in targets:
                best = 0
                for name in group:
                    if name in stack or name not in library:
                        continue
                    if name not in memo:
                        memo[name] = count(library[name], (*stack, name))
                    n, looped = memo[name]
                    best = max(best, n)
                    loops = loops or looped
                branch_costs.append(best)
            if node.op in ("If", "StatelessIf", "Case", "StatelessCase"):
                total += max(branch_costs, default=0)
            else:
                total += sum(branch_costs)
        return total, loops

    return count(list(graph_def.node), ())


def matmul_seconds(size: int, repeats: int, device: str = "/CPU:0", dtype: str = "float32") -> float:
    """Median time of one plain tf.matmul of two size×size matrices, measured here."""
    import tensorflow as tf

    rng = np.random.default_rng(size)
    with tf.device(device):
        a = tf.constant(rng.uniform(-1, 1, (size, size)).astype(dtype))
        b = tf.constant(rng.uniform(-1, 1, (size, size)).astype(dtype))
        _ = tf.matmul(a, b).numpy()
        times = []
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            _ = tf.matmul(a, b).numpy()
            times.append(time.perf_counter() - start)
    return statistics.median(times)
