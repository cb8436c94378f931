"""Wrong: fit_line ignores `epochs` and stops after 10 steps, far from the line."""
import numpy as np
import tensorflow as tf
from tensorflow import keras


def fit_line(x, y, epochs=200, learning_rate=0.05):
    w = tf.Variable(0.0)
    b = tf.Variable(0.0)
    for _ in range(10):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(w * x + b - y))
        dw, db = tape.gradient(loss, [w, b])
        w.assign_sub(learning_rate * dw)
        b.assign_sub(learning_rate * db)
    return float(w.numpy()), float(b.numpy())


def train_regressor(x_train, y_train):
    raise NotImplementedError("Escribe train_regressor() / write train_regressor()")
