"""Ejemplo 1 (TF 1): placeholders, tf.add y Session.run.

Example 1 (TF 1): placeholders, tf.add and Session.run.

Comprueba tu solución / check your solution:  tfgrade check ex01_tf1_add.py
"""

import tensorflow as tf


def build_graph():
    """Construye el grafo TF 1 de la diapositiva y devuelve (grafo, a, b, add).

    - `a` y `b`: placeholders de tipo int16 (tf.compat.v1.placeholder).
    - `add`: la suma tf.add(a, b).
    TF 2 ejecuta en modo eager, así que crea el grafo explícitamente:
        graph = tf.Graph()
        with graph.as_default():
            ...
    Devuelve la tupla (graph, a, b, add).

    Build the slide's TF 1 graph and return (graph, a, b, add).
    `a` and `b` are int16 placeholders (tf.compat.v1.placeholder); `add` is tf.add(a, b).
    TF 2 runs eagerly, so build the graph explicitly inside `with graph.as_default():`.
    """
    raise NotImplementedError("Escribe build_graph() / write build_graph()")


def run_add(x, y):
    """Calcula x + y ejecutando `add` en una sesión y devuelve un int de Python.

    Usa el grafo de build_graph(), abre tf.compat.v1.Session(graph=graph) y llama a
    session.run(add, feed_dict={a: x, b: y}). Session.run devuelve un escalar de NumPy
    (numpy.int16): conviértelo con int(...). Recuerda que int16 desborda:
    32767 + 1 == -32768.

    Compute x + y by running `add` in a session and return a Python int.
    Use the graph from build_graph(), open tf.compat.v1.Session(graph=graph) and call
    session.run(add, feed_dict={a: x, b: y}). Session.run returns a NumPy scalar
    (numpy.int16): convert it with int(...). int16 wraps around: 32767 + 1 == -32768.
    """
    raise NotImplementedError("Escribe run_add(x, y) / write run_add(x, y)")
