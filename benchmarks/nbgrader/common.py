# ruff: noqa
# Helpers every nbgrader notebook of the benchmark runs first (a locked, ungraded cell),
# the notebook counterpart of what tfgrade's checks get from tfgrade.pack.metrics and the
# sandbox's instrumentation. Not imported by anything: benchmarks/nbgrader/build_course.py
# pastes this text into the notebooks.
import contextlib
import logging
import math
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")        # nbgrader gives 0 points to a test cell that writes to stderr
logging.getLogger("tensorflow").setLevel(logging.ERROR)
SEED = 20251127                          # tfgrade's default course seed

PASS_THROUGH = {"Dropout", "Flatten", "Reshape", "ActivityRegularization", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "SpatialDropout2D"}
ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "bce": "binary_crossentropy",
           "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
           "logcosh": "log_cosh", "acc": "accuracy"}


def canon(name):
    """'BinaryCrossentropy', 'binary_crossentropy' and 'bce' all become 'binarycrossentropy'."""
    text = str(name).lower()
    text = ALIASES.get(text, text)
    return text.replace("_", "")


def loss_name(model):
    loss = getattr(model, "loss", None)
    if loss is None or isinstance(loss, str):
        return canon(loss)
    return canon(getattr(loss, "name", None) or getattr(loss, "__name__", type(loss).__name__))


def metric_names(model):
    """The metrics compile() got by name (a positional third argument is loss_weights in Keras 3)."""
    metrics = (model.get_compile_config() or {}).get("metrics") or []
    names = []
    for m in metrics if isinstance(metrics, list) else [metrics]:
        if isinstance(m, dict):              # a metric object, serialized
            m = m.get("config", {}).get("name") or m.get("class_name", "")
        names.append(canon(m if isinstance(m, str) else getattr(m, "name", type(m).__name__)))
    return names


def activation_of(layer):
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", None) or "linear"


def output_activation(model):
    """The activation applied last: an Activation/Softmax layer, or the last real layer's."""
    for layer in reversed(model.layers):
        kind = type(layer).__name__
        if kind == "Softmax":
            return "softmax"
        if kind in PASS_THROUGH or kind == "InputLayer":
            continue
        return activation_of(layer)
    return None


def partial_credit(value, full_at, zero_at):
    """1 at or beyond full_at, 0 at or beyond zero_at, linear between (tfgrade.pack.metrics)."""
    if math.isnan(value):
        return 0.0
    higher = full_at > zero_at
    if (value >= full_at) if higher else (value <= full_at):
        return 1.0
    if (value <= zero_at) if higher else (value >= zero_at):
        return 0.0
    return (value - zero_at) / (full_at - zero_at)


def held_out_indices(strata, n, fraction, seed):
    """The rows tfgrade holds out (tfgrade.pack.datasets.held_out_indices)."""
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.permutation(n)[: int(round(fraction * n))])
    chosen = []
    for label in np.unique(strata):
        members = np.flatnonzero(strata == label)
        chosen.append(rng.permutation(members)[: int(round(fraction * members.size))])
    return np.sort(np.concatenate(chosen))


class Counter:
    n = 0


@contextlib.contextmanager
def count_calls(*targets):
    """Count calls to (owner, attribute) pairs while the block runs; one counter for all."""
    counter, saved = Counter(), []
    for owner, name in targets:
        original = getattr(owner, name)
        saved.append((owner, name, original, name in vars(owner)))

        def wrapper(*args, _original=original, **kwargs):
            counter.n += 1
            return _original(*args, **kwargs)
        setattr(owner, name, wrapper)
    try:
        yield counter
    finally:
        for owner, name, original, own in reversed(saved):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)


def timed_call(fn, *args):
    """(value, error, seconds) of one call of the student's function."""
    start = time.perf_counter()
    try:
        return fn(*args), None, time.perf_counter() - start
    except Exception as exc:
        return None, exc, time.perf_counter() - start
