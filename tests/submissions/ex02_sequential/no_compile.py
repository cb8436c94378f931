# Wrong: the model is returned without compile().
from tensorflow import keras


def build_model():
    model = keras.Sequential()
    model.add(keras.Input(shape=(100,)))
    model.add(keras.layers.Dense(32, activation="relu"))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    return model
