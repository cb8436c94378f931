"""Checks of ex07_cnn: a small convolutional network on 8x8 handwritten digits.

Runs on the trusted side: the sandbox trains the student's model on 75 % of the images and
answers predictions for the other 25 %; their labels, the accuracy and the confusion
matrix are computed here and never cross to the sandbox.
Partial credit: a check below its full-points line fails with `score_fraction` in its
details (the share of its points it still earns, from grader.metrics.partial_credit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from grader import datasets, metrics
from grader.checking import fail
from grader.specs import ModelHandle, ModelSpec, OpaqueValue, TensorValue


def es_decimals(text: str) -> str:
    """Spanish writes decimals with a comma: 0.75 -> 0,75 (only between digits)."""
    return re.sub(r"(?<=\d)\.(?=\d)", ",", text)


PASS_THROUGH = {"Dropout", "Flatten", "Reshape", "ActivityRegularization", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "SpatialDropout2D"}


@dataclass
class Trained:
    """What train_model returned, with what the sandbox saw during that very call."""

    value: Any
    events: dict[str, int]
    duration_s: float
    reported: bool = False


@pytest.fixture(scope="module")
def split(exercise: Any) -> datasets.Split:
    return datasets.load(exercise.id, exercise.data, base_dir=exercise.folder)


@pytest.fixture(scope="module")
def trained(student: Any, split: datasets.Split) -> Trained:
    value = student.train("train_model", np.array(split.x_train), np.array(split.y_train))
    return Trained(value, dict(student.last.events), student.last.duration_s)


# --------------------------------------------------------------------------- helpers


def describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, TensorValue):
        return f"tf.Tensor ({value.dtype})"
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray {value.shape}"
    if isinstance(value, OpaqueValue):
        return value.type_name
    if isinstance(value, ModelHandle):
        return "keras.Model"
    return f"{type(value).__name__} {value!r}"[:120]


def require_model(trained: Trained) -> ModelSpec:
    if isinstance(trained.value, ModelHandle):
        return trained.value.spec
    if not trained.reported:
        trained.reported = True
        fail(es=f"train_model debe devolver el keras.Model entrenado; devolvió {describe(trained.value)}",
             en=f"train_model must return the trained keras.Model; it returned {describe(trained.value)}",
             expected="keras.Model", found=describe(trained.value))
    fail(es="no evaluado: train_model no devolvió un modelo (ver la primera comprobación)",
         en="not evaluated: train_model did not return a model (see the first check)")


def output_activation(spec: ModelSpec) -> str | None:
    """The activation applied last: an Activation/Softmax layer, or the last real layer's."""
    for layer in reversed(spec.layers):
        if layer.type == "Softmax":
            return "softmax"
        if layer.type == "Activation":
            return layer.activation
        if layer.type in PASS_THROUGH:
            continue
        return layer.activation or "linear"
    return None


def last_curves(spec: ModelSpec) -> dict[str, Any]:
    if not spec.histories:
        return {}
    last = spec.histories[-1]
    return {"curves": last.get("curves", {}), "epochs": last.get("epochs", 0), "fits": len(spec.histories)}


def thousands_es(n: int) -> str:
    """100000 -> "100.000" (Spanish groups thousands with a point)."""
    return f"{n:,}".replace(",", ".")


def layer_types(spec: ModelSpec) -> str:
    return " → ".join(layer.type for layer in spec.layers) or "—"


# --------------------------------------------------------------------------- checks


def test_compiled_model(trained: Trained, record: Any) -> None:
    spec = require_model(trained)
    if not spec.compiled:
        fail(es="el modelo no está compilado: llama a model.compile(optimizer=\"adam\", "
                "loss=\"sparse_categorical_crossentropy\", metrics=[\"accuracy\"]) y después a model.fit(...)",
             en="the model is not compiled: call model.compile(optimizer=\"adam\", "
                "loss=\"sparse_categorical_crossentropy\", metrics=[\"accuracy\"]) and then model.fit(...)",
             expected="compiled", found="not compiled", layers=spec.summary_rows())
    record(es=f"compilado con {spec.optimizer} y pérdida {spec.loss}",
           en=f"compiled with {spec.optimizer} and loss {spec.loss}", layers=spec.summary_rows())


