"""Reference solution of ex03_functional (never shipped to students)."""

from tensorflow import keras


def build_model():
    inputs = keras.Input(shape=(100,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    # Keywords, not positions: in Keras 3 the third positional argument is loss_weights.
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model
