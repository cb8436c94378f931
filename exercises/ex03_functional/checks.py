"""Checks of ex03_functional: the slide's network with the functional API, compiled.

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
from tfgrade.checklib.phrases import joined
from tfgrade.checklib.wording import shape_text
from tfgrade.i18n import Msg


@pytest.fixture(scope="module")
def returned(student: Any) -> Returned:
    return Returned.from_value("build_model", student.call("build_model"))


# --------------------------------------------------------------------------- checks


def test_is_functional(returned: Returned, params: dict[str, Any], messages: Catalogue) -> None:
    spec = model_spec(returned)
    problems: list[Msg] = []
    dim = params["input_dim"]
    if spec.class_kind == "sequential":
        problems.append(messages("sequential_not_functional", class_name=spec.class_name, input_dim=dim))
    elif spec.class_kind != params["model_kind"]:
        problems.append(messages("subclass_not_functional", class_name=spec.class_name))
    want = (None, dim)
    found = tuple(spec.input_shape) if spec.input_shape is not None else None
    # A subclass has no input shape to report; the message above already says what to change.
    if found != want and not (found is None and problems):
        problems.append(messages("input_shape", want=shape_text(want), found=shape_text(found)))
    if problems:
        fail(joined(problems),
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
