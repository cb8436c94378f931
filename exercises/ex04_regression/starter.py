"""Ejemplo 2 · Regresión: descenso de gradiente con tf.GradientTape y un regresor Keras.

Example 2 · Regression: gradient descent with tf.GradientTape and a Keras regressor.

Comprueba tu solución / check your solution:  tfgrade check ex04_regression.py
"""

import numpy as np
import tensorflow as tf
from tensorflow import keras


def fit_line(x, y, epochs=200, learning_rate=0.05):
    """Ajusta y ≈ w·x + b por descenso de gradiente y devuelve (w, b) como dos float.

    - `x`, `y`: arrays de NumPy float32 de forma (N,) (el calificador usa N = 200,
      x en [-1, 1] y un poco de ruido en y).
    - Crea `w` y `b` como tf.Variable (por ejemplo empezando en 0.0).
    - Repite `epochs` veces: calcula el error cuadrático medio dentro de un
      `with tf.GradientTape() as tape:`, pide `tape.gradient(loss, [w, b])` y actualiza
      `w.assign_sub(learning_rate * dw)` (igual con b).
    - Devuelve `float(w.numpy()), float(b.numpy())`: dos float de Python, no tensores.
    No uses np.polyfit ni una fórmula cerrada: el ejercicio es el descenso de gradiente.

    Fit y ≈ w·x + b by gradient descent and return (w, b) as two floats.
    `x`, `y`: float32 NumPy arrays of shape (N,). Make `w` and `b` tf.Variables; for
    `epochs` steps compute the mean squared error inside `with tf.GradientTape() as tape:`,
    get `tape.gradient(loss, [w, b])` and update with `assign_sub(learning_rate * grad)`.
    Return `float(w.numpy()), float(b.numpy())`: Python floats, not tensors.
    Do not use np.polyfit or a closed form: the exercise is gradient descent.
    """
    raise NotImplementedError("Escribe fit_line() / write fit_line()")


def train_regressor(x_train, y_train):
    """Construye, compila y entrena un regresor Keras para el consumo (mpg); devuélvelo.

    - `x_train`: float32 de forma (N, 7), las características SIN normalizar, en este orden:
      cylinders, displacement, horsepower, weight, acceleration, year, origin.
    - `y_train`: float32 de forma (N,), millas por galón.
    - La normalización va DENTRO del modelo: `norm = keras.layers.Normalization()`,
      `norm.adapt(x_train)` y úsala como primera capa. Así el modelo recibe datos crudos
      tanto al entrenar como al predecir.
    - Salida: `Dense(1)` lineal (sin activación). Pérdida de regresión: "mse" o "mae".
    - Entrena con `model.fit(...)` y devuelve el modelo compilado y entrenado.
    El calificador mide el error absoluto medio en coches que tu modelo nunca ha visto.
    El entrenamiento tiene un límite de tiempo: unos segundos bastan.

    Build, compile and train a Keras regressor for fuel consumption (mpg); return it.
    `x_train`: float32 (N, 7), RAW features in the order above; `y_train`: float32 (N,).
    Normalisation belongs INSIDE the model (keras.layers.Normalization, adapt on x_train,
    first layer). Output: a linear `Dense(1)`. Loss: "mse" or "mae". Fit and return the
    compiled, trained model. It is scored on cars it has never seen, under a time limit.
    """
    raise NotImplementedError("Escribe train_regressor() / write train_regressor()")
