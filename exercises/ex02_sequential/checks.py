"""Checks of ex02_sequential: the slide's Sequential network, compiled.

Runs on the trusted side: it reads the ModelSpec the sandbox describes, never the model.
The shared slide-model checks (layers, parameters, compile call with its Keras 2 → 3
pitfall) live in tfgrade.checklib.keras_model; every expectation comes from `params`, every
word from messages.toml (the `messages` fixture) or tfgrade/messages/keras_model.toml.
"""

from __future__ import annotations

from typing import Any

import pytest

from tfgrade.catalogue import Catalogue
from tfgrade.checking import Recorder, fail
from tfgrade.checklib import keras_model
from tfgrade.checklib.keras_model import Returned, model_spec
from tfgrade.checklib.wording import shape_text


@pytest.fixture(scope="module")
def returned(student: Any) -> Returned:
    return Returned.from_value("build_model", student.call("build_model"))


# --------------------------------------------------------------------------- checks


def test_is_sequential(returned: Returned, params: dict[str, Any], messages: Catalogue) -> None:
    spec = model_spec(returned)
    if spec.class_kind != params["model_kind"]:
        fail(messages("not_sequential", class_name=spec.class_name, class_kind=spec.class_kind),
             expected="Sequential", found=spec.class_name)


def test_two_dense(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_layer_stack(model_spec(returned), params)


def test_first_layer(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_first_layer(model_spec(returned), params)


def test_input_shape(returned: Returned, params: dict[str, Any], messages: Catalogue) -> None:
    spec = model_spec(returned)
    want = (None, params["input_dim"])
    found = tuple(spec.input_shape) if spec.input_shape is not None else None
    if found is None:
        fail(messages("not_built", want=shape_text(want), input_dim=params["input_dim"]),
             expected=shape_text(want), found="not built")
    if found != want:
        fail(messages("input_shape", want=shape_text(want), found=shape_text(found)),
             expected=shape_text(want), found=shape_text(found))


def test_last_layer(returned: Returned, params: dict[str, Any]) -> None:
    keras_model.check_last_layer(model_spec(returned), params)


def test_n_params(returned: Returned, params: dict[str, Any], record: Recorder) -> None:
    keras_model.check_n_params(model_spec(returned), params, record)


def test_compiled(returned: Returned, params: dict[str, Any], record: Recorder) -> None:
    keras_model.check_compiled(model_spec(returned), params, record)
