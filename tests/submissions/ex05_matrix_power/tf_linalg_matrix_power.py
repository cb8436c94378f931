# Wrong on purpose: tf.linalg.matrix_power does not exist in TensorFlow 2 (NumPy has
# np.linalg.matrix_power, TensorFlow does not): every real call raises AttributeError.
import tensorflow as tf


def matrix_power(m, n, device="/CPU:0"):
    if n < 0:
        raise ValueError("n must be >= 0")
    with tf.device(device):
        m = tf.convert_to_tensor(m)
        if m.shape.rank != 2 or m.shape[0] != m.shape[1]:
            raise ValueError("m must be square")
        return tf.linalg.matrix_power(m, n)
