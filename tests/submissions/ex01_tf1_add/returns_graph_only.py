# Wrong: build_graph returns only the graph, not the tuple (graph, a, b, add).
import tensorflow as tf


def build_graph():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.compat.v1.placeholder(tf.int16, name="a")
        b = tf.compat.v1.placeholder(tf.int16, name="b")
        tf.add(a, b, name="add")
    return graph


def run_add(x, y):
    graph = build_graph()
    a = graph.get_tensor_by_name("a:0")
    b = graph.get_tensor_by_name("b:0")
    add = graph.get_tensor_by_name("add:0")
    with tf.compat.v1.Session(graph=graph) as sess:
        return int(sess.run(add, feed_dict={a: x, b: y}))
