"""Checks of ex04_regression: gradient descent with GradientTape, then a Keras regressor.

Runs on the trusted side: the sandbox trains the student's model and answers predictions;
the held-out mpg values and the error computed from them never leave this process.
Partial credit: a check below its full-points line fails with `score_fraction` in its
details (the share of its points it still earns; see tfgrade.checklib.learning).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from tfgrade import datasets, metrics
from tfgrade.checking import Recorder, fail
from tfgrade.checklib import learning
from tfgrade.checklib import source as src
from tfgrade.checklib.keras_model import has_normalisation, output_activation, output_units
from tfgrade.checklib.learning import Called, HeldOutWording, last_curves
from tfgrade.checklib.wording import describe_with_contents, es_decimals
from tfgrade.i18n import Msg
from tfgrade.specs import ModelSpec, TensorValue

# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class LineProblem:
    x: np.ndarray
    y: np.ndarray
    w: float
    b: float


@pytest.fixture(scope="module")
def line(student: Any, params: dict[str, Any]) -> LineProblem:
    # The course seed joins the exercise's own: another course draws another line.
    rng = np.random.default_rng([int(params["line_seed"]), int(student.seed)])
    n = int(params["line_points"])
    signs = rng.choice([-1.0, 1.0], size=2)
    w, b = signs * rng.uniform(params["line_min_abs"], params["line_max_abs"], size=2)
    x = rng.uniform(-1.0, 1.0, n).astype(np.float32)
    y = (w * x + b + rng.normal(0.0, params["line_noise"], n)).astype(np.float32)
    return LineProblem(x, y, float(w), float(b))


@pytest.fixture(scope="module")
def line_fit(student: Any, line: LineProblem) -> Called:
    value = student.call("fit_line", line.x, line.y)
    return Called.after("fit_line", value, student.last)


@pytest.fixture(scope="module")
def split(exercise: Any) -> datasets.Split:
    return datasets.load(exercise.id, exercise.data, base_dir=exercise.folder)


@pytest.fixture(scope="module")
def trained(student: Any, split: datasets.Split) -> Called:
    return learning.train(student, "train_regressor", split)


# --------------------------------------------------------------------------- helpers


def number(value: Any) -> float | None:
    """The number a value stands for: Python number, 0-d array or one-value tensor."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    array = value.array if isinstance(value, TensorValue) else value
    if isinstance(array, np.ndarray) and array.size == 1 and array.dtype.kind in "iuf":
        return float(array.reshape(()).item())
    return None


def require_pair(called: Called) -> tuple[Any, Any]:
    value = called.value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    if not called.reported:
        called.reported = True
        fail(es=f"fit_line debe devolver la tupla (w, b); devolvió {describe_with_contents(value)}",
             en=f"fit_line must return the tuple (w, b); it returned {describe_with_contents(value)}",
             expected="(w, b)", found=describe_with_contents(value))
    fail(es="no evaluado: fit_line no devolvió (w, b) (ver la primera comprobación)",
         en="not evaluated: fit_line did not return (w, b) (see the first check)")


def require_model(called: Called) -> ModelSpec:
    return learning.require_model(called, describe_with_contents)


# --------------------------------------------------------------------------- part A: fit_line


def test_fit_line_recovers_line(line_fit: Called, line: LineProblem, params: dict[str, Any],
                                record: Recorder) -> None:
    w_value, b_value = require_pair(line_fit)
    w, b = number(w_value), number(b_value)
    tol = float(params["line_tolerance"])
    want = f"w ≈ {line.w:.3f}, b ≈ {line.b:.3f} (±{tol:g})"
    if w is None or b is None:
        found = f"w = {describe_with_contents(w_value)}, b = {describe_with_contents(b_value)}"
        fail(es=f"fit_line debe devolver dos números; devolvió {found}",
             en=f"fit_line must return two numbers; it returned {found}", expected=want, found=found)
    found = f"w = {w:.3f}, b = {b:.3f}"
    if not (math.isfinite(w) and math.isfinite(b)):
        fail(es=es_decimals(f"se esperaba {want}, hay {found}: el descenso diverge (¿signo del paso o tasa de aprendizaje?)"),
             en=f"expected {want}, found {found}: gradient descent diverges (sign of the step or learning rate?)",
             expected=want, found=found)
    if abs(w - line.w) > tol or abs(b - line.b) > tol:
        fail(es=es_decimals(f"se esperaba {want}, hay {found}. Si se queda a medio camino, comprueba que das ")
                + "`epochs` pasos y que actualizas con w.assign_sub(learning_rate * dw) (igual con b)",
             en=f"expected {want}, found {found}. If it stops half-way, check that you take `epochs` "
                "steps and update with w.assign_sub(learning_rate * dw) (the same for b)",
             expected=want, found=found)
    record(es=es_decimals(f"{found} (verdadero: w = {line.w:.3f}, b = {line.b:.3f})"),
           en=f"{found} (true: w = {line.w:.3f}, b = {line.b:.3f})",
           w=w, b=b, w_true=line.w, b_true=line.b, duration_s=round(line_fit.duration_s, 3))


