# Wrong on purpose: NumPy instead of TensorFlow; returns a numpy.ndarray, on no device.
import numpy as np


def matrix_power(m, n, device="/CPU:0"):
    return np.linalg.matrix_power(np.asarray(m), n)
