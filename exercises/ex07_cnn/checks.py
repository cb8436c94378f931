"""Checks of ex07_cnn: a small convolutional network on 8x8 handwritten digits.

Runs on the trusted side: the sandbox trains the student's model on 75 % of the images and
answers predictions for the other 25 %; their labels, the accuracy and the confusion
matrix are computed here and never cross to the sandbox.
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
from tfgrade.checklib.keras_model import PASS_THROUGH, output_activation
from tfgrade.checklib.learning import Called, HeldOutWording, require_model
from tfgrade.checklib.phrases import join, sentence
from tfgrade.i18n import Msg
from tfgrade.specs import ModelSpec

# A spatial dropout after the last convolution passes its input through as well.
CNN_PASS_THROUGH = PASS_THROUGH | {"SpatialDropout2D"}
COMPILE_CALL = 'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])'


@pytest.fixture(scope="module")
def split(exercise: Any) -> datasets.Split:
    return datasets.load(exercise.id, exercise.data, base_dir=exercise.folder)


@pytest.fixture(scope="module")
def trained(student: Any, split: datasets.Split) -> Called:
    return learning.train(student, "train_model", split)


def layer_types(spec: ModelSpec) -> str:
    return " → ".join(layer.type for layer in spec.layers) or "—"


# --------------------------------------------------------------------------- checks


def test_compiled_model(trained: Called, record: Recorder) -> None:
    learning.check_compiled_before_fit(require_model(trained), COMPILE_CALL, record)


def test_has_conv2d(trained: Called, params: dict[str, Any], record: Recorder, messages: Catalogue) -> None:
    spec = require_model(trained)
    conv = [layer for layer in spec.layers if layer.type in params["conv_layers"]]
    if not conv:
        fail(messages("no_conv2d", layers=layer_types(spec)), expected="Conv2D", found=layer_types(spec),
             layers=spec.summary_rows())
    shown = ", ".join(f"{layer.type}({layer.filters}, {layer.kernel_size})" for layer in conv)
    record(messages("convolutions", shown=shown))


def test_downsamples(trained: Called, params: dict[str, Any], record: Recorder, messages: Catalogue) -> None:
    spec = require_model(trained)
    pooling = [layer.type for layer in spec.layers if layer.type in params["pooling_layers"]]
    strided = [layer.name for layer in spec.layers
               if layer.type in params["conv_layers"] and layer.strides and max(layer.strides) > 1]
    if not pooling and not strided:
        fail(messages("never_downsamples", layers=layer_types(spec)), expected="pooling | strides > 1",
             found=layer_types(spec))
    record(messages("downsamples", shown=", ".join(pooling + strided)))


def test_softmax_output(trained: Called, params: dict[str, Any], messages: Catalogue) -> None:
    spec = require_model(trained)
    n = int(params["n_classes"])
    units = spec.output_shape[-1] if spec.output_shape else None
    activation = output_activation(spec, CNN_PASS_THROUGH)
    if units != n or activation != "softmax":
        said = messages("not_softmax_output", n=n, units=units, activation=activation)
        if activation in ("linear", None) and units == n:
            said += messages("logits_hint")
        fail(said, expected=f"{n} × softmax", found=f"{units} × {activation}")


def test_parameter_budget(trained: Called, params: dict[str, Any], record: Recorder, messages: Catalogue) -> None:
    spec = require_model(trained)
    budget = int(params["max_params"])
    if spec.n_params > budget:
        biggest = max(spec.layers, key=lambda layer: layer.params, default=None)
        said = (messages("over_budget", budget=budget, n_params=spec.n_params) if biggest is None else
                messages("over_budget_largest", budget=budget, n_params=spec.n_params, name=biggest.name,
                         type=biggest.type, layer_params=biggest.params))
        fail(said, expected=f"<= {budget}", found=spec.n_params, layers=spec.summary_rows())
    record(messages("parameters", n_params=spec.n_params), n_params=spec.n_params)


def test_heldout_accuracy(trained: Called, split: datasets.Split, params: dict[str, Any],
                          record: Recorder, exercise: Any, messages: Catalogue, student: Any) -> None:
    spec = require_model(trained)
    n_classes = int(params["n_classes"])
    outputs = trained.value.predict(np.array(split.x_test))
    if np.ndim(outputs) != 2 or np.shape(outputs)[1] != n_classes:
        fail(messages("predictions_shape", n_test=split.n_test, n_classes=n_classes, found=np.shape(outputs)),
             expected=[split.n_test, n_classes], found=list(np.shape(outputs)))
    predictions = learning.convert_or_fail(metrics.outputs_to_labels, outputs, split.n_test,
                                           expected=[split.n_test, n_classes])
    accuracy, details = learning.classification_details(spec, split, predictions,
                                                        [str(d) for d in range(n_classes)])
    wording = HeldOutWording(
        measured=messages("accuracy_measured", accuracy=accuracy),
        unseen=messages("images_unseen", n=split.n_test),
        held_out=messages("images_held_out", n=split.n_test),
        metric="accuracy", higher_is_better=True)
    details.update(learning.integrity_details(accuracy, split, learning.plausibility_ceiling(exercise), True, "accuracy"))
    details.update(learning.leaderboard_details(metrics.accuracy, split.y_test, predictions.values,
                                                name="accuracy", higher_is_better=True, seed=int(student.seed),
                                                exercise_id=exercise.id, params=params))
    learning.grade_held_out(accuracy, float(params["accuracy_full_at"]), float(params["accuracy_zero_at"]),
                            wording, details, record, hints=lambda: advice(predictions, messages))


def advice(predictions: metrics.Predictions, messages: Catalogue) -> Msg:
    hint = messages("hint_loss_curve")
    return join([sentence(predictions.note), hint], " ") if predictions.note is not None else hint


def test_trains_in_time(trained: Called, record: Recorder) -> None:
    learning.record_training_time(trained, record)
