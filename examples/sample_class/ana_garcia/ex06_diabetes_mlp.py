"""Reference solution of ex06_diabetes_mlp (never shipped to students).

A small MLP on the 7 raw Pima features. With only 200 patients a big network memorises
them; a narrow hidden layer with L2 and a gentle learning rate keeps it close to a logistic regression.
"""

import numpy as np
from tensorflow import keras


def train_model(x_train, y_train):
    normalizer = keras.layers.Normalization(axis=-1)
    normalizer.adapt(np.asarray(x_train, dtype=np.float32))
    model = keras.Sequential([
        keras.Input(shape=(7,)),
        normalizer,
        keras.layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-2)),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003),
                  loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=60, batch_size=32, verbose=0)
    return model
