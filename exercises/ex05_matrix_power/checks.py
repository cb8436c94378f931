"""Checks of ex05_matrix_power: M^n on a chosen device, by square-and-multiply.

Runs on the trusted side: the matrices and their float64 references are made here with
NumPy. Correctness compares what matrix_power returned with those references. Everything
else rests on the clean process: the student's child traces the call into a GraphDef, and
a process that never ran student code counts the graph's matrix products (raw ops and
function calls included), runs it, says on which device the result landed, and times it
against a plain tf.matmul measured in the same process. The child's own counters, clock
and device strings are not used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tfgrade.catalogue import Catalogue
from tfgrade.checking import fail, not_applicable
from tfgrade.checklib import source as src
from tfgrade.checklib.matrices import orthogonal, reference, row_stochastic
from tfgrade.checklib.phrases import fill, join
from tfgrade.i18n import Msg
from tfgrade.specs import OpaqueValue, TensorValue, TracedRun
from tfgrade.student import StudentError

ENTRY = "matrix_power"
CPU = "/CPU:0"
GPU = "/GPU:0"


# ---------------------------------------------------------------- matrices and references
# orthogonal(), row_stochastic() and reference() are cached per worker in tfgrade.checklib.


def rel_error(found: np.ndarray, exact: np.ndarray) -> float:
    """max |found − exact| / max |exact| (norm-wise: a tiny entry cannot blow it up); inf if unusable."""
    if found.shape != exact.shape or found.dtype.kind not in "biuf":
        return math.inf
    err = float(np.max(np.abs(found.astype(np.float64) - exact)) / (np.max(np.abs(exact)) or 1.0))
    return err if math.isfinite(err) else math.inf


def products_needed(n: int) -> int:
    """Products of square-and-multiply: ⌊log2 n⌋ squarings + (ones in binary − 1) multiplies."""
    return 0 if n <= 1 else (n.bit_length() - 1) + (bin(n).count("1") - 1)


def product_limit(n: int) -> int:
    return 2 * math.ceil(math.log2(n))


# ---------------------------------------------------------------- describing what came back
def as_array(value: Any) -> np.ndarray | None:
    """The numbers of a tensor or NumPy array; None for anything else."""
    if isinstance(value, TensorValue):
        return np.asarray(value.array)
    if isinstance(value, np.ndarray):
        return value
    return None


def describe(value: Any) -> str:
    if isinstance(value, TensorValue):
        return f"tf.Tensor {value.dtype} {tuple(value.array.shape)}"
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray {value.dtype} {value.shape}"
    if isinstance(value, OpaqueValue):
        return value.type_name
    return f"{type(value).__name__} {value!r}"[:80]


def power_error(value: Any, m: np.ndarray, n: int) -> float:
    found = as_array(value)
    return math.inf if found is None else rel_error(found, reference(m, n))


@pytest.fixture(scope="module")
def matrices(params: dict[str, Any]) -> dict[str, np.ndarray]:
    size, seed = int(params["size"]), int(params["seed"])
    return {"orthogonal": orthogonal(size, seed, float(params["orthogonal_scale"])),
            "stochastic": row_stochastic(size, seed + 1)}


def wrong_power(messages: Catalogue, kind: str, n: int, shape: tuple[int, ...], want: tuple[int, ...],
                err: float, tol: float) -> Msg:
    """What is wrong with M^n of the `kind` matrix: its shape, else its error (n = 0: a hint)."""
    if shape != want:
        said = (messages("orthogonal_wrong_shape", n=n, shape=shape, want=want) if kind == "orthogonal"
                else messages("stochastic_wrong_shape", n=n, shape=shape, want=want))
    else:
        said = (messages("orthogonal_rel_error", n=n, err=err, tol=tol) if kind == "orthogonal"
                else messages("stochastic_rel_error", n=n, err=err, tol=tol))
    return said + messages("identity_hint") if n == 0 else said


# ---------------------------------------------------------------- checks
def test_correct(student: Any, params: dict[str, Any], matrices: dict[str, np.ndarray], record: Any,
                 messages: Catalogue) -> None:
    tol = float(params["rel_tol"])
    wrong: list[Msg] = []
    worst = 0.0
    for kind, m in matrices.items():
        for n in params["powers"]:
            value = student.call(ENTRY, m, int(n), CPU)
            if as_array(value) is None:
                fail(messages("not_a_tensor", n=n, found=describe(value)), expected="tf.Tensor", found=describe(value))
            err = power_error(value, m, int(n))
            worst = max(worst, err)
            if err <= tol:
                continue
            shape = as_array(value).shape  # type: ignore[union-attr]
            wrong.append(wrong_power(messages, kind, int(n), shape, m.shape, err, tol))
    if wrong:
        fail(fill(messages, "power_mismatch", problems=join(wrong)),
             expected=f"max |M^n − ref| / max |ref| ≤ {tol:.0e}", found=join(wrong).en)
    powers = ", ".join(str(n) for n in params["powers"])
    record(messages("correct", powers=powers, worst=worst), max_rel_error=worst)


def traced_run(student: Any, m: np.ndarray, n: int, device: str, repeats: int = 1) -> TracedRun:
    """matrix_power(m, n, device) traced in the student's child, run by the clean process."""
    return student.trace(ENTRY, m, n, device).run(repeats)


