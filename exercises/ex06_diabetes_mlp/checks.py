"""Checks of ex06_diabetes_mlp: an MLP that predicts diabetes from 7 raw features.

Runs on the trusted side: the sandbox trains the student's model on the 200 training
patients and answers predictions for the 332 held-out ones; their labels, the accuracy and
the confusion matrix are computed here and never cross to the sandbox.
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
                "GaussianDropout", "AlphaDropout"}
NORMALISING = {"Normalization", "BatchNormalization", "LayerNormalization"}
CLASS_NAMES = ["0 no diabetes", "1 diabetes"]


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


def output_units(spec: ModelSpec) -> int | None:
    return spec.output_shape[-1] if spec.output_shape else None


def hidden_dense(spec: ModelSpec) -> list[Any]:
    """Dense layers before the output layer (the last Dense is the output)."""
    dense = list(spec.dense_layers)
    return dense[:-1]


def last_curves(spec: ModelSpec) -> dict[str, Any]:
    if not spec.histories:
        return {}
    last = spec.histories[-1]
    return {"curves": last.get("curves", {}), "epochs": last.get("epochs", 0), "fits": len(spec.histories)}


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


def test_compiled_model(trained: Trained, record: Any) -> None:
    spec = require_model(trained)
    if not spec.compiled:
        fail(es="el modelo no está compilado: llama a model.compile(optimizer=\"adam\", "
                "loss=\"binary_crossentropy\", metrics=[\"accuracy\"]) y después a model.fit(...)",
             en="the model is not compiled: call model.compile(optimizer=\"adam\", "
                "loss=\"binary_crossentropy\", metrics=[\"accuracy\"]) and then model.fit(...)",
             expected="compiled", found="not compiled", layers=spec.summary_rows())
    record(es=f"compilado con {spec.optimizer} y pérdida {spec.loss}",
           en=f"compiled with {spec.optimizer} and loss {spec.loss}", layers=spec.summary_rows())


def test_hidden_dense_layer(trained: Trained, params: dict[str, Any]) -> None:
    spec = require_model(trained)
    hidden = hidden_dense(spec)
    if len(hidden) < int(params["min_hidden_dense"]):
        fail(es=f"se esperaba al menos {params['min_hidden_dense']} capa Dense oculta antes de la salida; "
                f"hay {len(hidden)}: sin capa oculta el modelo es una regresión logística, no un MLP "
                "(añade p. ej. Dense(8, activation=\"relu\"))",
             en=f"expected at least {params['min_hidden_dense']} hidden Dense layer before the output; "
                f"found {len(hidden)}: without a hidden layer the model is a logistic regression, not an "
                "MLP (add e.g. Dense(8, activation=\"relu\"))",
             expected=f">= {params['min_hidden_dense']}", found=len(hidden), layers=spec.summary_rows())


def test_output_and_loss(trained: Trained, params: dict[str, Any], record: Any) -> None:
    spec = require_model(trained)
    units, activation, loss = output_units(spec), output_activation(spec), spec.loss
    layers = spec.summary_rows()
    sigmoid_losses, softmax_losses = list(params["sigmoid_losses"]), list(params["softmax_losses"])
    found = f"{units} × {activation}, loss {loss}"
    if units == 1 and activation == "softmax":
        fail(es="un softmax sobre UNA unidad siempre vale 1,0: el modelo diría \"diabetes\" a todo el mundo. "
                "Usa Dense(1, activation=\"sigmoid\") o Dense(2, activation=\"softmax\")",
             en="a softmax over ONE unit is always 1.0: the model would say \"diabetes\" to everybody. "
                "Use Dense(1, activation=\"sigmoid\") or Dense(2, activation=\"softmax\")",
             expected="1 × sigmoid | 2 × softmax", found=found, layers=layers)
    if units == 1 and activation != "sigmoid":
        fail(es=f"con una unidad de salida se esperaba activation=\"sigmoid\" (una probabilidad en (0, 1)); "
                f"hay {activation}",
             en=f"with one output unit activation=\"sigmoid\" was expected (a probability in (0, 1)); "
                f"found {activation}", expected="1 × sigmoid", found=found, layers=layers)
    if units == 2 and activation != "softmax":
        fail(es=f"con dos unidades de salida se esperaba activation=\"softmax\"; hay {activation}",
             en=f"with two output units activation=\"softmax\" was expected; found {activation}",
             expected="2 × softmax", found=found, layers=layers)
    if units not in (1, 2):
        fail(es=f"dos clases: se esperaba 1 unidad sigmoid o 2 softmax; la salida tiene forma {spec.output_shape}",
             en=f"two classes: expected 1 sigmoid unit or 2 softmax units; the output has shape {spec.output_shape}",
             expected="1 × sigmoid | 2 × softmax", found=found, layers=layers)
    matching = sigmoid_losses if units == 1 else softmax_losses
    if loss not in matching:
        got = loss or "—"
        fail(es=f"la pérdida ({got}) no casa con la salida {units} × {activation}: usa "
                f"{' o '.join(matching)}",
             en=f"the loss ({got}) does not match the output {units} × {activation}: use "
                f"{' or '.join(matching)}", expected=" | ".join(matching), found=found, layers=layers)
    record(es=f"salida {units} × {activation} con {loss}", en=f"output {units} × {activation} with {loss}")


def test_accepts_raw_features(trained: Trained, params: dict[str, Any]) -> None:
    spec = require_model(trained)
    expected = (None, int(params["n_features"]))
    if spec.input_shape != expected:
        fail(es=f"se esperaba la entrada {expected} (las 7 características sin procesar), hay {spec.input_shape}",
             en=f"expected the input {expected} (the 7 raw features), found {spec.input_shape}",
             expected=list(expected), found=list(spec.input_shape) if spec.input_shape else None)


def test_heldout_accuracy(trained: Trained, split: datasets.Split, params: dict[str, Any], record: Any) -> None:
    spec = require_model(trained)
    outputs = trained.value.predict(np.array(split.x_test))
    try:
        predictions = metrics.outputs_to_labels(outputs, split.n_test)
    except metrics.PredictionShapeError as exc:
        fail(es=exc.msg.es, en=exc.msg.en, expected=f"({split.n_test}, 1) | ({split.n_test}, 2)",
             found=list(np.shape(outputs)))
    accuracy = metrics.accuracy(split.y_test, predictions.values)
    counts = metrics.confusion_counts(split.y_test, predictions.values, 2)
    full_at, zero_at = float(params["accuracy_full_at"]), float(params["accuracy_zero_at"])
    fraction = metrics.partial_credit(accuracy, full_at, zero_at)
    details = {**last_curves(spec), "accuracy": round(accuracy, 4), "n_test": split.n_test,
               "confusion_matrix": {"counts": counts, "labels": CLASS_NAMES},
               "n_invalid": predictions.n_invalid}
    if fraction >= 1.0:
        record(es=es_decimals(f"exactitud {accuracy:.3f} en {split.n_test} pacientes que el modelo no había "
                              f"visto (puntos completos desde {full_at:g})"),
               en=f"accuracy {accuracy:.3f} on {split.n_test} patients the model had not seen "
                  f"(full points from {full_at:g})", **details)
        return
    hints_es, hints_en = advice(spec, predictions, accuracy)
    fail(es=es_decimals(f"exactitud {accuracy:.3f} en los {split.n_test} pacientes reservados; puntos completos "
                        f"con ≥ {full_at:g}, 0 puntos con ≤ {zero_at:g} (obtienes el {fraction:.0%}). ")
            + " ".join(hints_es),
         en=f"accuracy {accuracy:.3f} on the {split.n_test} held-out patients; full points at "
            f"≥ {full_at:g}, 0 points at ≤ {zero_at:g} (you earn {fraction:.0%}). " + " ".join(hints_en),
         expected=f"accuracy ≥ {full_at:g}", found=round(accuracy, 4), score_fraction=round(fraction, 4),
         **details)


def advice(spec: ModelSpec, predictions: metrics.Predictions, accuracy: float) -> tuple[list[str], list[str]]:
    """What most likely went wrong, from the model's own description (never from the labels)."""
    es: list[str] = []
    en: list[str] = []
    if predictions.note is not None:
        es.append(predictions.note.es + ".")
        en.append(predictions.note.en + ".")
    valid = predictions.values[predictions.values >= 0]
    if valid.size and np.unique(valid).size == 1:
        es.append(f"El modelo predice la clase {int(valid[0])} para todos los pacientes.")
        en.append(f"The model predicts class {int(valid[0])} for every patient.")
    if not any(layer.type in NORMALISING for layer in spec.layers):
        es.append("Las características tienen escalas muy distintas (glu ≈ 120, ped ≈ 0,5) y sin normalizar el "
                  "aprendizaje es lento: añade keras.layers.Normalization() adaptada con x_train "
                  "(norm.adapt(x_train)) como primera capa.")
        en.append("The features have very different scales (glu ≈ 120, ped ≈ 0.5) and without normalisation "
                  "learning is slow: add keras.layers.Normalization() adapted on x_train "
                  "(norm.adapt(x_train)) as the first layer.")
    train_acc = final_training_accuracy(spec)
    if train_acc is not None and train_acc - accuracy > 0.1:
        es.append(f"En entrenamiento acierta {es_decimals(f'{train_acc:.2f}')}: memoriza los 200 pacientes. Usa una red más "
                  "pequeña, menos épocas, Dropout o regularización L2.")
        en.append(f"It scores {train_acc:.2f} on the training data: it memorises the 200 patients. Use a "
                  "smaller network, fewer epochs, Dropout or L2 regularisation.")
    elif train_acc is not None and train_acc < 0.75:
        es.append(f"En entrenamiento solo acierta {es_decimals(f'{train_acc:.2f}')}: entrena más épocas o con una tasa de "
                  "aprendizaje algo mayor.")
        en.append(f"It only scores {train_acc:.2f} on the training data: train for more epochs or with a "
                  "somewhat larger learning rate.")
    return es, en


def test_trains_in_time(trained: Trained, record: Any) -> None:
    # A call over the limit raises StudentError("timeout") in the fixture: reaching here means
    # train_model returned in time.
    record(es=es_decimals(f"train_model tardó {trained.duration_s:.1f} s"), en=f"train_model took {trained.duration_s:.1f} s",
           duration_s=round(trained.duration_s, 3), fit_calls=int(trained.events.get("fit", 0)),
           # The curves are the student's own training data: shown here, on a visible check.
           **(last_curves(trained.value.spec) if isinstance(trained.value, ModelHandle) else {}))
