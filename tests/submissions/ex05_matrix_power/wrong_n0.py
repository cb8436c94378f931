# Wrong on purpose: starts from M instead of the identity, so M^0 comes back as M.
import tensorflow as tf


def matrix_power(m, n, device="/CPU:0"):
    if n < 0:
        raise ValueError("n must be >= 0")
    with tf.device(device):
        base = tf.identity(tf.convert_to_tensor(m))
        if base.shape.rank != 2 or base.shape[0] != base.shape[1]:
            raise ValueError("m must be square")
        if n <= 1:
            return base
        result = None
        while n > 0:
            if n & 1:
                result = base if result is None else tf.matmul(result, base)
            n >>= 1
            if n:
                base = tf.matmul(base, base)
        return result
