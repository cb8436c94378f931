"""Read the model as an instructor does: every spelling of the slide's network scores full.

The slide's network (Dense(32, relu) on 100 inputs, Dense(1, sigmoid), RMSprop + binary
cross-entropy + accuracy) is written in many ways in the Keras 2 and Keras 3 guides, in
`tf.keras` code and in the course slides. The description is rebuilt from the model's
archive, so each spelling must read as the same network: a Dense followed by an
Activation layer is a Dense with that activation, and what Keras itself wraps around a
student's choice (tf.nn.relu → "relu", "rmsprop" → RMSprop) counts as that choice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gradehelp import grade_text

from tfgrade.engine.grader import Grader

COMPILE = 'model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])'

SEQUENTIAL = {
    "keras3_input": f'''
import keras
def build_model():
    model = keras.Sequential([keras.Input(shape=(100,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    {COMPILE}
    return model
''',
    "tf_keras_input_shape": f'''
import tensorflow as tf
def build_model():
    model = tf.keras.models.Sequential()
    model.add(tf.keras.layers.Dense(32, activation="relu", input_shape=(100,)))
    model.add(tf.keras.layers.Dense(1, activation="sigmoid"))
    {COMPILE}
    return model
''',
    "keras2_guide_activation_layers": f'''
from tensorflow import keras
from tensorflow.keras import layers
def build_model():
    model = keras.Sequential()
    model.add(layers.Dense(32, input_dim=100))
    model.add(layers.Activation("relu"))
    model.add(layers.Dense(1))
    model.add(layers.Activation("sigmoid"))
    {COMPILE}
    return model
''',
    "tf_nn_functions_and_objects": '''
import tensorflow as tf
from tensorflow import keras
def build_model():
    model = keras.Sequential([keras.layers.InputLayer(shape=(100,)),
                              keras.layers.Dense(32, activation=tf.nn.relu),
                              keras.layers.Dense(1, activation=tf.nn.sigmoid)])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001),
                  loss=keras.losses.BinaryCrossentropy(), metrics=[keras.metrics.BinaryAccuracy()])
    return model
''',
    "relu_layer_and_loss_function": '''
import keras
def build_model():
    model = keras.Sequential([keras.Input((100,)), keras.layers.Dense(32), keras.layers.ReLU(),
                              keras.layers.Dense(1, activation=keras.activations.sigmoid)])
    model.compile(optimizer="rmsprop", loss=keras.losses.binary_crossentropy, metrics=["acc"])
    return model
''',
}

FUNCTIONAL = {
    "slide": f'''
from tensorflow.keras.layers import Input, Dense
from tensorflow.keras.models import Model
def build_model():
    inputs = Input(shape=(100,))
    x = Dense(32, activation="relu")(inputs)
    outputs = Dense(1, activation="sigmoid")(x)
    model = Model(inputs=inputs, outputs=outputs)
    {COMPILE}
    return model
''',
    "activation_layers": f'''
import keras
from keras import layers
def build_model():
    inputs = keras.Input(shape=(100,), name="features")
    x = layers.Dense(32)(inputs)
    x = layers.Activation("relu")(x)
    x = layers.Dense(1)(x)
    outputs = layers.Activation("sigmoid")(x)
    model = keras.Model(inputs, outputs, name="slide")
    {COMPILE}
    return model
''',
}


@pytest.mark.parametrize("name", sorted(SEQUENTIAL))
def test_sequential_spellings_score_full(grader: Grader, tmp_path: Path, name: str) -> None:
    r = grade_text(grader, tmp_path, "ex02_sequential", SEQUENTIAL[name])
    assert r.score == r.max_score, [(c.id, c.feedback.en) for c in r.checks if c.status != "passed"]


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_spellings_score_full(grader: Grader, tmp_path: Path, name: str) -> None:
    r = grade_text(grader, tmp_path, "ex03_functional", FUNCTIONAL[name])
    assert r.score == r.max_score, [(c.id, c.feedback.en) for c in r.checks if c.status != "passed"]


def test_the_keras3_positional_trap_is_still_told(grader: Grader, tmp_path: Path) -> None:
    text = SEQUENTIAL["keras3_input"].replace(COMPILE, 'model.compile("rmsprop", "binary_crossentropy", ["accuracy"])')
    r = grade_text(grader, tmp_path, "ex02_sequential", text)
    compiled = next(c for c in r.checks if c.id == "compiled")
    assert compiled.status == "failed"
    assert compiled.feedback.key == "keras_compile_positional"
    assert "loss_weights" in compiled.feedback.en and "loss_weights" in compiled.feedback.es
