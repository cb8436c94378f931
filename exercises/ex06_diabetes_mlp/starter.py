"""Ejemplo 3 · Predecir diabetes en 5 años con un perceptrón multicapa (MLP).

Example 3 · Predicting diabetes within 5 years with a multilayer perceptron (MLP).

Comprueba tu solución / check your solution:  tfgrade check ex06_diabetes_mlp.py
"""

import numpy as np
import tensorflow as tf
from tensorflow import keras


def train_model(x_train, y_train):
    """Construye, compila y entrena un MLP que predice diabetes; devuelve el modelo.

    - `x_train`: float32 de forma (N, 7), las características SIN normalizar, en este orden:
      npreg (embarazos), glu (glucosa), bp (presión), skin (pliegue cutáneo), bmi (IMC),
      ped (antecedentes familiares), age (edad).
    - `y_train`: enteros 0/1 de forma (N,); 1 = diabetes en 5 años.
    - Las escalas son muy distintas (glu ≈ 120, ped ≈ 0,5): pon una capa
      `keras.layers.Normalization()` adaptada con `x_train` como primera capa.
    - Al menos una capa Dense oculta (p. ej. 8-16 unidades relu).
    - Salida: `Dense(1, activation="sigmoid")` con loss="binary_crossentropy"
      (o bien 2 unidades softmax con "sparse_categorical_crossentropy").
    - Con solo 200 pacientes es fácil memorizar: red pequeña y pocas épocas (o regularización).
    Devuelve el modelo compilado y entrenado; se evalúa con pacientes que nunca ha visto.

    Build, compile and train an MLP that predicts diabetes; return the model.
    `x_train`: float32 (N, 7), RAW features (order above); `y_train`: 0/1 ints (N,).
    The feature scales differ a lot: make a `keras.layers.Normalization()` adapted on
    `x_train` the first layer. At least one hidden Dense layer. Output: Dense(1, sigmoid)
    with binary cross-entropy (or 2 softmax units with sparse categorical cross-entropy).
    With only 200 patients it is easy to memorise: keep the network small.
    Return the compiled, trained model; it is scored on patients it has never seen.
    """
    raise NotImplementedError("Escribe train_model() / write train_model()")
