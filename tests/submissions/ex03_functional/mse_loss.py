# Wrong: mean squared error instead of binary cross-entropy.
from tensorflow import keras


def build_model():
    inputs = keras.Input(shape=(100,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="rmsprop", loss="mse", metrics=["accuracy"])
    return model