def test_fit_line_uses_gradient_tape(student: Any, line_fit: Called, params: dict[str, Any],
                                     record: Recorder) -> None:
    # Read from the source (with the helpers fit_line calls), not from the child's counters:
    # a `with tf.GradientTape()` block, a `.gradient(...)` call, and no closed form beside them.
    view = src.SourceView.parse(student.source)
    reach = view.reach("fit_line")
    closed = [name for name in params["closed_forms"] if src.calls_named(reach, name)]
    has_tape = src.with_context(reach, "GradientTape")
    gradients = src.method_calls(reach, "gradient")
    if closed:
        fail(es=f"fit_line usa {', '.join(closed)}: el ejercicio es el descenso de gradiente con "
                "tf.GradientTape, no una fórmula cerrada",
             en=f"fit_line uses {', '.join(closed)}: the exercise is gradient descent with "
                "tf.GradientTape, not a closed form", expected="tf.GradientTape", found=", ".join(closed))
    if not has_tape or gradients == 0:
        missing_es = "un bloque `with tf.GradientTape() as tape:`" if not has_tape else "una llamada a tape.gradient(...)"
        missing_en = "a `with tf.GradientTape() as tape:` block" if not has_tape else "a tape.gradient(...) call"
        fail(es=f"fit_line no tiene {missing_es}: el ejercicio es el descenso de gradiente con "
                "tf.GradientTape, no una fórmula cerrada ni np.polyfit",
             en=f"fit_line has no {missing_en}: the exercise is gradient descent with "
                "tf.GradientTape, not a closed form or np.polyfit",
             expected="tf.GradientTape().gradient(...)", found="not in the source")
    calls = int(line_fit.events.get("gradient_tape_gradient", 0))   # self-reported: shown, not scored
    record(es="fit_line usa tf.GradientTape y tape.gradient", en="fit_line uses tf.GradientTape and tape.gradient",
           self_reported_tape_gradients=calls)


def test_fit_line_returns_floats(line_fit: Called) -> None:
    pair = require_pair(line_fit)
    wrong = [(name, v) for name, v in zip(("w", "b"), pair, strict=True) if type(v) is not float]
    if not wrong:
        return
    found = "; ".join(f"{name}: {describe_with_contents(v)}" for name, v in wrong)
    if any(isinstance(v, TensorValue) for _, v in wrong):
        hint_es, hint_en = ("devuelve float(w.numpy()) en lugar del tensor o la variable",
                            "return float(w.numpy()) instead of the tensor or variable")
    elif any(isinstance(v, np.ndarray) for _, v in wrong):
        hint_es, hint_en = ("un escalar de NumPy no es un float de Python: usa float(...)",
                            "a NumPy scalar is not a Python float: use float(...)")
    else:
        hint_es, hint_en = "convierte con float(...)", "convert with float(...)"
    fail(es=f"se esperaban dos float de Python; {found}: {hint_es}",
         en=f"two Python floats were expected; {found}: {hint_en}", expected="(float, float)", found=found)


# --------------------------------------------------------------------------- part B: train_regressor


