# Wrong: the Keras 2 positional compile; in Keras 3 ["accuracy"] lands in loss_weights.
from tensorflow import keras


def build_model():
    inputs = keras.Input(shape=(100,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile("rmsprop", "binary_crossentropy", ["accuracy"])
    return model
