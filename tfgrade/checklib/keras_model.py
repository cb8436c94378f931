"""Reading a described Keras model (ModelSpec) and the checks of the slides' small networks.

The slide-model checks read their expectations from the exercise's `params` table:
`n_layers`, `layer_type`, `units`, `activation`, `output_units`, `output_activation`,
`input_dim`, `n_params`, `optimizer`, `loss`, `loss_aliases`, `metric`, `metric_aliases`.
Their words are in tfgrade/messages/keras_model.toml (tfgrade.catalogue.GRADER).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from tfgrade.catalogue import GRADER
from tfgrade.checklib.phrases import framed, joined
from tfgrade.engine.returned import LayerSpec, ModelHandle, ModelSpec, OpaqueValue, UnverifiableModel
from tfgrade.engine.verdicts import Recorder, fail
from tfgrade.i18n import Msg

# Layers that pass their input through unchanged (for finding the real output activation).
PASS_THROUGH = frozenset({"Dropout", "Flatten", "Reshape", "ActivityRegularization", "GaussianNoise",
                          "GaussianDropout", "AlphaDropout"})
NORMALISING = frozenset({"Normalization", "BatchNormalization", "LayerNormalization"})


# --------------------------------------------------------------------------- what came back


@dataclass
class Returned:
    """What a model-building function returned: a ModelSpec, or the name of what came instead."""

    function: str
    spec: ModelSpec | None
    found: str = ""
    reported: bool = False          # the full message is given once, then a short one
    refused: Msg | None = None      # a model came back, but it cannot be verified

    @classmethod
    def from_value(cls, function: str, value: Any) -> Returned:
        if isinstance(value, ModelHandle):
            return cls(function, value.spec)
        if isinstance(value, UnverifiableModel):
            return cls(function, None, "unverifiable keras.Model", refused=value.msg)
        if isinstance(value, OpaqueValue):
            return cls(function, None, value.type_name)
        return cls(function, None, "None" if value is None else type(value).__name__)


def model_spec(returned: Returned) -> ModelSpec:
    """The spec, or a failure: explained on the first check, short on the others."""
    if returned.spec is not None:
        return returned.spec
    name = returned.function
    if not returned.reported and returned.refused is not None:
        returned.reported = True
        fail(returned.refused, expected="built-in Keras model", found=returned.found)
    if not returned.reported:
        returned.reported = True
        if returned.found == "None":
            fail(GRADER("keras_returned_none", function=name), expected="keras.Model", found=returned.found)
        fail(GRADER("keras_not_a_model", function=name, found=returned.found),
             expected="keras.Model", found=returned.found)
    fail(GRADER("keras_no_model_not_evaluated", function=name))


# --------------------------------------------------------------------------- reading a spec


def norm(name: str | None) -> str:
    """Compare names without case or underscores: 'binary_accuracy' ~ 'BinaryAccuracy'."""
    return (name or "").lower().replace("_", "")


def layer_text(layer: LayerSpec) -> str:
    if layer.units is None:
        return layer.type
    return f"{layer.type}({layer.units}, activation={layer.activation})"


def output_activation(spec: ModelSpec, pass_through: Collection[str] = PASS_THROUGH) -> str | None:
    """The activation applied last: an Activation/Softmax layer, or the last real layer's."""
    for layer in reversed(spec.layers):
        if layer.type == "Softmax":
            return "softmax"
        if layer.type == "Activation":
            return layer.activation
        if layer.type in pass_through:
            continue
        return layer.activation or "linear"
    return None


def output_units(spec: ModelSpec) -> int | None:
    return spec.output_shape[-1] if spec.output_shape else None


def has_normalisation(spec: ModelSpec) -> bool:
    return any(layer.type in NORMALISING for layer in spec.layers)


# --------------------------------------------------------------------------- slide-model checks


def check_layer(layer: LayerSpec, position: int, params: dict[str, Any], units: int, activation: str,
                last: bool = False) -> None:
    """One layer's type (`params["layer_type"]`), units and activation; every problem in one
    message, keyed by the first (keras_layer_type, keras_layer_unit(s), keras_layer_activation)."""
    problems: list[Msg] = []
    if layer.type != params["layer_type"]:
        problems.append(GRADER("keras_layer_type", want=params["layer_type"], found=layer.type))
    if layer.units != units:
        problems.append(GRADER("keras_layer_unit" if units == 1 else "keras_layer_units",
                               want=units, found=layer.units))
    if layer.activation != activation:
        problems.append(GRADER("keras_layer_activation", want=activation, found=layer.activation))
    if problems:
        fail(framed(GRADER, "keras_last_layer_at" if last else "keras_layer_at", joined(problems),
                    position=position),
             expected=f"{params['layer_type']}({units}, activation={activation})",
             found=layer_text(layer))


