# Wrong on purpose: n - 1 products in a loop (O(n)) instead of square-and-multiply.
import tensorflow as tf


def matrix_power(m, n, device="/CPU:0"):
    if n < 0:
        raise ValueError("n must be >= 0")
    with tf.device(device):
        m = tf.convert_to_tensor(m)
        if m.shape.rank != 2 or m.shape[0] != m.shape[1]:
            raise ValueError("m must be square")
        result = tf.eye(m.shape[0], dtype=m.dtype)
        for _ in range(n):
            result = tf.matmul(result, m)
        return result
