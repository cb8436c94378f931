"""The measuring half of `tfgrade bench` and of the ex05 throughput check (sandbox side).

It imports TensorFlow (lazily, so the pure helpers can be imported without it) and runs
`matrix_power` implementations; the trusted half (tfgrade/bench.py) never does either.

Run as `python -m tfgrade.sandboxed.bench_kernel '<json request>'` (or the request on stdin):
it prints one JSON object, `{"rows": [...], "devices_found": [...], ...}`, on stdout.
Anything the measured code prints goes to stderr, so stdout stays one JSON document.
Lines on stderr that start with PROGRESS are progress for the person waiting.

What one row means: for one (device, dtype, size, method), the median wall time of
`repeats` runs after one warm-up run, the achieved rate 2·size³·products / time, that rate
as a fraction of the same device's plain matmul rate (sampled right before each run), and
the error against an exact float64 answer (so the row for float16 shows what half
precision costs).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tfgrade.sandboxed.devices import canonical, device_runs_ops, list_devices

PROGRESS = "tfgrade-bench: "
METHODS = ("square_and_multiply", "naive_loop")
DTYPES = ("float16", "bfloat16", "float32", "float64")
DEVICE_ALIASES = {"cpu": "/CPU:0", "gpu": "/GPU:0"}
ROW_KEYS = (
    "device", "device_name", "dtype", "size", "method", "power", "products", "status", "reason",
    "detail", "repeats", "median_s", "min_s", "gflops", "matmul_s", "matmul_gflops",
    "fraction_of_matmul", "max_rel_error", "result_device",
)

MatrixPowerFn = Callable[..., Any]


def square_multiply_products(n: int) -> int:
    """Matrix products binary exponentiation needs for M^n: squarings + extra multiplies."""
    if n <= 1:
        return 0
    return (n.bit_length() - 1) + (bin(n).count("1") - 1)


def naive_products(n: int) -> int:
    return max(n - 1, 0)


def products_for(method: str, n: int) -> int:
    return square_multiply_products(n) if method == "square_and_multiply" else naive_products(n)


def conditioned_matrix(size: int, power: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A well-conditioned M (float64) and its exact power M^power.

    M = Q·diag(λ)·Qᵀ with Q orthogonal and |λ| in [2^(-1/p), 2^(1/p)], so every entry of
    M^p = Q·diag(λ^p)·Qᵀ stays the size of M's: powers neither overflow nor vanish, in
    float16 either, and the float64 reference costs one product instead of p.
    """
    rng = np.random.default_rng(seed + size)
    q, _ = np.linalg.qr(rng.standard_normal((size, size)))
    p = max(power, 1)
    magnitude = 2.0 ** rng.uniform(-1.0 / p, 1.0 / p, size)
    lam = magnitude * rng.choice([-1.0, 1.0], size)
    m = (q * lam) @ q.T
    mp = (q * lam**power) @ q.T
    return m, mp


def max_rel_error(found: np.ndarray, exact: np.ndarray) -> float:
    """max |found − exact| / max |exact|: a norm-wise error that tiny entries cannot blow up."""
    scale = float(np.max(np.abs(exact))) or 1.0
    return float(np.max(np.abs(np.asarray(found, dtype=np.float64) - exact)) / scale)


def _block(value: Any) -> None:
    """Wait until a (possibly asynchronous, e.g. GPU) result is really computed."""
    if hasattr(value, "numpy") and getattr(value, "shape", None) is not None and len(value.shape) == 2:
        value[0, 0].numpy()        # one element crosses to the host: cheap, but a full sync
    else:
        np.asarray(value)


def _on_device(array: np.ndarray, device: str, dtype: str) -> Any:
    import tensorflow as tf

    with tf.device(device):
        # Cast on the device: numpy has no bfloat16, and the input must already live there
        # so that host→device copies are not timed as computation.
        return tf.identity(tf.cast(tf.constant(array.astype(np.float32)), dtype))


def naive_loop(m: Any, n: int, device: str = "/CPU:0") -> Any:
    """M^n with n − 1 products: the baseline square-and-multiply is compared with."""
    import tensorflow as tf

    with tf.device(device):
        base = tf.convert_to_tensor(m)
        if n == 0:
            return tf.eye(base.shape[0], dtype=base.dtype)
        result = tf.identity(base)
        for _ in range(n - 1):
            result = tf.matmul(result, base)
        return result


