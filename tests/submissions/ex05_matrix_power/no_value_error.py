# Wrong on purpose: no argument checks; n < 0 silently gives the identity and a non-square
# matrix fails inside tf.matmul with InvalidArgumentError instead of ValueError.
import tensorflow as tf


def matrix_power(m, n, device="/CPU:0"):
    with tf.device(device):
        base = tf.identity(tf.convert_to_tensor(m))
        result = tf.eye(base.shape[0], dtype=base.dtype)
        while n > 0:
            if n & 1:
                result = result @ base
            n >>= 1
            if n:
                base = base @ base
        return result
