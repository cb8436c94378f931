# Right: the Keras 2 style of the original slide (input_dim on the first layer) still works.
from tensorflow import keras
from tensorflow.keras.layers import Dense


def build_model():
    model = keras.Sequential()
    model.add(Dense(32, activation="relu", input_dim=100))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model
