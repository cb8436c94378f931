"""Reading a described Keras model (ModelSpec) and the checks of the slides' small networks.

The slide-model checks read their expectations from the exercise's `params` table:
`n_layers`, `layer_type`, `units`, `activation`, `output_units`, `output_activation`,
`input_dim`, `n_params`, `optimizer`, `loss`, `loss_aliases`, `metric`, `metric_aliases`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

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
        fail(es=returned.refused.es, en=returned.refused.en, expected="built-in Keras model",
             found=returned.found)
    if not returned.reported:
        returned.reported = True
        hint_es = " (¿falta `return model`?)" if returned.found == "None" else ""
        hint_en = " (missing `return model`?)" if returned.found == "None" else ""
        fail(es=f"{name}() debe devolver un modelo de Keras; devolvió {returned.found}{hint_es}",
             en=f"{name}() must return a Keras model; it returned {returned.found}{hint_en}",
             expected="keras.Model", found=returned.found)
    fail(es=f"no evaluado: {name}() no devolvió un modelo de Keras (ver la primera comprobación)",
         en=f"not evaluated: {name}() did not return a Keras model (see the first check)")


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


def check_layer(layer: LayerSpec, position_es: str, position_en: str, params: dict[str, Any],
                units: int, activation: str) -> None:
    """One layer's type (`params["layer_type"]`), units and activation; every problem in one message."""
    es: list[str] = []
    en: list[str] = []
    if layer.type != params["layer_type"]:
        es.append(f"se esperaba una capa {params['layer_type']}, hay {layer.type}")
        en.append(f"expected a {params['layer_type']} layer, found {layer.type}")
    if layer.units != units:
        es.append(f"se esperaba{'' if units == 1 else 'n'} {units} "
                  f"unidad{'' if units == 1 else 'es'}, hay {layer.units}")
        en.append(f"expected {units} unit{'' if units == 1 else 's'}, found {layer.units}")
    if layer.activation != activation:
        es.append(f"se esperaba activación {activation}, hay {layer.activation}")
        en.append(f"expected activation {activation}, found {layer.activation}")
    if es:
        fail(es=f"capa {position_es}: " + "; ".join(es), en=f"layer {position_en}: " + "; ".join(en),
             expected=f"{params['layer_type']}({units}, activation={activation})",
             found=layer_text(layer))


def check_layer_stack(spec: ModelSpec, params: dict[str, Any]) -> None:
    """Exactly `n_layers` layers, all of type `layer_type`."""
    types = [layer.type for layer in spec.layers]
    want, kind = params["n_layers"], params["layer_type"]
    if len(types) != want or any(t != kind for t in types):
        listed = ", ".join(layer_text(layer) for layer in spec.layers) or "-"
        fail(es=f"se esperaban {want} capas {kind}, hay {len(types)}: {listed}",
             en=f"expected {want} {kind} layers, found {len(types)}: {listed}",
             expected=[kind] * want, found=types)


def _require_layers(spec: ModelSpec, params: dict[str, Any]) -> None:
    if not spec.layers:
        fail(es="el modelo no tiene capas", en="the model has no layers",
             expected=params["layer_type"], found="no layers")


def check_first_layer(spec: ModelSpec, params: dict[str, Any]) -> None:
    """The first layer: `layer_type` with `units` and `activation`."""
    _require_layers(spec, params)
    check_layer(spec.layers[0], "1", "1", params, params["units"], params["activation"])


def check_last_layer(spec: ModelSpec, params: dict[str, Any]) -> None:
    """The last layer: `layer_type` with `output_units` and `output_activation`."""
    _require_layers(spec, params)
    n = len(spec.layers)
    check_layer(spec.layers[-1], f"{n} (la última)", f"{n} (the last)", params,
                params["output_units"], params["output_activation"])


def check_n_params(spec: ModelSpec, params: dict[str, Any], record: Recorder) -> None:
    """Exactly `n_params` parameters; an unbuilt model is told to start with keras.Input."""
    want = params["n_params"]
    if spec.n_params != want:
        hint_es = hint_en = ""
        if spec.input_shape is None:
            hint_es = f" (el modelo no está construido: falta keras.Input(shape=({params['input_dim']},)))"
            hint_en = f" (the model is not built: keras.Input(shape=({params['input_dim']},)) is missing)"
        fail(es=f"se esperaban {want} parámetros, hay {spec.n_params}{hint_es}",
             en=f"expected {want} parameters, found {spec.n_params}{hint_en}",
             expected=want, found=spec.n_params)
    record(es=f"{spec.n_params} parámetros", en=f"{spec.n_params} parameters", n_params=spec.n_params)


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
        fail(es=f"el modelo no está compilado: llama a {call} antes de devolverlo",
             en=f"the model is not compiled: call {call} before returning it",
             expected=call, found="not compiled")
    metrics = [norm(m) for m in spec.metrics]
    accepted_metrics = {norm(m) for m in [params["metric"], *params["metric_aliases"]]}
    has_metric = any(m in accepted_metrics for m in metrics)
    found = (f"optimizer={spec.optimizer}, loss={spec.loss}, metrics={list(spec.metrics)}, "
             f"loss_weights={spec.loss_weights}")
    es: list[str] = []
    en: list[str] = []
    if norm(spec.optimizer) != norm(params["optimizer"]):
        es.append(f"optimizador: se esperaba {params['optimizer']}, hay {spec.optimizer}")
        en.append(f"optimizer: expected {params['optimizer']}, found {spec.optimizer}")
    if norm(spec.loss) not in {norm(x) for x in [params["loss"], *params["loss_aliases"]]}:
        es.append(f"pérdida: se esperaba {params['loss']}, hay {spec.loss}")
        en.append(f"loss: expected {params['loss']}, found {spec.loss}")
    positional = spec.loss_weights is not None and (
        not has_metric or norm(params["metric"]) in norm(spec.loss_weights))
    if positional:
        es.append(f"compile() recibió {spec.loss_weights} como loss_weights, no como metrics: en "
                  "Keras 3 el tercer argumento posicional de compile() es loss_weights (en Keras 2 "
                  f"era metrics), así que la {params['metric']} no se mide. Pásalo con nombre: "
                  f'metrics=["{params["metric"]}"]')
        en.append(f"compile() got {spec.loss_weights} as loss_weights, not as metrics: in Keras 3 "
                  "the third positional argument of compile() is loss_weights (in Keras 2 it was "
                  f"metrics), so {params['metric']} is not measured. Pass it by name: "
                  f'metrics=["{params["metric"]}"]')
    elif not has_metric:
        es.append(f"métricas: se esperaba {params['metric']}, hay {list(spec.metrics)}")
        en.append(f"metrics: expected {params['metric']}, found {list(spec.metrics)}")
    if es:
        fail(es="; ".join(es) + f". Se esperaba {call}", en="; ".join(en) + f". Expected {call}",
             expected=call, found=found)
    record(es=f"compilado: {found}", en=f"compiled: {found}",
           optimizer=spec.optimizer, learning_rate=spec.learning_rate, loss=spec.loss,
           metrics=list(spec.metrics))
