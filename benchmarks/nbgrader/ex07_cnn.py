# ruff: noqa
# nbgrader cells of ex07_cnn (the checks of exercises/ex07_cnn/checks.py, in spirit).

# %% setup
from sklearn.datasets import load_digits
from tensorflow import keras

digits = load_digits()
x_all = (np.asarray(digits.images, dtype=np.float32) / 16.0).reshape(-1, 8, 8, 1)
y_all = np.asarray(digits.target, dtype=np.int64)
test_rows = held_out_indices(y_all, len(y_all), 0.25, 7)
train_rows = np.setdiff1d(np.arange(len(y_all)), test_rows)
keras.utils.set_random_seed(SEED)
model, train_error, train_seconds = timed_call(train_model, x_all[train_rows].copy(), y_all[train_rows].copy())
is_model = isinstance(model, keras.Model)
kinds = [type(l).__name__ for l in getattr(model, "layers", [])]
CONV = {"Conv2D", "SeparableConv2D", "DepthwiseConv2D"}

# %% test compiled_model 1
assert is_model, f"train_model must return the trained keras.Model ({train_error!r})"
assert getattr(model, "compiled", False), "the model is not compiled"

# %% test has_conv2d 3
assert is_model and CONV & set(kinds), f"there is no Conv2D layer ({' → '.join(kinds)})"

# %% test downsamples 2
pooling = {"MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D"} & set(kinds)
strided = [l for l in model.layers if type(l).__name__ in CONV and max(l.strides) > 1]
assert pooling or strided, "the model never downsamples"

# %% test softmax_output 2
assert model.output_shape[-1] == 10 and output_activation(model) == "softmax", "expected Dense(10, activation=\"softmax\")"

# %% test parameter_budget 2
assert model.count_params() <= 100_000, f"at most 100,000 parameters are allowed, the model has {model.count_params():,}"

# %% test heldout_accuracy 8 hidden
assert is_model, "train_model did not return a model"
out = np.asarray(model.predict(x_all[test_rows], verbose=0))
assert out.shape == (test_rows.size, 10), f"expected predictions of shape ({test_rows.size}, 10), found {out.shape}"
accuracy = float(np.mean(np.argmax(out, axis=1) == y_all[test_rows]))
print(f"accuracy on the {test_rows.size} held-out images: {accuracy:.3f}")
8 * partial_credit(accuracy, 0.95, 0.85)

# %% test trains_in_time 2
assert is_model and train_seconds <= 120, f"train_model: {train_seconds:.1f} s ({train_error!r})"
