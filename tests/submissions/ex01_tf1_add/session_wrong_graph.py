# Wrong: the graph is right, but the Session is opened on the global default graph,
# not on the graph that holds `add`.
import tensorflow as tf


def build_graph():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.compat.v1.placeholder(tf.int16, name="a")
        b = tf.compat.v1.placeholder(tf.int16, name="b")
        add = tf.add(a, b, name="add")
    return graph, a, b, add


def run_add(x, y):
    graph, a, b, add = build_graph()
    with tf.compat.v1.Session() as sess:
        return int(sess.run(add, feed_dict={a: x, b: y}))
