"""Reference solution of ex07_cnn (never shipped to students).

Two small convolution + pooling blocks on the 8x8 digits, then a softmax over 10 classes.
About 14 thousand parameters: far under the budget, and a few seconds of training.
"""

from tensorflow import keras


def train_model(x_train, y_train):
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),                       # 8x8 -> 4x4
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),                       # 4x4 -> 2x2
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=25, batch_size=32, verbose=0)
    return model
