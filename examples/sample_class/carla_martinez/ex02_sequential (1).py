# Wrong: the Keras 2 positional compile; in Keras 3 ["accuracy"] lands in loss_weights.
from tensorflow import keras


def build_model():
    model = keras.Sequential()
    model.add(keras.Input(shape=(100,)))
    model.add(keras.layers.Dense(32, activation="relu"))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    model.compile("rmsprop", "binary_crossentropy", ["accuracy"])
    return model
