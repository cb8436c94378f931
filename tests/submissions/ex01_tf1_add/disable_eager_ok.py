# Right, the other way the statement allows: eager execution switched off for the program.
import tensorflow as tf

tf.compat.v1.disable_eager_execution()


def build_graph():
    graph = tf.compat.v1.get_default_graph()
    a = tf.compat.v1.placeholder(tf.int16, name="a")
    b = tf.compat.v1.placeholder(tf.int16, name="b")
    add = tf.add(a, b)
    return graph, a, b, add


def run_add(x, y):
    graph, a, b, add = build_graph()
    with tf.compat.v1.Session(graph=graph) as sess:
        return int(sess.run(add, feed_dict={a: x, b: y}))
