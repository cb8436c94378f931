# ruff: noqa
# nbgrader cells of ex01_tf1_add, after the student's cell (the same checks as
# exercises/ex01_tf1_add/checks.py, in spirit). "# %% setup" = locked, ungraded;
# "# %% test ID POINTS [hidden]" = an autograder test cell. Built by build_course.py.

# %% setup
import tensorflow as tf


def graph_of(t):
    try:
        return t.graph
    except Exception:
        return None


# %% test is_graph 1
g, a, b, add = build_graph()
assert isinstance(g, tf.Graph), f"the first value must be a tf.Graph, found {type(g).__name__}"
assert all(graph_of(t) is g for t in (a, b, add)), "a, b and add must be symbolic tensors of the returned graph"

# %% test placeholders_int16 2
g, a, b, add = build_graph()
for t in (a, b):
    assert t.op.type == "Placeholder" and t.dtype == tf.int16, f"expected an int16 Placeholder, found {t.op.type} {t.dtype.name}"
assert a.name != b.name, "a and b are the same tensor"

# %% test add_op 2
g, a, b, add = build_graph()
assert add.op.type in ("Add", "AddV2"), f"expected an Add/AddV2 op, found {add.op.type}"
assert sorted(i.name for i in add.op.inputs) == sorted([a.name, b.name]), "the inputs of add must be a and b"

# %% test run_add_session 3
with count_calls((tf.compat.v1.Session, "run")) as runs:
    value = run_add(2, 3)
assert value == 5, f"run_add(2, 3): expected 5, got {value!r}"
assert runs.n >= 1, "computed without Session.run"

# %% test negative_and_int 1
value = run_add(-7, 3)
assert value == -4, f"run_add(-7, 3): expected -4, got {value!r}"
assert type(value) is int, f"a Python int was expected, found {type(value).__name__}"

# %% test int16_wraps 1 hidden
value = run_add(32767, 1)
assert value == -32768, f"run_add(32767, 1): -32768 was expected (int16 wraps), got {value!r}"
