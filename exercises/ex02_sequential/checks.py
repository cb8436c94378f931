"""Checks of ex02_sequential: the slide's Sequential network, compiled.

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


def test_is_sequential(returned: Returned, params: dict[str, Any]) -> None:
    spec = model_spec(returned)
    if spec.class_kind != params["model_kind"]:
        fail(es=f"se esperaba un keras.Sequential, hay {spec.class_name} (modelo {spec.class_kind}): "
                "en este ejercicio apila las capas con keras.Sequential([...])",
             en=f"expected a keras.Sequential, found {spec.class_name} ({spec.class_kind} model): "
                "in this exercise stack the layers with keras.Sequential([...])",
             expected="Sequential", found=spec.class_name)


def test_two_dense(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_layer_stack(model_spec(returned), params)


def test_first_layer(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_first_layer(model_spec(returned), params)


def test_input_shape(returned: Returned, params: dict[str, Any]) -> None:
    spec = model_spec(returned)
    want = (None, params["input_dim"])
    found = tuple(spec.input_shape) if spec.input_shape is not None else None
    if found is None:
        fail(es=f"el modelo no tiene forma de entrada (no está construido); se esperaba "
                f"{shape_text(want)}: empieza con keras.Input(shape=({params['input_dim']},))",
             en=f"the model has no input shape (it is not built); expected {shape_text(want)}: "
                f"start with keras.Input(shape=({params['input_dim']},))",
             expected=shape_text(want), found="not built")
    if found != want:
        fail(es=f"se esperaba la forma de entrada {shape_text(want)}, hay {shape_text(found)}",
             en=f"expected input shape {shape_text(want)}, found {shape_text(found)}",
             expected=shape_text(want), found=shape_text(found))


def test_last_layer(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_last_layer(model_spec(returned), params)


def test_n_params(returned: Returned, params: dict[str, Any], record: Recorder) -> None:
    keras_model.check_n_params(model_spec(returned), params, record)


def test_compiled(returned: Returned, params: dict[str, Any], record: Recorder) -> None:
    keras_model.check_compiled(model_spec(returned), params, record)
