"""Wrong: the model is built and returned, but never compiled nor trained."""
import numpy as np
import tensorflow as tf
from tensorflow import keras


def train_model(x_train, y_train):
    norm = keras.layers.Normalization()
    norm.adapt(x_train)
    model = keras.Sequential([
        keras.Input(shape=(7,)), norm,
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    return model
