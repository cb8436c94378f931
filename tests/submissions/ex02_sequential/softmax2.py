# Wrong: a 2-unit softmax output instead of 1 sigmoid unit.
from tensorflow import keras


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(100,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model