def test_has_conv2d(trained: Trained, params: dict[str, Any], record: Any) -> None:
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


def test_downsamples(trained: Trained, params: dict[str, Any], record: Any) -> None:
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


def test_softmax_output(trained: Trained, params: dict[str, Any]) -> None:
    spec = require_model(trained)
    n = int(params["n_classes"])
    units = spec.output_shape[-1] if spec.output_shape else None
    activation = output_activation(spec)
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


def test_parameter_budget(trained: Trained, params: dict[str, Any], record: Any) -> None:
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


def test_heldout_accuracy(trained: Trained, split: datasets.Split, params: dict[str, Any], record: Any) -> None:
    spec = require_model(trained)
    n_classes = int(params["n_classes"])
    outputs = trained.value.predict(np.array(split.x_test))
    if np.ndim(outputs) != 2 or np.shape(outputs)[1] != n_classes:
        fail(es=f"se esperaban predicciones de forma ({split.n_test}, {n_classes}), hay {np.shape(outputs)}",
             en=f"expected predictions of shape ({split.n_test}, {n_classes}), found {np.shape(outputs)}",
             expected=[split.n_test, n_classes], found=list(np.shape(outputs)))
    try:
        predictions = metrics.outputs_to_labels(outputs, split.n_test)
    except metrics.PredictionShapeError as exc:
        fail(es=exc.msg.es, en=exc.msg.en, expected=[split.n_test, n_classes], found=list(np.shape(outputs)))
    accuracy = metrics.accuracy(split.y_test, predictions.values)
    counts = metrics.confusion_counts(split.y_test, predictions.values, n_classes)
    full_at, zero_at = float(params["accuracy_full_at"]), float(params["accuracy_zero_at"])
    fraction = metrics.partial_credit(accuracy, full_at, zero_at)
    details = {**last_curves(spec), "accuracy": round(accuracy, 4), "n_test": split.n_test,
               "confusion_matrix": {"counts": counts, "labels": [str(d) for d in range(n_classes)]},
               "n_invalid": predictions.n_invalid}
    if fraction >= 1.0:
        record(es=es_decimals(f"exactitud {accuracy:.3f} en {split.n_test} imágenes que el modelo no había "
                              f"visto (puntos completos desde {full_at:g})"),
               en=f"accuracy {accuracy:.3f} on {split.n_test} images the model had not seen "
                  f"(full points from {full_at:g})", **details)
        return
    hint_es = ("Mira la curva de pérdida: si aún baja al final, entrena más épocas; si la exactitud de "
               "entrenamiento es alta y esta no, el modelo memoriza (menos parámetros o Dropout).")
    hint_en = ("Look at the loss curve: if it still falls at the end, train for more epochs; if training "
               "accuracy is high and this one is not, the model memorises (fewer parameters or Dropout).")
    if predictions.note is not None:
        hint_es, hint_en = predictions.note.es + ". " + hint_es, predictions.note.en + ". " + hint_en
    fail(es=es_decimals(f"exactitud {accuracy:.3f} en las {split.n_test} imágenes reservadas; puntos completos "
                        f"con ≥ {full_at:g}, 0 puntos con ≤ {zero_at:g} (obtienes el {fraction:.0%}). ") + hint_es,
         en=f"accuracy {accuracy:.3f} on the {split.n_test} held-out images; full points at "
            f"≥ {full_at:g}, 0 points at ≤ {zero_at:g} (you earn {fraction:.0%}). {hint_en}",
         expected=f"accuracy ≥ {full_at:g}", found=round(accuracy, 4), score_fraction=round(fraction, 4),
         **details)


def test_trains_in_time(trained: Trained, record: Any) -> None:
    # A call over the limit raises StudentError("timeout") in the fixture: reaching here means
    # train_model returned in time.
    record(es=es_decimals(f"train_model tardó {trained.duration_s:.1f} s"), en=f"train_model took {trained.duration_s:.1f} s",
           duration_s=round(trained.duration_s, 3), fit_calls=int(trained.events.get("fit", 0)),
           # The curves are the student's own training data: shown here, on a visible check.
           **(last_curves(trained.value.spec) if isinstance(trained.value, ModelHandle) else {}))
