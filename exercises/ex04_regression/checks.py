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
from tfgrade.catalogue import Catalogue
from tfgrade.checking import Recorder, fail
from tfgrade.checklib import learning
from tfgrade.checklib import source as src
from tfgrade.checklib.keras_model import has_normalisation, output_activation, output_units
from tfgrade.checklib.learning import Called, HeldOutWording, last_curves
from tfgrade.checklib.phrases import join, sentence
from tfgrade.checklib.wording import describe_with_contents
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


def require_pair(called: Called, messages: Catalogue) -> tuple[Any, Any]:
    value = called.value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    if not called.reported:
        called.reported = True
        found = describe_with_contents(value)
        fail(messages("not_a_pair", found=found), expected="(w, b)", found=found)
    fail(messages("pair_not_evaluated"))


def require_model(called: Called) -> ModelSpec:
    return learning.require_model(called, describe_with_contents)


# --------------------------------------------------------------------------- part A: fit_line


def test_fit_line_recovers_line(line_fit: Called, line: LineProblem, params: dict[str, Any],
                                record: Recorder, messages: Catalogue) -> None:
    w_value, b_value = require_pair(line_fit, messages)
    w, b = number(w_value), number(b_value)
    tol = float(params["line_tolerance"])
    want = f"w ≈ {line.w:.3f}, b ≈ {line.b:.3f} (±{tol:g})"
    if w is None or b is None:
        shown_w, shown_b = describe_with_contents(w_value), describe_with_contents(b_value)
        fail(messages("not_two_numbers", w=shown_w, b=shown_b), expected=want, found=f"w = {shown_w}, b = {shown_b}")
    found = f"w = {w:.3f}, b = {b:.3f}"
    numbers = {"w": w, "b": b, "w_true": line.w, "b_true": line.b, "tol": tol}
    if not (math.isfinite(w) and math.isfinite(b)):
        fail(messages("line_diverges", **numbers), expected=want, found=found)
    if abs(w - line.w) > tol or abs(b - line.b) > tol:
        fail(messages("line_not_recovered", **numbers), expected=want, found=found)
    record(messages("line_recovered", **numbers),
           w=w, b=b, w_true=line.w, b_true=line.b, duration_s=round(line_fit.duration_s, 3))


def test_fit_line_uses_gradient_tape(student: Any, line_fit: Called, params: dict[str, Any],
                                     record: Recorder, messages: Catalogue) -> None:
    # Read from the source (with the helpers fit_line calls), not from the child's counters:
    # a `with tf.GradientTape()` block, a `.gradient(...)` call, and no closed form beside them.
    view = src.SourceView.parse(student.source)
    reach = view.reach("fit_line")
    closed = [name for name in params["closed_forms"] if src.calls_named(reach, name)]
    has_tape = src.with_context(reach, "GradientTape")
    gradients = src.method_calls(reach, "gradient")
    if closed:
        fail(messages("closed_form", closed=", ".join(closed)), expected="tf.GradientTape", found=", ".join(closed))
    if not has_tape or gradients == 0:
        fail(messages("no_tape_block") if not has_tape else messages("no_tape_gradient"),
             expected="tf.GradientTape().gradient(...)", found="not in the source")
    calls = int(line_fit.events.get("gradient_tape_gradient", 0))   # self-reported: shown, not scored
    record(messages("uses_tape"), self_reported_tape_gradients=calls)


def test_fit_line_returns_floats(line_fit: Called, messages: Catalogue) -> None:
    pair = require_pair(line_fit, messages)
    wrong = [(name, v) for name, v in zip(("w", "b"), pair, strict=True) if type(v) is not float]
    if not wrong:
        return
    found = "; ".join(f"{name}: {describe_with_contents(v)}" for name, v in wrong)
    if any(isinstance(v, TensorValue) for _, v in wrong):
        said = messages("floats_not_tensors", found=found)
    elif any(isinstance(v, np.ndarray) for _, v in wrong):
        said = messages("floats_not_numpy", found=found)
    else:
        said = messages("floats_convert", found=found)
    fail(said, expected="(float, float)", found=found)


# --------------------------------------------------------------------------- part B: train_regressor


def test_regressor_output_and_loss(trained: Called, params: dict[str, Any], record: Recorder,
                                   messages: Catalogue) -> None:
    spec = require_model(trained)
    layers = spec.summary_rows()
    if not spec.compiled:
        fail(messages("regressor_not_compiled"), expected="compiled", found="not compiled", layers=layers)
    units, activation = output_units(spec), output_activation(spec)
    if units != 1:
        fail(messages("regressor_not_one_output", shape=spec.output_shape), expected="(None, 1)",
             found=spec.output_shape, layers=layers)
    allowed = list(params["output_activations"])
    if activation not in allowed:
        if activation == "sigmoid":
            said = messages("output_sigmoid")
        elif activation == "relu":
            said = messages("output_relu")
        else:
            said = messages("output_not_linear", activation=activation)
        fail(said, expected="linear", found=activation, layers=layers)
    losses = list(params["regression_losses"])
    if spec.loss not in losses:
        fail(messages("not_a_regression_loss", loss=spec.loss), expected=" | ".join(losses), found=spec.loss,
             layers=layers)
    record(messages("regressor_ok", loss=spec.loss, n_params=spec.n_params), layers=layers)


def test_regressor_mae(trained: Called, split: datasets.Split, params: dict[str, Any], record: Recorder,
                       exercise: Any, messages: Catalogue, student: Any) -> None:
    spec = require_model(trained)
    outputs = trained.value.predict(np.array(split.x_test))
    predictions = learning.convert_or_fail(metrics.outputs_to_values, outputs, split.n_test,
                                           expected=f"({split.n_test}, 1)")
    mae = metrics.mean_absolute_error(split.y_test, predictions.values)
    details = {**last_curves(spec), "mae": mae if math.isfinite(mae) else None, "n_test": split.n_test,
               "n_invalid": predictions.n_invalid}
    wording = HeldOutWording(
        measured=messages("mae_measured", mae=mae) if math.isfinite(mae) else messages("mae_measured_infinite"),
        unseen=messages("cars_unseen", n=split.n_test),
        held_out=messages("cars_held_out", n=split.n_test),
        metric="MAE", higher_is_better=False)
    details.update(learning.integrity_details(mae, split, learning.plausibility_ceiling(exercise), False, "MAE"))
    details.update(learning.leaderboard_details(metrics.mean_absolute_error, split.y_test, predictions.values,
                                                name="mae", higher_is_better=False, seed=int(student.seed),
                                                exercise_id=exercise.id, params=params))
    learning.grade_held_out(mae, float(params["mae_full_at"]), float(params["mae_zero_at"]), wording,
                            details, record, hints=lambda: advice(spec, predictions, params, messages))


def advice(spec: ModelSpec, predictions: metrics.Predictions, params: dict[str, Any], messages: Catalogue) -> Msg:
    """What most likely keeps the error high, from the model's own description."""
    hints = [sentence(predictions.note)] if predictions.note is not None else []
    activation = output_activation(spec)
    if activation not in list(params["output_activations"]):
        hints.append(messages("hint_output_not_linear", activation=activation))
    elif not has_normalisation(spec):
        hints.append(messages("hint_normalise"))
    else:
        hints.append(messages("hint_more_epochs"))
    return join(hints, " ")


def test_regressor_trains_in_time(trained: Called, record: Recorder) -> None:
    learning.record_training_time(trained, record)
