# ruff: noqa
# nbgrader cells of ex03_functional (the checks of exercises/ex03_functional/checks.py, in spirit).

# %% setup
from tensorflow import keras

model, error, _ = timed_call(build_model)
dense = [l for l in getattr(model, "layers", []) if isinstance(l, keras.layers.Dense)]

# %% test is_functional 2
assert type(model).__name__ == "Functional", f"expected a functional model, found {type(model).__name__} ({error!r})"
assert tuple(model.input_shape) == (None, 100), f"expected the input (None, 100), found {model.input_shape}"

# %% test two_dense 1
assert len(dense) == 2, f"expected 2 Dense layers, found {len(dense)}"

# %% test first_layer 2
assert dense[0].units == 32 and activation_of(dense[0]) == "relu", "layer 1: expected 32 units, relu"

# %% test last_layer 2
assert dense[-1].units == 1 and activation_of(dense[-1]) == "sigmoid", "the last layer: expected 1 unit, sigmoid"

# %% test n_params 1
assert model.count_params() == 3265, f"expected 3265 parameters, found {model.count_params()}"

# %% test compiled 2
assert getattr(model, "compiled", False), "the model is not compiled"
assert canon(type(model.optimizer).__name__) == "rmsprop", f"optimizer: expected RMSprop, found {type(model.optimizer).__name__}"
assert loss_name(model) == canon("binary_crossentropy"), f"loss: expected binary_crossentropy, found {model.loss}"
assert "accuracy" in metric_names(model) or "binaryaccuracy" in metric_names(model), "metrics: expected accuracy (by name: metrics=[...])"
