"""Reference solution of ex02_sequential (never shipped to students)."""

from tensorflow import keras


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(100,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    # Keywords, not positions: in Keras 3 the third positional argument is loss_weights.
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model
