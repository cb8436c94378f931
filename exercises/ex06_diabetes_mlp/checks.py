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
from tfgrade.checking import Recorder, fail
from tfgrade.checklib import learning
from tfgrade.checklib.keras_model import has_normalisation, output_activation, output_units
from tfgrade.checklib.learning import Called, HeldOutWording, require_model
from tfgrade.checklib.wording import es_decimals
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


def test_hidden_dense_layer(trained: Called, params: dict[str, Any]) -> None:
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


def test_output_and_loss(trained: Called, params: dict[str, Any], record: Recorder) -> None:
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


def test_accepts_raw_features(trained: Called, params: dict[str, Any]) -> None:
    spec = require_model(trained)
    expected = (None, int(params["n_features"]))
    if spec.input_shape != expected:
        fail(es=f"se esperaba la entrada {expected} (las 7 características sin procesar), hay {spec.input_shape}",
             en=f"expected the input {expected} (the 7 raw features), found {spec.input_shape}",
             expected=list(expected), found=list(spec.input_shape) if spec.input_shape else None)


def test_heldout_accuracy(trained: Called, split: datasets.Split, params: dict[str, Any],
                          record: Recorder, exercise: Any) -> None:
    spec = require_model(trained)
    outputs = trained.value.predict(np.array(split.x_test))
    predictions = learning.convert_or_fail(metrics.outputs_to_labels, outputs, split.n_test,
                                           expected=f"({split.n_test}, 1) | ({split.n_test}, 2)")
    accuracy, details = learning.classification_details(spec, split, predictions, CLASS_NAMES)
    wording = HeldOutWording(
        measured=Msg(f"exactitud {accuracy:.3f}", f"accuracy {accuracy:.3f}"),
        unseen=Msg(f"{split.n_test} pacientes que el modelo no había visto",
                   f"{split.n_test} patients the model had not seen"),
        held_out=Msg(f"los {split.n_test} pacientes reservados", f"the {split.n_test} held-out patients"),
        metric="accuracy", higher_is_better=True)
    details.update(learning.integrity_details(accuracy, split, learning.plausibility_ceiling(exercise), True, "accuracy"))
    learning.grade_held_out(accuracy, float(params["accuracy_full_at"]), float(params["accuracy_zero_at"]),
                            wording, details, record, hints=lambda: advice(spec, predictions, accuracy))


def advice(spec: ModelSpec, predictions: metrics.Predictions, accuracy: float) -> Msg:
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
    if not has_normalisation(spec):
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
    return Msg(" ".join(es), " ".join(en))


def test_trains_in_time(trained: Called, record: Recorder) -> None:
    learning.record_training_time(trained, record)
