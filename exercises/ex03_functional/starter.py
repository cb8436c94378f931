"""Modelos · API funcional.

Models · Functional API.

Comprueba tu solución / check your solution:  tfgrade check ex03_functional.py
"""

from tensorflow import keras


def build_model():
    """Construye y compila la red de ex02 con la API funcional y devuélvela.

    - inputs = keras.Input(shape=(100,))
    - llama a las capas sobre tensores: x = keras.layers.Dense(32, activation="relu")(inputs),
      después keras.layers.Dense(1, activation="sigmoid")(x).
    - model = keras.Model(inputs=inputs, outputs=...)  (ni keras.Sequential ni una subclase).
    - model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"]),
      con argumentos con nombre (en Keras 3 el tercer argumento posicional es loss_weights).
    Devuelve el modelo compilado (no lo entrenes).

    Build and compile the same network as ex02 with the functional API and return it:
    inputs = keras.Input(shape=(100,)), layers called on tensors (Dense(32, relu), then
    Dense(1, sigmoid)), keras.Model(inputs=inputs, outputs=...) (not Sequential, not a
    subclass), compiled with optimizer="rmsprop", loss="binary_crossentropy",
    metrics=["accuracy"] passed by keyword. Return the compiled model; do not train it.
    """
    raise NotImplementedError("Escribe build_model() / write build_model()")
