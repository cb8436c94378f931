# Wrong: relu on the output unit instead of sigmoid.
from tensorflow import keras


def build_model():
    inputs = keras.Input(shape=(100,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    outputs = keras.layers.Dense(1, activation="relu")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model
