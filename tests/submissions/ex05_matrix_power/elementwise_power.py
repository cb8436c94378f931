# Wrong on purpose: `m ** n` raises every entry to the n-th power; it is not a matrix power.
import tensorflow as tf


def matrix_power(m, n, device="/CPU:0"):
    if n < 0:
        raise ValueError("n must be >= 0")
    with tf.device(device):
        m = tf.convert_to_tensor(m)
        if m.shape.rank != 2 or m.shape[0] != m.shape[1]:
            raise ValueError("m must be square")
        return m ** n
