"""Reference solution of ex04_regression (never shipped to students).

Part A fits a line by plain gradient descent with tf.GradientTape; part B is a small
Keras regressor on the raw Auto MPG features with normalisation inside the model.
"""

import numpy as np
import tensorflow as tf
from tensorflow import keras


def fit_line(x, y, epochs=200, learning_rate=0.05):
    x = tf.constant(np.asarray(x, dtype=np.float32).reshape(-1))
    y = tf.constant(np.asarray(y, dtype=np.float32).reshape(-1))
    w = tf.Variable(0.0)
    b = tf.Variable(0.0)
    for _ in range(epochs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(w * x + b - y))
        grad_w, grad_b = tape.gradient(loss, [w, b])
        w.assign_sub(learning_rate * grad_w)
        b.assign_sub(learning_rate * grad_b)
    return float(w.numpy()), float(b.numpy())


def train_regressor(x_train, y_train):
    # The features have very different scales (weight ~3000, origin 1-3): the model
    # learns their mean and variance and standardises its own inputs.
    normalizer = keras.layers.Normalization(axis=-1)
    normalizer.adapt(np.asarray(x_train, dtype=np.float32))
    model = keras.Sequential([
        keras.Input(shape=(7,)),
        normalizer,
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),                      # linear: mpg can be any positive number
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003),
                  loss="mean_absolute_error")
    model.fit(x_train, y_train, epochs=120, batch_size=32, verbose=0)
    return model
