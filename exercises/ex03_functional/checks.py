"""Checks of ex03_functional: the slide's network with the functional API, compiled.

Runs on the trusted side: it reads the ModelSpec the sandbox describes, never the model.
The compile check knows the Keras 2 → 3 pitfall: `compile("rmsprop", "binary_crossentropy",
["accuracy"])` puts the list in `loss_weights` (third positional argument in Keras 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from grader.checking import fail
from grader.specs import LayerSpec, ModelHandle, ModelSpec, OpaqueValue


@dataclass
class Returned:
    """What build_model() returned: a ModelSpec, or what came instead."""

    spec: ModelSpec | None
    found: str = ""
    reported: bool = False          # the full message is given once, then a short one


@pytest.fixture(scope="module")
def returned(student: Any) -> Returned:
    value = student.call("build_model")
    if isinstance(value, ModelHandle):
        return Returned(value.spec)
    if isinstance(value, OpaqueValue):
        return Returned(None, value.type_name)
    return Returned(None, "None" if value is None else type(value).__name__)


def model_spec(returned: Returned) -> ModelSpec:
    """The spec, or a failure: explained on the first check, short on the others."""
    if returned.spec is not None:
        return returned.spec
    if not returned.reported:
        returned.reported = True
        hint_es = " (¿falta `return model`?)" if returned.found == "None" else ""
        hint_en = " (missing `return model`?)" if returned.found == "None" else ""
        fail(es=f"build_model() debe devolver un modelo de Keras; devolvió {returned.found}{hint_es}",
             en=f"build_model() must return a Keras model; it returned {returned.found}{hint_en}",
             expected="keras.Model", found=returned.found)
    fail(es="no evaluado: build_model() no devolvió un modelo de Keras (ver la primera comprobación)",
         en="not evaluated: build_model() did not return a Keras model (see the first check)")


def norm(name: str | None) -> str:
    """Compare names without case or underscores: 'binary_accuracy' ~ 'BinaryAccuracy'."""
    return (name or "").lower().replace("_", "")


def layer_text(layer: LayerSpec) -> str:
    if layer.units is None:
        return layer.type
    return f"{layer.type}({layer.units}, activation={layer.activation})"


def shape_text(shape: tuple[int | None, ...] | None) -> str:
    return "?" if shape is None else "(" + ", ".join(str(d) for d in shape) + ")"


def check_layer(layer: LayerSpec, position_es: str, position_en: str, params: dict[str, Any],
                units: int, activation: str) -> None:
    """One Dense layer's type, units and activation; every problem in one message."""
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


def compile_call(params: dict[str, Any]) -> str:
    return (f'model.compile(optimizer="{params["optimizer"].lower()}", loss="{params["loss"]}", '
            f'metrics=["{params["metric"]}"])')


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
    spec = model_spec(returned)
    types = [layer.type for layer in spec.layers]
    want, kind = params["n_layers"], params["layer_type"]
    if len(types) != want or any(t != kind for t in types):
        listed = ", ".join(layer_text(layer) for layer in spec.layers) or "-"
        fail(es=f"se esperaban {want} capas {kind}, hay {len(types)}: {listed}",
             en=f"expected {want} {kind} layers, found {len(types)}: {listed}",
             expected=[kind] * want, found=types)


def test_first_layer(returned: Returned, params: dict[str, Any]) -> None:
    spec = model_spec(returned)
    if not spec.layers:
        fail(es="el modelo no tiene capas", en="the model has no layers",
             expected=params["layer_type"], found="no layers")
    check_layer(spec.layers[0], "1", "1", params, params["units"], params["activation"])


def test_last_layer(returned: Returned, params: dict[str, Any]) -> None:
    spec = model_spec(returned)
    if not spec.layers:
        fail(es="el modelo no tiene capas", en="the model has no layers",
             expected=params["layer_type"], found="no layers")
    n = len(spec.layers)
    check_layer(spec.layers[-1], f"{n} (la última)", f"{n} (the last)", params,
                params["output_units"], params["output_activation"])


def test_n_params(returned: Returned, params: dict[str, Any], record: Any) -> None:
    spec = model_spec(returned)
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


def test_compiled(returned: Returned, params: dict[str, Any], record: Any) -> None:
    spec = model_spec(returned)
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
