# Wrong: 16 units in the first layer instead of 32.
from tensorflow import keras


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(100,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model
