"""Ejemplo 4 · Red convolucional para dígitos manuscritos de 8×8.

Example 4 · A convolutional network for 8×8 handwritten digits.

Comprueba tu solución / check your solution:  tfgrade check ex07_cnn.py
"""

import numpy as np
import tensorflow as tf
from tensorflow import keras


def train_model(x_train, y_train):
    """Construye, compila y entrena una red convolucional; devuelve el modelo.

    - `x_train`: float32 de forma (N, 8, 8, 1), píxeles ya escalados a [0, 1].
    - `y_train`: enteros 0-9 de forma (N,) (etiquetas "sparse", no one-hot).
    - Al menos una `keras.layers.Conv2D` (p. ej. 16 filtros 3×3, relu, padding="same").
    - Reduce la resolución con `MaxPooling2D` (o una convolución con strides=2).
    - Termina con `Flatten()` y `Dense(10, activation="softmax")`.
    - Compila con loss="sparse_categorical_crossentropy" (las etiquetas son enteros).
    - Como mucho 100.000 parámetros: mira `model.summary()`.
    Devuelve el modelo compilado y entrenado; se evalúa con imágenes que nunca ha visto.

    Build, compile and train a convolutional network; return the model.
    `x_train`: float32 (N, 8, 8, 1) in [0, 1]; `y_train`: ints 0-9 (N,), not one-hot.
    Use at least one Conv2D, downsample with MaxPooling2D (or strides=2), end with
    Flatten() and Dense(10, activation="softmax"), compile with
    "sparse_categorical_crossentropy", and stay under 100,000 parameters.
    Return the compiled, trained model; it is scored on images it has never seen.
    """
    raise NotImplementedError("Escribe train_model() / write train_model()")
