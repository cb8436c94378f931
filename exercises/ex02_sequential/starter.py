"""Modelos · Sequential.

Models · Sequential.

Comprueba tu solución / check your solution:  tfgrade check ex02_sequential.py
"""

from tensorflow import keras


def build_model():
    """Construye y compila la red de la diapositiva con keras.Sequential y devuélvela.

    - Entrada: vectores de 100 valores, keras.Input(shape=(100,)).
    - keras.layers.Dense(32, activation="relu").
    - keras.layers.Dense(1, activation="sigmoid").
    - model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"]).
      Usa argumentos con nombre: en Keras 3 el tercer argumento posicional de compile()
      es loss_weights, no metrics.
    Devuelve el modelo compilado (no lo entrenes).

    Build and compile the slide's network with keras.Sequential and return it:
    100 inputs, Dense(32, relu), Dense(1, sigmoid), compiled with
    optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"]
    (pass them by keyword: in Keras 3 the third positional argument of compile() is
    loss_weights). Return the compiled model; do not train it.
    """
    raise NotImplementedError("Escribe build_model() / write build_model()")
