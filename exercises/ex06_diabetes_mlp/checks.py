"""Checks of ex06_diabetes_mlp: an MLP that predicts diabetes from 7 raw features.

Runs on the trusted side: the sandbox trains the student's model on the 200 training
patients and answers predictions for the 332 held-out ones; their labels, the accuracy and
the confusion matrix are computed here and never cross to the sandbox.
Partial credit: a check below its full-points line fails with `score_fraction` in its
details (the share of its points it still earns; see tfgrade.checklib.learning).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tfgrade import datasets, metrics
from tfgrade.catalogue import Catalogue
from tfgrade.checking import Recorder, fail
from tfgrade.checklib import learning
from tfgrade.checklib.keras_model import has_normalisation, output_activation, output_units
from tfgrade.checklib.learning import Called, HeldOutWording, require_model
from tfgrade.checklib.phrases import fill, join, sentence, verbatim
from tfgrade.i18n import Msg
from tfgrade.specs import LayerSpec, ModelSpec

CLASS_NAMES = ["0 no diabetes", "1 diabetes"]
COMPILE_CALL = 'model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])'


@pytest.fixture(scope="module")
def split(exercise: Any) -> datasets.Split:
    return datasets.load(exercise.id, exercise.data, base_dir=exercise.folder)


@pytest.fixture(scope="module")
def trained(student: Any, split: datasets.Split) -> Called:
    return learning.train(student, "train_model", split)


# --------------------------------------------------------------------------- helpers


def hidden_dense(spec: ModelSpec) -> list[LayerSpec]:
    """Dense layers before the output layer (the last Dense is the output)."""
    dense = list(spec.dense_layers)
    return dense[:-1]


def final_training_accuracy(spec: ModelSpec) -> float | None:
    if not spec.histories:
        return None
    curves = spec.histories[-1].get("curves", {})
    for name in ("accuracy", "acc", "binary_accuracy", "sparse_categorical_accuracy"):
        values = curves.get(name)
        if values:
            return float(values[-1])
    return None


# --------------------------------------------------------------------------- checks


def test_compiled_model(trained: Called, record: Recorder) -> None:
    learning.check_compiled_before_fit(require_model(trained), COMPILE_CALL, record)


def test_hidden_dense_layer(trained: Called, params: dict[str, Any], messages: Catalogue) -> None:
    spec = require_model(trained)
    hidden = hidden_dense(spec)
    want = int(params["min_hidden_dense"])
    if len(hidden) < want:
        fail(messages("no_hidden_layer", want=want, found=len(hidden)),
             expected=f">= {want}", found=len(hidden), layers=spec.summary_rows())


def test_output_and_loss(trained: Called, params: dict[str, Any], record: Recorder, messages: Catalogue) -> None:
    spec = require_model(trained)
    units, activation, loss = output_units(spec), output_activation(spec), spec.loss
    layers = spec.summary_rows()
    sigmoid_losses, softmax_losses = list(params["sigmoid_losses"]), list(params["softmax_losses"])
    found = f"{units} × {activation}, loss {loss}"
    if units == 1 and activation == "softmax":
        fail(messages("softmax_one_unit"), expected="1 × sigmoid | 2 × softmax", found=found, layers=layers)
    if units == 1 and activation != "sigmoid":
        fail(messages("one_unit_not_sigmoid", activation=activation), expected="1 × sigmoid", found=found,
             layers=layers)
    if units == 2 and activation != "softmax":
        fail(messages("two_units_not_softmax", activation=activation), expected="2 × softmax", found=found,
             layers=layers)
    if units not in (1, 2):
        fail(messages("not_two_classes", shape=spec.output_shape), expected="1 × sigmoid | 2 × softmax",
             found=found, layers=layers)
    matching = sigmoid_losses if units == 1 else softmax_losses
    if loss not in matching:
        losses = join((verbatim(name) for name in matching), messages("or"))
        fail(fill(messages, "loss_does_not_match", loss=loss or "—", units=units, activation=activation,
                  losses=losses),
             expected=" | ".join(matching), found=found, layers=layers)
    record(messages("output_and_loss_ok", units=units, activation=activation, loss=loss))


def test_accepts_raw_features(trained: Called, params: dict[str, Any], messages: Catalogue) -> None:
    spec = require_model(trained)
    expected = (None, int(params["n_features"]))
    if spec.input_shape != expected:
        fail(messages("input_shape", want=expected, found=spec.input_shape),
             expected=list(expected), found=list(spec.input_shape) if spec.input_shape else None)


def test_heldout_accuracy(trained: Called, split: datasets.Split, params: dict[str, Any],
                          record: Recorder, exercise: Any, messages: Catalogue, student: Any) -> None:
    spec = require_model(trained)
    outputs = trained.value.predict(np.array(split.x_test))
    predictions = learning.convert_or_fail(metrics.outputs_to_labels, outputs, split.n_test,
                                           expected=f"({split.n_test}, 1) | ({split.n_test}, 2)")
    accuracy, details = learning.classification_details(spec, split, predictions, CLASS_NAMES)
    wording = HeldOutWording(
        measured=messages("accuracy_measured", accuracy=accuracy),
        unseen=messages("patients_unseen", n=split.n_test),
        held_out=messages("patients_held_out", n=split.n_test),
        metric="accuracy", higher_is_better=True)
    details.update(learning.integrity_details(accuracy, split, learning.plausibility_ceiling(exercise), True, "accuracy"))
    details.update(learning.leaderboard_details(metrics.accuracy, split.y_test, predictions.values,
                                                name="accuracy", higher_is_better=True, seed=int(student.seed),
                                                exercise_id=exercise.id, params=params))
    learning.grade_held_out(accuracy, float(params["accuracy_full_at"]), float(params["accuracy_zero_at"]),
                            wording, details, record, hints=lambda: advice(spec, predictions, accuracy, messages))


def advice(spec: ModelSpec, predictions: metrics.Predictions, accuracy: float, messages: Catalogue) -> Msg:
    """What most likely went wrong, from the model's own description (never from the labels)."""
    hints = [sentence(predictions.note)] if predictions.note is not None else []
    valid = predictions.values[predictions.values >= 0]
    if valid.size and np.unique(valid).size == 1:
        hints.append(messages("hint_one_class", label=int(valid[0])))
    if not has_normalisation(spec):
        hints.append(messages("hint_normalise"))
    train_acc = final_training_accuracy(spec)
    if train_acc is not None and train_acc - accuracy > 0.1:
        hints.append(messages("hint_memorises", train_accuracy=train_acc))
    elif train_acc is not None and train_acc < 0.75:
        hints.append(messages("hint_undertrained", train_accuracy=train_acc))
    return join(hints, " ")


def test_trains_in_time(trained: Called, record: Recorder) -> None:
    learning.record_training_time(trained, record)
