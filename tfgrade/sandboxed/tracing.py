"""Trace a student's function into a GraphDef (sandbox side, in the student's child).

The function is called exactly as a check calls it (NumPy arguments), but inside
`tf.function`, so what it computes becomes a graph. The graph is only an artifact: the
clean process counts its products and executes it. A student who forges the GraphDef
gets graded on the graph they forged, which must still compute M^n correctly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_GRAPHDEF_BYTES = 48 * 1024 * 1024


def trace_call(fn: Any, args: Any, kwargs: Any) -> dict[str, Any]:
    import tensorflow as tf

    def call() -> Any:
        return fn(*args, **kwargs)

    # The source was exec'd from text, so AutoGraph could not convert it anyway: Python
    # control flow on Python values (the usual square-and-multiply) traces as it is.
    concrete = tf.function(call, autograph=False).get_concrete_function()
    outputs = concrete.outputs
    if len(outputs) != 1:
        raise TypeError(f"the traced function returns {len(outputs)} tensors; one was expected")
    names, values = [], []
    for external, internal in zip(concrete.captured_inputs, concrete.graph.internal_captures, strict=False):
        if external.dtype == tf.resource:
            raise TypeError("the function uses a tf.Variable created outside it; "
                            "compute M^n from tensors (tf.matmul), without variables")
        names.append(internal.name)
        values.append(np.asarray(external.numpy()))
    data = concrete.graph.as_graph_def().SerializeToString()
    if len(data) > MAX_GRAPHDEF_BYTES:
        raise ValueError(f"the traced graph is {len(data) >> 20} MiB; at most "
                         f"{MAX_GRAPHDEF_BYTES >> 20} MiB can be checked")
    return {"graphdef": np.frombuffer(data, dtype=np.uint8).copy(), "output": outputs[0].name,
            "captures": names, "capture_values": tuple(values)}
