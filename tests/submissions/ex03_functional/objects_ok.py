# Right: the same compile written with objects instead of strings.
from tensorflow import keras


def build_model():
    inputs = keras.Input(shape=(100,))
    hidden = keras.layers.Dense(32, activation=keras.activations.relu)(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(hidden)
    model = keras.Model(inputs=inputs, outputs=outputs, name="slide_net")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001),
                  loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.BinaryAccuracy()])
    return model
