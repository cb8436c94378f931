"""Checks of ex03_functional: the slide's network with the functional API, compiled.

Runs on the trusted side: it reads the ModelSpec the sandbox describes, never the model.
The shared slide-model checks (layers, parameters, compile call with its Keras 2 → 3
pitfall) live in tfgrade.checklib.keras_model; every expectation comes from `params`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tfgrade.checking import Recorder, fail
from tfgrade.checklib import keras_model
from tfgrade.checklib.keras_model import Returned, model_spec
from tfgrade.checklib.wording import shape_text


@pytest.fixture(scope="module")
def returned(student: Any) -> Returned:
    return Returned.from_value("build_model", student.call("build_model"))


# --------------------------------------------------------------------------- checks


def test_is_functional(returned: Returned, params: dict[str, Any]) -> None:
    spec = model_spec(returned)
    es: list[str] = []
    en: list[str] = []
    dim = params["input_dim"]
    if spec.class_kind == "sequential":
        es.append(f"se esperaba un modelo funcional, hay un keras.Sequential ({spec.class_name}): "
                  f"crea inputs = keras.Input(shape=({dim},)), llama a las capas sobre tensores y "
                  "termina con keras.Model(inputs=inputs, outputs=x)")
        en.append(f"expected a functional model, found a keras.Sequential ({spec.class_name}): "
                  f"create inputs = keras.Input(shape=({dim},)), call the layers on tensors and "
                  "finish with keras.Model(inputs=inputs, outputs=x)")
    elif spec.class_kind != params["model_kind"]:
        es.append(f"se esperaba un modelo funcional, hay una subclase de keras.Model ({spec.class_name}): "
                  "no definas una clase; usa keras.Model(inputs=inputs, outputs=x)")
        en.append(f"expected a functional model, found a subclass of keras.Model ({spec.class_name}): "
                  "do not define a class; use keras.Model(inputs=inputs, outputs=x)")
    want = (None, dim)
    found = tuple(spec.input_shape) if spec.input_shape is not None else None
    # A subclass has no input shape to report; the message above already says what to change.
    if found != want and not (found is None and es):
        es.append(f"se esperaba la forma de entrada {shape_text(want)}, hay {shape_text(found)}")
        en.append(f"expected input shape {shape_text(want)}, found {shape_text(found)}")
    if es:
        fail(es="; ".join(es), en="; ".join(en),
             expected=f"functional {shape_text(want)}",
             found=f"{spec.class_kind} {spec.class_name} {shape_text(found)}")


def test_two_dense(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_layer_stack(model_spec(returned), params)


def test_first_layer(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_first_layer(model_spec(returned), params)


def test_last_layer(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_last_layer(model_spec(returned), params)


def test_n_params(returned: Returned, params: dict[str, Any], record: Recorder) -> None:
    keras_model.check_n_params(model_spec(returned), params, record)


def test_compiled(returned: Returned, params: dict[str, Any], record: Recorder) -> None:
    keras_model.check_compiled(model_spec(returned), params, record)