def check_layer_stack(spec: ModelSpec, params: dict[str, Any]) -> None:
    """Exactly `n_layers` layers, all of type `layer_type`."""
    types = [layer.type for layer in spec.layers]
    want, kind = params["n_layers"], params["layer_type"]
    if len(types) != want or any(t != kind for t in types):
        listed = ", ".join(layer_text(layer) for layer in spec.layers) or "-"
        fail(GRADER("keras_layer_stack", want=want, kind=kind, found=len(types), listed=listed),
             expected=[kind] * want, found=types)


def _require_layers(spec: ModelSpec, params: dict[str, Any]) -> None:
    if not spec.layers:
        fail(GRADER("keras_no_layers"), expected=params["layer_type"], found="no layers")


def check_first_layer(spec: ModelSpec, params: dict[str, Any]) -> None:
    """The first layer: `layer_type` with `units` and `activation`."""
    _require_layers(spec, params)
    check_layer(spec.layers[0], 1, params, params["units"], params["activation"])


def check_last_layer(spec: ModelSpec, params: dict[str, Any]) -> None:
    """The last layer: `layer_type` with `output_units` and `output_activation`."""
    _require_layers(spec, params)
    n = len(spec.layers)
    check_layer(spec.layers[-1], n, params, params["output_units"], params["output_activation"], last=True)


def check_n_params(spec: ModelSpec, params: dict[str, Any], record: Recorder) -> None:
    """Exactly `n_params` parameters; an unbuilt model is told to start with keras.Input."""
    want = params["n_params"]
    if spec.n_params != want:
        if spec.input_shape is None:
            fail(GRADER("keras_n_params_unbuilt", want=want, found=spec.n_params, input_dim=params["input_dim"]),
                 expected=want, found=spec.n_params)
        fail(GRADER("keras_n_params", want=want, found=spec.n_params), expected=want, found=spec.n_params)
    record(GRADER("keras_n_params_ok", n=spec.n_params), n_params=spec.n_params)


def compile_call(params: dict[str, Any]) -> str:
    """The compile call the slide shows, written from `optimizer`, `loss` and `metric`."""
    return (f'model.compile(optimizer="{params["optimizer"].lower()}", loss="{params["loss"]}", '
            f'metrics=["{params["metric"]}"])')


def check_compiled(spec: ModelSpec, params: dict[str, Any], record: Recorder) -> None:
    """Compiled with `optimizer`, `loss` (or an alias) and `metric` (or an alias).

    Knows the Keras 2 → 3 pitfall: `compile("rmsprop", "binary_crossentropy", ["accuracy"])`
    puts the list in `loss_weights` (the third positional argument in Keras 3).
    """
    call = compile_call(params)
    if not spec.compiled:
        fail(GRADER("keras_not_compiled", call=call), expected=call, found="not compiled")
    metrics = [norm(m) for m in spec.metrics]
    accepted_metrics = {norm(m) for m in [params["metric"], *params["metric_aliases"]]}
    has_metric = any(m in accepted_metrics for m in metrics)
    found = (f"optimizer={spec.optimizer}, loss={spec.loss}, metrics={list(spec.metrics)}, "
             f"loss_weights={spec.loss_weights}")
    problems: list[Msg] = []
    if norm(spec.optimizer) != norm(params["optimizer"]):
        problems.append(GRADER("keras_compile_optimizer", want=params["optimizer"], found=spec.optimizer))
    if norm(spec.loss) not in {norm(x) for x in [params["loss"], *params["loss_aliases"]]}:
        problems.append(GRADER("keras_compile_loss", want=params["loss"], found=spec.loss))
    positional = spec.loss_weights is not None and (
        not has_metric or norm(params["metric"]) in norm(spec.loss_weights))
    if positional:
        problems.append(GRADER("keras_compile_positional", loss_weights=spec.loss_weights, metric=params["metric"]))
    elif not has_metric:
        problems.append(GRADER("keras_compile_metrics", want=params["metric"], found=list(spec.metrics)))
    if problems:
        fail(framed(GRADER, "keras_compile_expected", joined(problems), call=call), expected=call, found=found)
    record(GRADER("keras_compiled", found=found),
           optimizer=spec.optimizer, learning_rate=spec.learning_rate, loss=spec.loss,
           metrics=list(spec.metrics))
