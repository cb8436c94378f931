# Wrong: no graph at all; eager constants stand in for the placeholders.
import tensorflow as tf


def build_graph():
    a = tf.constant(2, dtype=tf.int16)
    b = tf.constant(3, dtype=tf.int16)
    add = tf.add(a, b)
    return tf.compat.v1.get_default_graph(), a, b, add


def run_add(x, y):
    return int(tf.add(x, y))
