# ruff: noqa
# nbgrader cells of ex05_matrix_power (the checks of exercises/ex05_matrix_power/checks.py, in spirit).

# %% setup
import statistics

import tensorflow as tf


def orthogonal(size, seed, scale=1.0):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((size, size)))
    return (scale * q * np.sign(np.diag(r))).astype(np.float32)


def row_stochastic(size, seed):
    m = np.random.default_rng(seed).uniform(0.1, 1.0, (size, size))
    return (m / m.sum(axis=1, keepdims=True)).astype(np.float32)


def rel_error(found, m, n):
    exact = np.linalg.matrix_power(m.astype(np.float64), n)
    found = np.asarray(found)
    if found.shape != exact.shape or found.dtype.kind not in "biuf":
        return math.inf
    return float(np.max(np.abs(found.astype(np.float64) - exact)) / (np.max(np.abs(exact)) or 1.0))


PRODUCTS = ((tf, "matmul"), (tf.linalg, "matmul"), (tf.Tensor, "__matmul__"))

# %% test correct 6
for m in (orthogonal(64, 5, 1.01), row_stochastic(64, 6)):
    for n in (0, 1, 2, 7, 64):
        value = matrix_power(m, n, "/CPU:0")
        assert isinstance(value, (tf.Tensor, np.ndarray)), f"matrix_power(M, {n}) must return a tf.Tensor"
        err = rel_error(value, m, n)
        assert err <= 1e-4, f"n = {n}: relative error {err:.1e} > 1e-04"

# %% test on_cpu 3
value = matrix_power(orthogonal(64, 5, 1.01), 64, "/CPU:0")
assert isinstance(value, tf.Tensor) and value.device.endswith("CPU:0"), "the result must live on CPU:0"

# %% test on_gpu 3
if tf.config.list_logical_devices("GPU"):       # tfgrade: not applicable without a GPU
    value = matrix_power(orthogonal(64, 5, 1.01), 64, "/GPU:0")
    assert isinstance(value, tf.Tensor) and value.device.endswith("GPU:0"), "the result must live on GPU:0"

# %% test log_products 4
m = orthogonal(32, 7)
with count_calls(*PRODUCTS) as products:
    value = matrix_power(m, 1024, "/CPU:0")
assert 1 <= products.n <= 20, f"for n = 1024 at most 20 matrix products are allowed, {products.n} were counted"
assert rel_error(value, m, 1024) <= 1e-3, "M^1024 is wrong"

# %% test value_error 2
for m, n in ((orthogonal(64, 5, 1.01), -1), (np.random.default_rng(8).uniform(-1, 1, (3, 4)).astype(np.float32), 2)):
    try:
        matrix_power(m, n, "/CPU:0")
    except ValueError:
        continue
    raise AssertionError(f"ValueError was expected (n = {n}, shape {m.shape})")

# %% test throughput 2 hidden
def matmul_seconds(size, repeats):
    a = tf.random.normal((size, size))
    tf.matmul(a, a)[0, 0].numpy()                # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.matmul(a, a)[0, 0].numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


best = 0.0
for trial in range(3):
    baseline = matmul_seconds(1024, 5)
    m = orthogonal(1024, 5 + 100 + trial)
    start = time.perf_counter()
    value = np.asarray(matrix_power(m, 64, "/CPU:0"))
    seconds = time.perf_counter() - start
    assert rel_error(value, m, 64) <= 1e-3, "M^64 (1024×1024) is wrong: speed only counts with a correct result"
    best = max(best, baseline * 6 / seconds)
assert best >= 0.5, f"{best:.0%} of tf.matmul's rate per product (at least 50 %)"
