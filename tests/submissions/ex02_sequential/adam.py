# Wrong: Adam instead of RMSprop.
from tensorflow import keras


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(100,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