def test_regressor_output_and_loss(trained: Called, params: dict[str, Any], record: Recorder) -> None:
    spec = require_model(trained)
    layers = spec.summary_rows()
    if not spec.compiled:
        fail(es="el modelo no está compilado: llama a model.compile(optimizer=\"adam\", loss=\"mse\") "
                "antes de model.fit(...)",
             en="the model is not compiled: call model.compile(optimizer=\"adam\", loss=\"mse\") "
                "before model.fit(...)", expected="compiled", found="not compiled", layers=layers)
    units, activation = output_units(spec), output_activation(spec)
    if units != 1:
        fail(es=f"una regresión de mpg necesita una sola salida: se esperaba Dense(1), la salida tiene "
                f"forma {spec.output_shape}",
             en=f"an mpg regression needs a single output: expected Dense(1), the output has shape "
                f"{spec.output_shape}", expected="(None, 1)", found=spec.output_shape, layers=layers)
    allowed = list(params["output_activations"])
    if activation not in allowed:
        if activation == "sigmoid":
            why_es = ("una sigmoid aplasta la salida a (0, 1), pero mpg va de 9 a 47: "
                      "el modelo nunca puede acertar")
            why_en = "a sigmoid squeezes the output into (0, 1), but mpg goes from 9 to 47: the model can never be right"
        elif activation == "relu":
            why_es = "una relu no baja de 0 y deja de aprender cuando se queda en 0"
            why_en = "a relu cannot go below 0 and stops learning when it gets stuck at 0"
        else:
            why_es = f"'{activation}' limita o deforma los valores que el modelo puede predecir"
            why_en = f"'{activation}' limits or bends the values the model can predict"
        fail(es=f"la salida de una regresión es lineal: se esperaba Dense(1) sin activación, hay "
                f"activación {activation}; {why_es}",
             en=f"a regression output is linear: expected Dense(1) with no activation, found activation "
                f"{activation}; {why_en}", expected="linear", found=activation, layers=layers)
    losses = list(params["regression_losses"])
    if spec.loss not in losses:
        fail(es=f"la pérdida {spec.loss} no es de regresión: usa \"mse\" o \"mae\" "
                "(las entropías cruzadas son para clasificar)",
             en=f"the loss {spec.loss} is not a regression loss: use \"mse\" or \"mae\" "
                "(cross-entropies are for classification)",
             expected=" | ".join(losses), found=spec.loss, layers=layers)
    record(es=f"salida Dense(1) lineal, pérdida {spec.loss}, {spec.n_params} parámetros",
           en=f"linear Dense(1) output, loss {spec.loss}, {spec.n_params} parameters", layers=layers)


def test_regressor_mae(trained: Called, split: datasets.Split, params: dict[str, Any], record: Recorder, exercise: Any) -> None:
    spec = require_model(trained)
    outputs = trained.value.predict(np.array(split.x_test))
    predictions = learning.convert_or_fail(metrics.outputs_to_values, outputs, split.n_test,
                                           expected=f"({split.n_test}, 1)")
    mae = metrics.mean_absolute_error(split.y_test, predictions.values)
    shown = f"{mae:.2f}" if math.isfinite(mae) else "∞"
    details = {**last_curves(spec), "mae": mae if math.isfinite(mae) else None, "n_test": split.n_test,
               "n_invalid": predictions.n_invalid}
    wording = HeldOutWording(
        measured=Msg(f"error absoluto medio {shown} mpg", f"mean absolute error {shown} mpg"),
        unseen=Msg(f"{split.n_test} coches que el modelo no había visto",
                   f"{split.n_test} cars the model had not seen"),
        held_out=Msg(f"los {split.n_test} coches reservados", f"the {split.n_test} held-out cars"),
        metric="MAE", higher_is_better=False)
    details.update(learning.integrity_details(mae, split, learning.plausibility_ceiling(exercise), False, "MAE"))
    learning.grade_held_out(mae, float(params["mae_full_at"]), float(params["mae_zero_at"]), wording,
                            details, record, hints=lambda: advice(spec, predictions, params))


def advice(spec: ModelSpec, predictions: metrics.Predictions, params: dict[str, Any]) -> Msg:
    """What most likely keeps the error high, from the model's own description."""
    hints_es, hints_en = [], []
    if predictions.note is not None:
        hints_es.append(predictions.note.es + ".")
        hints_en.append(predictions.note.en + ".")
    activation = output_activation(spec)
    if activation not in list(params["output_activations"]):
        hints_es.append(f"La salida usa activación {activation}: una regresión necesita una salida lineal.")
        hints_en.append(f"The output uses activation {activation}: a regression needs a linear output.")
    elif not has_normalisation(spec):
        hints_es.append("Las características tienen escalas muy distintas (weight ≈ 3000, origin 1-3), lo que "
                        "frena el aprendizaje: añade keras.layers.Normalization adaptada con x_train como "
                        "primera capa.")
        hints_en.append("The features have very different scales (weight ≈ 3000, origin 1-3), which slows "
                        "learning: add keras.layers.Normalization adapted on x_train as the first layer.")
    else:
        hints_es.append("Prueba más épocas o una tasa de aprendizaje algo mayor y mira la curva de pérdida.")
        hints_en.append("Try more epochs or a somewhat larger learning rate and look at the loss curve.")
    return Msg(" ".join(hints_es), " ".join(hints_en))


def test_regressor_trains_in_time(trained: Called, record: Recorder) -> None:
    learning.record_training_time(trained, record)
