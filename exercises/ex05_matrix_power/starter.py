"""Experimentos 1 y 2: M^n en CPU y GPU.

Experiments 1 and 2: M^n on CPU and GPU.

Comprueba tu solución / check your solution:  tfgrade check ex05_matrix_power.py
"""

import tensorflow as tf


def matrix_power(m, n, device="/CPU:0"):
    """Calcula la potencia de matrices M^n en el dispositivo `device` y devuelve un tf.Tensor.

    - `m`: matriz cuadrada (array de NumPy o tf.Tensor, float32); `n`: entero ≥ 0;
      `device`: "/CPU:0" o "/GPU:0".
    - Si n < 0 o `m` no es una matriz cuadrada, lanza ValueError.
    - M^0 es la matriz identidad (tf.eye).
    - Usa O(log n) productos (elevar al cuadrado y multiplicar): M, M², M⁴, M⁸, … y
      multiplica solo las potencias cuyos bits están a 1 en n. Por ejemplo,
      M^13 = M^8 · M^4 · M^1. Para n = 1024 bastan 10 productos, no 1023.
    - Calcula todo dentro de `with tf.device(device):` para que el resultado esté allí.
    - tf.linalg no tiene matrix_power (NumPy sí): escribe tú el algoritmo con tf.matmul o @.
      Ojo: `m ** n` eleva cada elemento, no es la potencia de la matriz.

    Compute the matrix power M^n on `device` and return a tf.Tensor.
    `m` is a square matrix (NumPy array or tf.Tensor, float32), `n` an integer ≥ 0,
    `device` "/CPU:0" or "/GPU:0". Raise ValueError if n < 0 or `m` is not square.
    M^0 is the identity (tf.eye). Use O(log n) products (square-and-multiply): square
    M, M², M⁴, … and multiply in only the powers whose bit is 1 in n (M^13 = M^8·M^4·M).
    Compute inside `with tf.device(device):` so the result lives there.
    tf.linalg has no matrix_power (NumPy does): write the algorithm with tf.matmul or @;
    `m ** n` raises each entry to the n-th power, which is not the matrix power.
    """
    raise NotImplementedError("Escribe matrix_power(m, n, device) / write matrix_power(m, n, device)")
