"""Reference solution of ex01_tf1_add (never shipped to students).

The slide's TF 1 program. TF 2 executes eagerly, so the graph is built explicitly inside
`tf.Graph().as_default()` and evaluated in a `tf.compat.v1.Session` bound to that graph.
"""

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
    with tf.compat.v1.Session(graph=graph) as session:
        result = session.run(add, feed_dict={a: x, b: y})
    # Session.run gives a NumPy int16 scalar; the contract asks for a Python int.
    return int(result)
