"""A validated Keras config.json read as an instructor reads a model: layers, activations, compile().

No TensorFlow or Keras here: the config is plain JSON that `tfgrade.engine.keras_archive` already checked against
the allow-list; shapes and parameter counts come from the clean loader as `ModelFacts`.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from tfgrade.engine import keras_allowlist as allow
from tfgrade.engine.returned import LayerSpec, ModelSpec
from tfgrade.errors import ProtocolError

MAX_LAYERS = 10_000
MAX_RANK = 32
MAX_NAME = 500
MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
# Layers that only apply an activation: merged into the Dense/Conv layer before them.
ACTIVATION_LAYERS = {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU": "leaky_relu", "ELU": "elu",
                     "PReLU": "prelu"}
LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
                "bce": "binary_crossentropy", "kld": "kl_divergence", "huber_loss": "huber",
                "kullback_leibler_divergence": "kl_divergence", "logcosh": "log_cosh"}
OPTIMIZERS = {name.lower(): name for name in allow.CLASSES["keras.optimizers"]}
_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class LayerFacts:
    name: str
    params: int
    input_shape: tuple[int | None, ...] | None
    output_shape: tuple[int | None, ...] | None


@dataclass(frozen=True)
class ModelFacts:
    """What the clean process measured after loading the archive (comes as JSON).

    Wire: {"n_params": int, "input_shape": [int|null,...]|null, "output_shape": ...,
           "layers": [{"name": str, "params": int, "input_shape": ..., "output_shape": ...}, ...]}
    with nested models flattened into their layers. Anything else is a ProtocolError.
    """

    n_params: int
    input_shape: tuple[int | None, ...] | None
    output_shape: tuple[int | None, ...] | None
    layers: tuple[LayerFacts, ...]

    @classmethod
    def from_wire(cls, d: Any) -> ModelFacts:
        if not isinstance(d, dict):
            raise ProtocolError("model facts are not an object")
        raw_layers = d.get("layers")
        if not isinstance(raw_layers, list) or len(raw_layers) > MAX_LAYERS:
            raise ProtocolError("model facts: layers is not a list (or too long)")
        layers = []
        for item in raw_layers:
            if not isinstance(item, dict):
                raise ProtocolError("model facts: a layer is not an object")
            name = item.get("name")
            if not isinstance(name, str) or len(name) > MAX_NAME:
                raise ProtocolError("model facts: bad layer name")
            layers.append(LayerFacts(name, _count(item.get("params"), "params"),
                                     _wire_shape(item.get("input_shape")), _wire_shape(item.get("output_shape"))))
        return cls(_count(d.get("n_params"), "n_params"), _wire_shape(d.get("input_shape")),
                   _wire_shape(d.get("output_shape")), tuple(layers))


def _count(v: Any, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ProtocolError(f"model facts: {what} is not a count")
    return v


def _wire_shape(v: Any) -> tuple[int | None, ...] | None:
    if v is None:
        return None
    if not isinstance(v, list) or len(v) > MAX_RANK:
        raise ProtocolError("model facts: bad shape")
    for dim in v:
        if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 0):
            raise ProtocolError("model facts: bad shape dimension")
    return tuple(v)


def snake(class_name: str) -> str:
    """BinaryCrossentropy -> binary_crossentropy, KLDivergence -> kl_divergence (Keras' own naming)."""
    return _SNAKE.sub("_", class_name).lower()


def _ints(v: Any) -> tuple[int, ...] | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return tuple(v)
    return None


def _opt_int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _activation(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        cn = v.get("class_name")
        if cn == "function":
            fn = v.get("config")
            return fn if isinstance(fn, str) else None
        if isinstance(cn, str):
            if cn == "Activation":
                inner = v.get("config")
                return _activation(inner.get("activation")) if isinstance(inner, dict) else None
            return ACTIVATION_LAYERS.get(cn, snake(cn))
    return None


def _inbound(item: dict[str, Any]) -> tuple[str, ...] | None:
    """Names of the layers feeding a functional-model layer (None outside functional models)."""
    nodes = item.get("inbound_nodes")
    if not isinstance(nodes, list):
        return None
    found: list[str] = []
    todo: list[Any] = [nodes]
    while todo:
        v = todo.pop()
        if isinstance(v, dict):
            if v.get("class_name") == "__keras_tensor__":
                cfg = v.get("config")
                hist = cfg.get("keras_history") if isinstance(cfg, dict) else None
                if isinstance(hist, list) and hist and isinstance(hist[0], str):
                    found.append(hist[0])
            else:
                todo.extend(v.values())
        elif isinstance(v, list):
            todo.extend(v)
    return tuple(found)


def _flatten(items: Any, out: list[tuple[LayerSpec, tuple[str, ...] | None]]) -> None:
    if not isinstance(items, list):
        return
    for item in items:
        if not isinstance(item, dict):
            continue
        cn = item.get("class_name")
        cfg = item.get("config")
        cfg = cfg if isinstance(cfg, dict) else {}
        if not isinstance(cn, str) or cn == "InputLayer":
            continue
        if cn in MODEL_CLASSES and isinstance(cfg.get("layers"), list):
            _flatten(cfg["layers"], out)      # depth bounded by the JSON nesting cap
            continue
        if cn == "Activation":
            act = _activation(cfg.get("activation"))
        elif cn in ACTIVATION_LAYERS:
            act = ACTIVATION_LAYERS[cn]
        elif "activation" in cfg:
            act = _activation(cfg.get("activation"))
        elif cn == "Dense" or "Conv" in cn:
            act = "linear"
        else:
            act = None
        name = cfg.get("name")
        spec = LayerSpec(
            name=name[:MAX_NAME] if isinstance(name, str) else "", type=cn[:100],
            units=_opt_int(cfg.get("units")), filters=_opt_int(cfg.get("filters")),
            kernel_size=_ints(cfg.get("kernel_size")), strides=_ints(cfg.get("strides")),
            pool_size=_ints(cfg.get("pool_size")), activation=act)
        out.append((spec, _inbound(item)))


def _with_facts(spec: LayerSpec, facts: dict[str, deque[LayerFacts]]) -> LayerSpec:
    queue = facts.get(spec.name)
    if not queue:
        return spec
    f = queue.popleft()
    return replace(spec, input_shape=f.input_shape, output_shape=f.output_shape, params=f.params)


def _merge(layers: list[tuple[LayerSpec, tuple[str, ...] | None]]) -> tuple[LayerSpec, ...]:
    """Dense/Conv (linear) followed by an activation layer reads as one layer with that activation."""
    out: list[LayerSpec] = []
    for spec, inbound in layers:
        prev = out[-1] if out else None
        if (prev is not None and (spec.type == "Activation" or spec.type in ACTIVATION_LAYERS)
                and (prev.type == "Dense" or "Conv" in prev.type) and prev.activation == "linear"
                and spec.activation and (inbound is None or inbound == (prev.name,))):
            out[-1] = replace(prev, activation=spec.activation, params=prev.params + spec.params,
                              output_shape=spec.output_shape if spec.output_shape is not None
                              else prev.output_shape)
        else:
            out.append(spec)
    return tuple(out)


def canonical_loss(v: Any) -> str | None:
    """The loss as a snake name: 'mse' -> mean_squared_error, BinaryCrossentropy -> binary_crossentropy."""
    if isinstance(v, dict):
        cn = v.get("class_name")
        if cn == "function":
            v = v.get("config")
        elif isinstance(cn, str):
            v = snake(cn)
        else:
            return None
    if not isinstance(v, str):
        return None
    name: str = snake(v) if v in allow.CLASSES["keras.losses"] else v
    return LOSS_ALIASES.get(name.lower(), name)


def _first(v: Any) -> Any:
    """Multi-output compile(loss=[...] / {...}): the first (or only) value."""
    for _ in range(8):
        if isinstance(v, list):
            v = v[0] if v else None
        elif isinstance(v, dict) and "class_name" not in v:
            v = next(iter(v.values()), None)
        else:
            break
    return v


def _metric_names(v: Any) -> tuple[str, ...]:
    out: list[str] = []
    todo: list[Any] = [v]
    while todo and len(out) < 100:
        m = todo.pop(0)
        if isinstance(m, str):
            out.append(m[:100])
        elif isinstance(m, list):
            todo[:0] = m
        elif isinstance(m, dict):
            cn = m.get("class_name")
            cfg = m.get("config")
            if cn == "function" and isinstance(cfg, str):
                out.append(cfg[:100])
            elif isinstance(cn, str):
                name = cfg.get("name") if isinstance(cfg, dict) else None
                out.append(name[:100] if isinstance(name, str) and name else snake(cn))
            else:
                todo[:0] = list(m.values())
    return tuple(out)


def describe(config: dict[str, Any], facts: ModelFacts | None,
             histories: tuple[dict[str, Any], ...] = ()) -> ModelSpec:
    class_name = config.get("class_name")
    class_name = class_name if isinstance(class_name, str) else ""
    inner = config.get("config")
    inner = inner if isinstance(inner, dict) else {}
    if class_name == "Sequential":
        kind = "sequential"
    elif class_name == "Functional" or ("input_layers" in inner and "output_layers" in inner):
        kind = "functional"
    else:
        kind = "subclassed"
    flat: list[tuple[LayerSpec, tuple[str, ...] | None]] = []
    _flatten(inner.get("layers"), flat)
    by_name: dict[str, deque[LayerFacts]] = {}
    for lf in facts.layers if facts else ():
        by_name.setdefault(lf.name, deque()).append(lf)
    layers = _merge([(_with_facts(spec, by_name), inbound) for spec, inbound in flat])

    cc = config.get("compile_config")
    compiled = isinstance(cc, dict) and bool(cc)     # Keras writes {} for a model never compiled
    optimizer = loss = loss_weights = None
    learning_rate: float | None = None
    metrics: tuple[str, ...] = ()
    if isinstance(cc, dict) and compiled:
        opt = cc.get("optimizer")
        if isinstance(opt, str):
            optimizer = OPTIMIZERS.get(opt.lower(), opt[:100])
        elif isinstance(opt, dict) and isinstance(opt.get("class_name"), str):
            optimizer = opt["class_name"][:100]
            ocfg = opt.get("config")
            lr = ocfg.get("learning_rate") if isinstance(ocfg, dict) else None
            if isinstance(lr, (int, float)) and not isinstance(lr, bool):
                learning_rate = float(lr)
        loss = canonical_loss(_first(cc.get("loss")))
        metrics = _metric_names(cc.get("metrics"))
        lw = cc.get("loss_weights")
        loss_weights = repr(lw)[:1000] if lw is not None else None
    return ModelSpec(
        class_kind=kind, class_name=class_name[:200], layers=layers,
        input_shape=facts.input_shape if facts else None, output_shape=facts.output_shape if facts else None,
        n_params=facts.n_params if facts else 0, compiled=compiled, optimizer=optimizer,
        learning_rate=learning_rate, loss=loss, metrics=metrics, loss_weights=loss_weights,
        histories=tuple(histories))
