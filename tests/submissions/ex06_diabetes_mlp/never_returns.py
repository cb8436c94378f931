"""Wrong: "train until it is good enough" with a condition that never becomes true."""
import numpy as np
import tensorflow as tf
from tensorflow import keras


def train_model(x_train, y_train):
    model = keras.Sequential([
        keras.Input(shape=(7,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    accuracy = 0.0
    while True:                      # 100 % training accuracy never comes
        if accuracy >= 1.0:
            break
        accuracy = 0.0
    return model