def require_computed_in_tf(run: TracedRun, n: int, messages: Catalogue) -> None:
    if not run.uses_input:
        fail(messages("not_computed_in_tf", n=n), expected="M used by TensorFlow ops", found="a constant result")


def _check_device(student: Any, record: Any, messages: Catalogue, m: np.ndarray, n: int, device: str,
                  tol: float) -> None:
    run = traced_run(student, m, n, device)
    require_computed_in_tf(run, n, messages)
    # Placement is graded on the graph of the very computation the function performs: the
    # traced graph must give what the function itself returns (right or wrong).
    returned = as_array(student.call(ENTRY, m, n, device))
    if returned is None or rel_error(run.array, returned.astype(np.float64)) > tol:
        fail(messages("graph_not_returned"), expected="graph == returned value", found="different")
    wanted = device.lstrip("/")
    if not run.device.endswith(wanted):
        fail(messages("wrong_device", device=device, wanted=wanted, found=run.device) if run.device
             else messages("unknown_device", device=device, wanted=wanted), expected=wanted, found=run.device)
    record(messages("on_device", device=run.device), device=run.device)


def test_on_cpu(student: Any, params: dict[str, Any], matrices: dict[str, np.ndarray], record: Any,
                messages: Catalogue) -> None:
    _check_device(student, record, messages, matrices["orthogonal"], int(params["powers"][-1]), CPU,
                  float(params["rel_tol"]))


def test_on_gpu(student: Any, params: dict[str, Any], matrices: dict[str, np.ndarray], record: Any,
                messages: Catalogue) -> None:
    devices = student.verifier.devices()          # the clean process's devices, not the child's
    if not any(d.endswith("GPU:0") for d in devices):
        not_applicable(messages("no_gpu", devices=", ".join(devices) or "—"))
        return
    _check_device(student, record, messages, matrices["orthogonal"], int(params["powers"][-1]), GPU,
                  float(params["rel_tol"]))


def counted_products(student: Any, params: dict[str, Any], run: TracedRun, n: int) -> tuple[int, str]:
    """Products in the graph; a graph with a TF loop has no static count, so the clean
    process times it on a larger matrix against one plain matmul of that size."""
    if run.products is not None:
        return run.products, "graph"
    size = int(params["loop_estimate_size"])
    m = orthogonal(size, int(params["seed"]) + 4)
    timed = traced_run(student, m, n, CPU, repeats=3)
    one = student.verifier.matmul_seconds(size, int(params["matmul_repeats"]))
    return max(1, round(timed.seconds / one)) if one > 0 else 0, "timing"


def test_log_products(student: Any, params: dict[str, Any], record: Any, messages: Catalogue) -> None:
    n, tol = int(params["log_power"]), float(params["log_rel_tol"])
    limit = product_limit(n)
    m = orthogonal(int(params["log_size"]), int(params["seed"]) + 2)
    run = traced_run(student, m, n, CPU)
    counted, how = counted_products(student, params, run, n)
    if counted == 0:
        fail(messages("no_products", n=n, limit=limit), expected=f"1–{limit}", found=0)
    if counted > limit:
        fail(messages("too_many_products", n=n, limit=limit, counted=counted), expected=f"≤ {limit}", found=counted)
    err = rel_error(run.array, reference(m, n))
    if err > tol:
        fail(messages("few_products_but_wrong", counted=counted, n=n, limit=limit, err=err, tol=tol),
             expected=f"error ≤ {tol:.0e}", found=f"{err:.1e}")
    said = (messages("products_in_graph", counted=counted, n=n, limit=limit) if how == "graph"
            else messages("products_by_timing", counted=counted, n=n, limit=limit))
    record(said, products=counted, limit=limit, counted_by=how)


