# Wrong: float32 placeholders (the default in many TF 1 tutorials) instead of int16.
import tensorflow as tf


def build_graph():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.compat.v1.placeholder(tf.float32, name="a")
        b = tf.compat.v1.placeholder(tf.float32, name="b")
        add = tf.add(a, b, name="add")
    return graph, a, b, add


def run_add(x, y):
    graph, a, b, add = build_graph()
    with tf.compat.v1.Session(graph=graph) as sess:
        return int(sess.run(add, feed_dict={a: x, b: y}))
