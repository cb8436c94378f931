"""Save the real Keras models that tests/test_keras_archive.py reads (run in a subprocess: the test
process never imports TensorFlow).

    python tests/keras_archives/build.py OUT_DIR

Writes OUT_DIR/<name>.keras and, for each, OUT_DIR/<name>.facts.json in the wire format of
tfgrade.engine.keras_archive.ModelFacts (what the clean loader is expected to report), plus legacy.h5.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers as L  # noqa: E402

OUT = Path(sys.argv[1])


def _shape(t: Any) -> list[int | None] | None:
    try:
        return [None if d is None else int(d) for d in t.shape]
    except Exception:
        return None


def _flat(model: keras.Model) -> Iterator[keras.layers.Layer]:
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flat(layer)
        else:
            yield layer


def facts(model: keras.Model) -> dict[str, Any]:
    def io(layer: Any, attr: str) -> list[int | None] | None:
        try:
            return _shape(getattr(layer, attr))
        except Exception:
            return None
    return {"n_params": int(model.count_params()),
            "input_shape": _shape(model.inputs[0]) if model.inputs else None,
            "output_shape": _shape(model.outputs[0]) if model.outputs else None,
            "layers": [{"name": layer.name, "params": int(layer.count_params()),
                        "input_shape": io(layer, "input"), "output_shape": io(layer, "output")}
                       for layer in _flat(model)]}


# -- honest models --------------------------------------------------------------------------------------

def seq_activation_layers() -> keras.Model:
    m = keras.Sequential([keras.Input((4,)), L.Dense(32), L.Activation("relu"), L.Dense(1),
                          L.Activation("sigmoid")])
    m.compile("adam", "binary_crossentropy", ["accuracy"])        # Keras 3: the list is loss_weights
    return m


def tfkeras_style() -> keras.Model:
    m = keras.Sequential([L.Dense(8, activation=tf.nn.relu, input_shape=(3,)), L.Dense(4), L.ReLU(),
                          L.Dense(2), L.Softmax()])
    m.compile(optimizer=keras.optimizers.RMSprop(keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9)),
              loss=keras.losses.binary_crossentropy, metrics=[keras.metrics.AUC(), "mae"])
    return m


def functional_cnn() -> keras.Model:
    inp = keras.Input((28, 28, 1))
    x = L.Conv2D(8, 3, activation="relu")(inp)
    x = L.MaxPooling2D()(x)
    x = L.BatchNormalization()(x)
    x = L.Conv2D(4, (5, 5), strides=2)(x)
    x = L.Activation("relu")(x)
    x = L.Flatten()(x)
    x = L.Dropout(0.2)(x)
    out = L.Dense(10, activation="softmax")(x)
    m = keras.Model(inp, out)
    m.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
              loss=keras.losses.SparseCategoricalCrossentropy(),
              metrics=[keras.metrics.SparseCategoricalAccuracy()])
    return m


def nested() -> keras.Model:
    norm = L.Normalization()
    norm.adapt(np.random.default_rng(0).random((20, 3)).astype("float32"))
    inner = keras.Sequential([L.Dense(4), L.LeakyReLU(), L.Dense(4), L.ELU()], name="inner")
    m = keras.Sequential([keras.Input((3,)), norm, inner, L.Dense(1, activation="sigmoid")])
    m.compile(keras.optimizers.Adam(keras.optimizers.schedules.PiecewiseConstantDecay([10], [0.1, 0.01])),
              keras.losses.BinaryCrossentropy(), metrics=[keras.metrics.Precision(name="prec")])
    return m


def strings() -> keras.Model:
    m = keras.Sequential([keras.Input((3,)), L.Dense(2, activation=keras.activations.softmax)])
    m.compile(optimizer="rmsprop", loss="mse", metrics=["mae", "accuracy", keras.metrics.binary_accuracy])
    return m


def huber_class() -> keras.Model:
    m = keras.Sequential([keras.Input((3,)), L.Dense(1)])
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss=keras.losses.Huber(),
              metrics=[keras.metrics.RootMeanSquaredError()])
    return m


def loss_dict() -> keras.Model:
    m = keras.Sequential([keras.Input((3,)), L.Dense(1, name="out")])
    m.compile(optimizer="nadam", loss={"out": "bce"}, metrics=["acc"])
    return m


def uncompiled() -> keras.Model:
    return keras.Sequential([keras.Input((3,)), L.Dense(1)])


def functional_ops() -> keras.Model:
    inp = keras.Input((4,))
    x = inp / 255.0
    a = L.Dense(3)(x)
    out = L.Dense(1)(keras.ops.concatenate([a[:, 0:2], a], axis=-1))
    return keras.Model(inp, out)


def regularized() -> keras.Model:
    m = keras.Sequential([keras.Input((3,)), L.Dense(2, kernel_regularizer="l2", kernel_initializer="he_normal",
                                                     kernel_constraint=keras.constraints.MaxNorm(2)),
                          L.Dense(1)])
    m.compile(optimizer=keras.optimizers.SGD(), loss=keras.losses.mean_squared_error)
    return m


# -- hostile models (real custom classes, saved by Keras itself) ----------------------------------------

class Conv2D(L.Dense):          # a Dense that claims to be a Conv2D
    pass


class MaxPooling2D(L.Layer):    # an identity layer named like a pooling layer
    def call(self, x: Any) -> Any:
        return x


class RMSprop(keras.optimizers.Adam):   # Adam in disguise
    pass


def double(x: Any) -> Any:
    return x * 2


def fake_conv() -> keras.Model:
    return keras.Sequential([keras.Input((3,)), Conv2D(4), L.Dense(1)])


def fake_pool() -> keras.Model:
    return keras.Sequential([keras.Input((3,)), L.Dense(4), MaxPooling2D(), L.Dense(1)])


def fake_rmsprop() -> keras.Model:
    m = keras.Sequential([keras.Input((3,)), L.Dense(1)])
    m.compile(RMSprop(), "mse")
    return m


def lambda_layer() -> keras.Model:
    return keras.Sequential([keras.Input((3,)), L.Lambda(lambda x: x * 2), L.Dense(1)])


def custom_activation() -> keras.Model:
    return keras.Sequential([keras.Input((3,)), L.Dense(2, activation=double)])


def tf_softmax() -> keras.Model:
    return keras.Sequential([keras.Input((3,)), L.Dense(2, activation=tf.nn.softmax)])


MODELS: dict[str, Callable[[], keras.Model]] = {f.__name__: f for f in (
    seq_activation_layers, tfkeras_style, functional_cnn, nested, strings, huber_class, loss_dict,
    uncompiled, functional_ops, regularized, fake_conv, fake_pool, fake_rmsprop, lambda_layer,
    custom_activation, tf_softmax)}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        model = build()
        model.save(OUT / f"{name}.keras")
        (OUT / f"{name}.facts.json").write_text(json.dumps(facts(model)))
    uncompiled().save(OUT / "legacy.h5")


if __name__ == "__main__":
    main()