MIN_SAMPLE_S = 0.02   # a timed sample of the baseline lasts at least this long


def matmul_timer(size: int, device: str, dtype: str) -> Callable[[], float]:
    """A warmed-up sampler: each call returns seconds per plain size×size product on `device`.

    Each sample runs a batch of products and waits once at the end, as a chain of
    products in M^n does: for small sizes a wait per product would time the wait.
    """
    import tensorflow as tf

    rng = np.random.default_rng(size)
    a = _on_device(rng.standard_normal((size, size)) / np.sqrt(size), device, dtype)

    def batch(count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            # raw_ops: the op tf.matmul runs for 2-D inputs, without the sandbox's product
            # counter, so measuring the baseline never shows up in a student's call events.
            product = tf.raw_ops.MatMul(a=a, b=a)
        _block(product)
        return time.perf_counter() - start

    batch(1)                                        # warm-up
    count = int(min(64, max(1, np.ceil(MIN_SAMPLE_S / max(batch(1), 1e-6)))))
    return lambda: batch(count) / count


def matmul_seconds(size: int, repeats: int, device: str, dtype: str) -> float:
    """Median seconds per plain size×size product on `device` (after a warm-up)."""
    sample = matmul_timer(size, device, dtype)
    return float(statistics.median(sample() for _ in range(max(int(repeats), 1))))


@dataclass(frozen=True)
class DevicePlan:
    alias: str            # what was asked: "cpu", "gpu", or a device name
    device: str           # canonical TensorFlow name, "/GPU:0"
    usable: bool
    reason: str = ""      # not_listed | not_usable, when not usable


def plan_devices(requested: Sequence[str], available: Sequence[str],
                 runs_ops: Callable[[str], bool] = device_runs_ops) -> list[DevicePlan]:
    """Which of the requested devices can be measured, and why the others cannot."""
    listed = {canonical(d) for d in available}
    plans = []
    for alias in requested:
        device = DEVICE_ALIASES.get(alias.lower(), canonical(alias))
        if device not in listed:
            plans.append(DevicePlan(alias, device, False, "not_listed"))
        elif not runs_ops(device):
            plans.append(DevicePlan(alias, device, False, "not_usable"))
        else:
            plans.append(DevicePlan(alias, device, True))
    return plans


def _row(plan: DevicePlan, dtype: str, size: int, method: str, power: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    row.update(device=plan.alias, device_name=plan.device, dtype=dtype, size=size, method=method,
               power=power, products=products_for(method, power), status="ok", reason="", detail="")
    row.update(values)
    return row


def _progress(text: str) -> None:
    print(PROGRESS + text, file=sys.stderr, flush=True)


def _measure(fn: Callable[[], Any], baseline: Callable[[], float], repeats: int
             ) -> tuple[Any, list[float], list[float]]:
    """Warm-up, then `repeats` timed runs, each right after one baseline sample.

    Interleaving matters on a shared machine: a burst of load then slows both sides of
    the comparison instead of only one of them.
    """
    result = fn()                  # warm-up: first-call costs (kernel choice, allocation)
    _block(result)
    times, base = [], []
    for _ in range(max(int(repeats), 1)):
        base.append(baseline())
        start = time.perf_counter()
        _block(fn())
        times.append(time.perf_counter() - start)
    return result, times, base


def _method_row(plan: DevicePlan, dtype: str, size: int, method: str, power: int, repeats: int,
                fn: Callable[[], Any], exact: np.ndarray, baseline: Callable[[], float]) -> dict[str, Any]:
    try:
        result, times, base = _measure(fn, baseline, repeats)
    except Exception as exc:  # noqa: BLE001 - a failing implementation is a row, not a crash
        return _row(plan, dtype, size, method, power, status="error", reason="raised",
                    detail=f"{type(exc).__name__}: {exc}"[:300])
    median, matmul_s = statistics.median(times), statistics.median(base)
    products = products_for(method, power)
    flops = 2.0 * size**3 * products
    per_product = median / products if products else None
    return _row(
        plan, dtype, size, method, power, repeats=len(times), median_s=median, min_s=min(times),
        gflops=flops / median / 1e9 if median > 0 and products else None,
        matmul_s=matmul_s, matmul_gflops=2.0 * size**3 / matmul_s / 1e9 if matmul_s > 0 else None,
        fraction_of_matmul=matmul_s / per_product if per_product else None,
        max_rel_error=max_rel_error(np.asarray(result), exact),
        result_device=canonical(str(result.device)) if getattr(result, "device", "") else "not a tensor",
    )


def bench_rows(matrix_power_fn: MatrixPowerFn, sizes: Sequence[int], power: int,
               devices: Sequence[str], dtypes: Sequence[str], repeats: int,
               available: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One row per (device, dtype, size, method); unavailable devices give 'skipped' rows.

    `available` replaces the device list TensorFlow reports (tests pass a fake one); a
    device in it is still probed, so a claimed GPU that runs nothing is skipped too.
    """
    plans = plan_devices(devices, list_devices() if available is None else available)
    cases: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    rows: list[dict[str, Any]] = []
    for plan in plans:
        for dtype in dtypes:
            for size in sizes:
                if plan.usable and size not in cases:
                    cases[size] = conditioned_matrix(size, power)
                rows.extend(_size_rows(matrix_power_fn, plan, dtype, size, power, repeats, cases.get(size)))
    return [_finite(row) for row in rows]


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """JSON has no inf/nan: a non-finite number (e.g. float16 overflow) becomes None + a note."""
    for key, value in row.items():
        if isinstance(value, float) and not np.isfinite(value):
            row[key] = None
            row["detail"] = (row["detail"] + f" {key} is not finite").strip()
    return row


def _size_rows(matrix_power_fn: MatrixPowerFn, plan: DevicePlan, dtype: str, size: int, power: int,
               repeats: int, case: tuple[np.ndarray, np.ndarray] | None) -> list[dict[str, Any]]:
    if not plan.usable or case is None:
        return [_row(plan, dtype, size, method, power, status="skipped", reason=plan.reason or "not_usable")
                for method in METHODS]
    _progress(f"{plan.alias} {dtype} {size}x{size} M^{power}")
    try:
        baseline = matmul_timer(size, plan.device, dtype)
        m = _on_device(case[0], plan.device, dtype)
    except Exception as exc:  # noqa: BLE001 - e.g. no kernel for this dtype on this device
        return [_row(plan, dtype, size, method, power, status="skipped", reason="dtype_unsupported",
                     detail=f"{type(exc).__name__}: {exc}"[:300]) for method in METHODS]
    runners = {
        "square_and_multiply": lambda: matrix_power_fn(m, power, plan.device),
        "naive_loop": lambda: naive_loop(m, power, plan.device),
    }
    return [_method_row(plan, dtype, size, method, power, repeats, runners[method], case[1], baseline)
            for method in METHODS]


def load_matrix_power(path: str | Path) -> MatrixPowerFn:
    """`matrix_power` from a solution file (the lead routes student files through the sandbox)."""
    spec = importlib.util.spec_from_file_location("tfgrade_bench_solution", str(path))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, "matrix_power", None)
    if not callable(fn):
        raise AttributeError(f"{path} defines no function matrix_power")
    return fn  # type: ignore[no-any-return]


def run_request(request: dict[str, Any]) -> dict[str, Any]:
    """Do what one JSON request asks; the answer is plain JSON data."""
    fn = load_matrix_power(request["solution"])    # first: a bad file fails before TF starts
    import tensorflow as tf

    found = list_devices()
    rows = bench_rows(fn, [int(s) for s in request["sizes"]], int(request["power"]),
                      [str(d) for d in request["devices"]], [str(t) for t in request["dtypes"]],
                      int(request.get("repeats", 3)), request.get("available_devices"))
    return {"rows": rows, "devices_found": found, "tensorflow": tf.__version__}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    request = json.loads(args[0] if args else sys.stdin.read())
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        answer = run_request(request)
    real_stdout.write(json.dumps(answer, allow_nan=False, default=_json_number) + "\n")
    real_stdout.flush()
    return 0


def _json_number(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
