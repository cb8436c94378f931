# Wrong: the graph is right, but run_add adds eagerly (no Session) and returns the NumPy value.
import tensorflow as tf


def build_graph():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.compat.v1.placeholder(tf.int16)
        b = tf.compat.v1.placeholder(tf.int16)
        add = tf.add(a, b)
    return graph, a, b, add


def run_add(x, y):
    return tf.add(x, y).numpy()
