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
from tfgrade.checking import Recorder, fail
from tfgrade.checklib import learning
from tfgrade.checklib.keras_model import PASS_THROUGH, output_activation
from tfgrade.checklib.learning import Called, HeldOutWording, require_model
from tfgrade.checklib.wording import thousands_es
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


def test_has_conv2d(trained: Called, params: dict[str, Any], record: Recorder) -> None:
    spec = require_model(trained)
    conv = [layer for layer in spec.layers if layer.type in params["conv_layers"]]
    if not conv:
        fail(es=f"no hay ninguna capa Conv2D ({layer_types(spec)}): una red solo Dense trata cada píxel por "
                "separado; añade p. ej. keras.layers.Conv2D(16, 3, padding=\"same\", activation=\"relu\")",
             en=f"there is no Conv2D layer ({layer_types(spec)}): a Dense-only network treats every pixel "
                "on its own; add e.g. keras.layers.Conv2D(16, 3, padding=\"same\", activation=\"relu\")",
             expected="Conv2D", found=layer_types(spec), layers=spec.summary_rows())
    shown = ", ".join(f"{layer.type}({layer.filters}, {layer.kernel_size})" for layer in conv)
    record(es=f"convoluciones: {shown}", en=f"convolutions: {shown}")


def test_downsamples(trained: Called, params: dict[str, Any], record: Recorder) -> None:
    spec = require_model(trained)
    pooling = [layer.type for layer in spec.layers if layer.type in params["pooling_layers"]]
    strided = [layer.name for layer in spec.layers
               if layer.type in params["conv_layers"] and layer.strides and max(layer.strides) > 1]
    if not pooling and not strided:
        fail(es=f"el modelo no reduce la resolución ({layer_types(spec)}): añade keras.layers.MaxPooling2D(2) "
                "tras una convolución (o usa Conv2D(..., strides=2))",
             en=f"the model never downsamples ({layer_types(spec)}): add keras.layers.MaxPooling2D(2) "
                "after a convolution (or use Conv2D(..., strides=2))",
             expected="pooling | strides > 1", found=layer_types(spec))
    record(es=f"reduce con {', '.join(pooling + strided)}", en=f"downsamples with {', '.join(pooling + strided)}")


def test_softmax_output(trained: Called, params: dict[str, Any]) -> None:
    spec = require_model(trained)
    n = int(params["n_classes"])
    units = spec.output_shape[-1] if spec.output_shape else None
    activation = output_activation(spec, CNN_PASS_THROUGH)
    if units != n or activation != "softmax":
        hint_es = hint_en = ""
        if activation in ("linear", None) and units == n:
            hint_es = " (si usas logits con from_logits=True, la salida no son probabilidades: pon softmax)"
            hint_en = " (logits with from_logits=True are not probabilities: use softmax)"
        fail(es=f"se esperaba Dense({n}, activation=\"softmax\"), una probabilidad por dígito; la salida tiene "
                f"{units} unidades con activación {activation}{hint_es}",
             en=f"expected Dense({n}, activation=\"softmax\"), one probability per digit; the output has "
                f"{units} units with activation {activation}{hint_en}",
             expected=f"{n} × softmax", found=f"{units} × {activation}")


def test_parameter_budget(trained: Called, params: dict[str, Any], record: Recorder) -> None:
    spec = require_model(trained)
    budget = int(params["max_params"])
    if spec.n_params > budget:
        biggest = max(spec.layers, key=lambda layer: layer.params, default=None)
        where_es = where_en = ""
        if biggest is not None:
            where_es = (f"; la capa más grande es {biggest.name} ({biggest.type}, "
                        f"{thousands_es(biggest.params)} parámetros)")
            where_en = f"; the largest layer is {biggest.name} ({biggest.type}, {biggest.params:,} parameters)"
        fail(es=f"se permiten como mucho {thousands_es(budget)} parámetros, el modelo tiene "
                f"{thousands_es(spec.n_params)}{where_es}. "
                "Reduce la resolución antes de Flatten (pooling) o usa menos unidades",
             en=f"at most {budget:,} parameters are allowed, the model has {spec.n_params:,}{where_en}. "
                "Downsample before Flatten (pooling) or use fewer units",
             expected=f"<= {budget}", found=spec.n_params, layers=spec.summary_rows())
    record(es=f"{thousands_es(spec.n_params)} parámetros", en=f"{spec.n_params:,} parameters", n_params=spec.n_params)


def test_heldout_accuracy(trained: Called, split: datasets.Split, params: dict[str, Any],
                          record: Recorder, exercise: Any) -> None:
    spec = require_model(trained)
    n_classes = int(params["n_classes"])
    outputs = trained.value.predict(np.array(split.x_test))
    if np.ndim(outputs) != 2 or np.shape(outputs)[1] != n_classes:
        fail(es=f"se esperaban predicciones de forma ({split.n_test}, {n_classes}), hay {np.shape(outputs)}",
             en=f"expected predictions of shape ({split.n_test}, {n_classes}), found {np.shape(outputs)}",
             expected=[split.n_test, n_classes], found=list(np.shape(outputs)))
    predictions = learning.convert_or_fail(metrics.outputs_to_labels, outputs, split.n_test,
                                           expected=[split.n_test, n_classes])
    accuracy, details = learning.classification_details(spec, split, predictions,
                                                        [str(d) for d in range(n_classes)])
    wording = HeldOutWording(
        measured=Msg(f"exactitud {accuracy:.3f}", f"accuracy {accuracy:.3f}"),
        unseen=Msg(f"{split.n_test} imágenes que el modelo no había visto",
                   f"{split.n_test} images the model had not seen"),
        held_out=Msg(f"las {split.n_test} imágenes reservadas", f"the {split.n_test} held-out images"),
        metric="accuracy", higher_is_better=True)
    details.update(learning.integrity_details(accuracy, split, learning.plausibility_ceiling(exercise), True, "accuracy"))
    learning.grade_held_out(accuracy, float(params["accuracy_full_at"]), float(params["accuracy_zero_at"]),
                            wording, details, record, hints=lambda: advice(predictions))


def advice(predictions: metrics.Predictions) -> Msg:
    hint = Msg("Mira la curva de pérdida: si aún baja al final, entrena más épocas; si la exactitud de "
               "entrenamiento es alta y esta no, el modelo memoriza (menos parámetros o Dropout).",
               "Look at the loss curve: if it still falls at the end, train for more epochs; if training "
               "accuracy is high and this one is not, the model memorises (fewer parameters or Dropout).")
    if predictions.note is not None:
        return predictions.note + Msg(". ", ". ") + hint
    return hint


def test_trains_in_time(trained: Called, record: Recorder) -> None:
    learning.record_training_time(trained, record)
