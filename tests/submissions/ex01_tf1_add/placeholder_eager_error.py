# Wrong: the TF 1 slide copied into TF 2 without a graph; placeholders fail in eager mode.
import tensorflow as tf


def build_graph():
    a = tf.compat.v1.placeholder(tf.int16)
    b = tf.compat.v1.placeholder(tf.int16)
    add = tf.add(a, b)
    return tf.compat.v1.get_default_graph(), a, b, add


def run_add(x, y):
    graph, a, b, add = build_graph()
    with tf.compat.v1.Session() as sess:
        return int(sess.run(add, feed_dict={a: x, b: y}))