def _raised(student: Any, m: np.ndarray, n: int) -> tuple[str | None, Any]:
    """(exception type the student's code raised, None) or (None, the value it returned)."""
    try:
        value = student.call(ENTRY, m, n, CPU)
    except StudentError as err:
        # Raising is what this check asks for; a timeout or a crash is not a raise.
        if err.kind != "raised":
            raise
        return str(err.exc_type), None
    return None, value


def test_value_error(student: Any, params: dict[str, Any], matrices: dict[str, np.ndarray],
                     record: Any, messages: Catalogue) -> None:
    rows, cols = (int(d) for d in params["non_square_shape"])
    non_square = np.random.default_rng(int(params["seed"]) + 3).uniform(-1, 1, (rows, cols)).astype(np.float32)
    negative = int(params["negative_power"])
    wrong: list[Msg] = []
    exc_type, value = _raised(student, matrices["orthogonal"], negative)
    if exc_type is None:
        wrong.append(messages("negative_nothing_raised", n=negative, found=describe(value)))
    elif exc_type != "ValueError":
        wrong.append(messages("negative_other_raised", n=negative, exc_type=exc_type))
    exc_type, value = _raised(student, non_square, int(params["non_square_power"]))
    if exc_type is None:
        wrong.append(messages("non_square_nothing_raised", rows=rows, cols=cols, found=describe(value)))
    elif exc_type != "ValueError":
        wrong.append(messages("non_square_other_raised", rows=rows, cols=cols, exc_type=exc_type))
    if not wrong and not src.raises(src.SourceView.parse(student.source).reach(ENTRY), "ValueError"):
        wrong.append(messages("no_raise_in_source"))
    if wrong:
        fail(fill(messages, "value_error_expected", problems=join(wrong)),
             expected="ValueError", found=join(wrong).en)
    record(messages("value_error_ok"))


def test_throughput(student: Any, params: dict[str, Any], record: Any, messages: Catalogue) -> None:
    size, power = int(params["throughput_size"]), int(params["throughput_power"])
    minimum, tol = float(params["min_throughput_fraction"]), float(params["throughput_rel_tol"])
    needed = products_needed(power)
    m = orthogonal(size, int(params["seed"]) + 100)
    # Both sides of the comparison are timed by the clean process, back to back: plain
    # tf.matmul, then the student's traced graph (best of throughput_trials runs).
    traced = student.trace(ENTRY, m, power, CPU)
    baseline = student.verifier.matmul_seconds(size, int(params["matmul_repeats"]))
    if not (math.isfinite(baseline) and baseline > 0):
        raise RuntimeError(f"matmul_seconds gave {baseline!r}")   # the grader's problem, not the student's
    run = traced.run(int(params["throughput_trials"]))
    err = rel_error(run.array, reference(m, power))
    if err > tol:
        fail(messages("throughput_wrong", power=power, size=size, err=err, tol=tol),
             expected=f"error ≤ {tol:.0e}", found=f"{err:.1e}")
    if run.products == 0:
        fail(messages("throughput_no_products"), expected="tf.matmul in the graph", found="0 products")
    seconds = run.seconds
    fraction = baseline * needed / seconds if seconds > 0 else math.inf
    numbers = messages("throughput_numbers", power=power, size=size, seconds=seconds, needed=needed,
                       per_product_ms=seconds / needed * 1e3, matmul_ms=baseline * 1e3)
    details = {"fraction": fraction, "seconds": seconds, "matmul_seconds": baseline, "products_needed": needed}
    if fraction < minimum:
        fail(fill(messages, "throughput_low", minimum=minimum, fraction=fraction, numbers=numbers),
             expected=f"≥ {minimum:.0%}", found=f"{fraction:.0%}", **details)
    record(fill(messages, "throughput_ok", fraction=fraction, numbers=numbers), **details)
