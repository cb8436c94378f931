# Wrong: the functional model is returned without compile().
from tensorflow import keras


def build_model():
    inputs = keras.Input(shape=(100,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
