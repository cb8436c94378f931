# Wrong on purpose: square-and-multiply, but the device argument is ignored (no tf.device).
# On a machine without a GPU this cannot be told apart from a right answer: only the GPU
# check (not applicable there) catches it.
import tensorflow as tf


def matrix_power(m, n, device="/CPU:0"):
    if n < 0:
        raise ValueError("n must be >= 0")
    m = tf.convert_to_tensor(m)
    if m.shape.rank != 2 or m.shape[0] != m.shape[1]:
        raise ValueError("m must be square")
    result = tf.eye(m.shape[0], dtype=m.dtype)
    base = m
    while n > 0:
        if n % 2 == 1:
            result = tf.matmul(result, base)
        n //= 2
        if n > 0:
            base = tf.matmul(base, base)
    return result
