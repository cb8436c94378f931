"""Reference solution of ex05_matrix_power (never shipped to students).

M^n by square-and-multiply (binary exponentiation): write n in binary; keep squaring the
base (M, M^2, M^4, …) and multiply into the result the powers whose bit is set. That is
floor(log2 n) squarings plus (number of 1 bits − 1) products, instead of n − 1 products.
Every op runs inside `with tf.device(device):`, so the result lives where it was asked.
"""

import operator

import tensorflow as tf


def matrix_power(m, n, device="/CPU:0"):
    """Return m**n (matrix power) computed on `device` as a tf.Tensor."""
    try:
        n = operator.index(n)          # ints and numpy integers, not 2.0 or "2"
    except TypeError:
        raise TypeError(f"n must be an integer, got {type(n).__name__}") from None
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")

    with tf.device(device):
        base = tf.convert_to_tensor(m)
        if base.shape.rank != 2 or base.shape[0] != base.shape[1]:
            raise ValueError(f"m must be a square matrix, got shape {tuple(base.shape)}")
        if n == 0:
            return tf.eye(base.shape[0], dtype=base.dtype)
        # A tensor built from a numpy array may sit in host memory: identity() places a
        # copy on `device`, so even n == 1 returns a tensor that lives there.
        base = tf.identity(base)
        result = None
        while True:
            if n & 1:
                result = base if result is None else tf.matmul(result, base)
            n >>= 1
            if n == 0:
                return result
            base = tf.matmul(base, base)   # not after the last bit: it would be wasted
