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

from tfgrade.checking import fail, not_applicable
from tfgrade.checklib import source as src
from tfgrade.checklib.matrices import orthogonal, reference, row_stochastic
from tfgrade.specs import OpaqueValue, TensorValue, TracedRun
from tfgrade.student import StudentError

ENTRY = "matrix_power"
CPU = "/CPU:0"
GPU = "/GPU:0"
KINDS = {"orthogonal": ("ortogonal escalada", "scaled orthogonal"),
         "stochastic": ("estocástica por filas", "row-stochastic")}


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


# ---------------------------------------------------------------- checks
def test_correct(student: Any, params: dict[str, Any], matrices: dict[str, np.ndarray], record: Any) -> None:
    tol = float(params["rel_tol"])
    wrong_es: list[str] = []
    wrong_en: list[str] = []
    worst = 0.0
    for kind, m in matrices.items():
        for n in params["powers"]:
            value = student.call(ENTRY, m, int(n), CPU)
            if as_array(value) is None:
                fail(es=f"matrix_power(M, {n}) debe devolver un tf.Tensor; devolvió {describe(value)}",
                     en=f"matrix_power(M, {n}) must return a tf.Tensor; it returned {describe(value)}",
                     expected="tf.Tensor", found=describe(value))
            err = power_error(value, m, int(n))
            worst = max(worst, err)
            if err <= tol:
                continue
            shape = as_array(value).shape  # type: ignore[union-attr]
            what_es = (f"forma {shape}, se esperaba {m.shape}" if shape != m.shape
                       else f"error relativo {err:.1e} > {tol:.0e}")
            what_en = (f"shape {shape}, expected {m.shape}" if shape != m.shape
                       else f"relative error {err:.1e} > {tol:.0e}")
            hint = (" — M^0 es la identidad", " — M^0 is the identity") if n == 0 else ("", "")
            wrong_es.append(f"n = {n} (matriz {KINDS[kind][0]}): {what_es}{hint[0]}")
            wrong_en.append(f"n = {n} ({KINDS[kind][1]} matrix): {what_en}{hint[1]}")
    if wrong_es:
        fail(es="M^n no coincide con la referencia en float64: " + "; ".join(wrong_es),
             en="M^n does not match the float64 reference: " + "; ".join(wrong_en),
             expected=f"max |M^n − ref| / max |ref| ≤ {tol:.0e}", found="; ".join(wrong_en))
    powers = ", ".join(str(n) for n in params["powers"])
    record(es=f"M^n correcto para n = {powers} (error relativo máximo {worst:.1e})",
           en=f"M^n correct for n = {powers} (largest relative error {worst:.1e})", max_rel_error=worst)


def traced_run(student: Any, m: np.ndarray, n: int, device: str, repeats: int = 1) -> TracedRun:
    """matrix_power(m, n, device) traced in the student's child, run by the clean process."""
    return student.trace(ENTRY, m, n, device).run(repeats)


def require_computed_in_tf(run: TracedRun, n: int) -> None:
    if not run.uses_input:
        fail(es=f"el grafo de matrix_power(M, {n}) no usa M: el resultado se calculó fuera de TensorFlow "
                "(¿con NumPy?) y no vive en ningún dispositivo; calcula con tf.matmul",
             en=f"the graph of matrix_power(M, {n}) does not use M: the result was computed outside "
                "TensorFlow (with NumPy?) and lives on no device; compute with tf.matmul",
             expected="M used by TensorFlow ops", found="a constant result")


def _check_device(student: Any, record: Any, m: np.ndarray, n: int, device: str, tol: float) -> None:
    run = traced_run(student, m, n, device)
    require_computed_in_tf(run, n)
    # Placement is graded on the graph of the very computation the function performs: the
    # traced graph must give what the function itself returns (right or wrong).
    returned = as_array(student.call(ENTRY, m, n, device))
    if returned is None or rel_error(run.array, returned.astype(np.float64)) > tol:
        fail(es="el grafo trazado de tu función no da lo que tu función devuelve: no se puede saber dónde "
                "se calcula el resultado",
             en="the traced graph of your function does not give what your function returns: where the "
                "result is computed cannot be known", expected="graph == returned value", found="different")
    wanted = device.lstrip("/")
    if not run.device.endswith(wanted):
        fail(es=f"con device=\"{device}\" el resultado debe estar en {wanted}, pero al ejecutar tu cálculo "
                f"queda en {run.device or 'un dispositivo desconocido'}: calcula dentro de `with tf.device(device):`",
             en=f"with device=\"{device}\" the result must live on {wanted}, but running your computation "
                f"leaves it on {run.device or 'an unknown device'}: compute inside `with tf.device(device):`",
             expected=wanted, found=run.device)
    record(es=f"el resultado está en {run.device}", en=f"the result lives on {run.device}", device=run.device)


def test_on_cpu(student: Any, params: dict[str, Any], matrices: dict[str, np.ndarray], record: Any) -> None:
    _check_device(student, record, matrices["orthogonal"], int(params["powers"][-1]), CPU, float(params["rel_tol"]))


def test_on_gpu(student: Any, params: dict[str, Any], matrices: dict[str, np.ndarray], record: Any) -> None:
    devices = student.verifier.devices()          # the clean process's devices, not the child's
    if not any(d.endswith("GPU:0") for d in devices):
        listed = ", ".join(devices) or "—"
        not_applicable(es=f"la máquina de corrección no tiene GPU (dispositivos: {listed}): "
                          "esta comprobación no se aplica y sus puntos salen del total",
                       en=f"the grading machine has no GPU (devices: {listed}): "
                          "this check does not apply and its points leave the total")
        return
    _check_device(student, record, matrices["orthogonal"], int(params["powers"][-1]), GPU, float(params["rel_tol"]))


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


def test_log_products(student: Any, params: dict[str, Any], record: Any) -> None:
    n, tol = int(params["log_power"]), float(params["log_rel_tol"])
    limit = product_limit(n)
    m = orthogonal(int(params["log_size"]), int(params["seed"]) + 2)
    run = traced_run(student, m, n, CPU)
    counted, how = counted_products(student, params, run, n)
    if counted == 0:
        fail(es=f"para n = {n} no se contó ningún producto de matrices (tf.matmul, tf.linalg.matmul o @); "
                f"se esperaban entre 1 y {limit}",
             en=f"for n = {n} no matrix product was counted (tf.matmul, tf.linalg.matmul or @); "
                f"between 1 and {limit} were expected",
             expected=f"1–{limit}", found=0)
    if counted > limit:
        fail(es=f"para n = {n} se permiten como mucho {limit} productos de matrices (2·⌈log2 n⌉), "
                f"se contaron {counted}: eleva al cuadrado (M, M², M⁴, …) y multiplica solo las "
                "potencias de los bits 1 de n",
             en=f"for n = {n} at most {limit} matrix products are allowed (2·⌈log2 n⌉), "
                f"{counted} were counted: square repeatedly (M, M², M⁴, …) and multiply in only the "
                "powers of n's 1 bits",
             expected=f"≤ {limit}", found=counted)
    err = rel_error(run.array, reference(m, n))
    if err > tol:
        fail(es=f"{counted} productos para n = {n} está dentro del límite ({limit}), pero M^{n} es "
                f"incorrecto (error relativo {err:.1e} > {tol:.0e})",
             en=f"{counted} products for n = {n} is within the limit ({limit}), but M^{n} is wrong "
                f"(relative error {err:.1e} > {tol:.0e})",
             expected=f"error ≤ {tol:.0e}", found=f"{err:.1e}")
    how_es, how_en = ("contados en el grafo", "counted in the graph") if how == "graph" else \
        ("estimados por tiempo: el grafo tiene un bucle de TF", "estimated by timing: the graph has a TF loop")
    record(es=f"{counted} productos de matrices para n = {n} (límite {limit}; {how_es})",
           en=f"{counted} matrix products for n = {n} (limit {limit}; {how_en})", products=counted, limit=limit,
           counted_by=how)


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
                     record: Any) -> None:
    shape = tuple(int(d) for d in params["non_square_shape"])
    non_square = np.random.default_rng(int(params["seed"]) + 3).uniform(-1, 1, shape).astype(np.float32)
    negative = int(params["negative_power"])
    cases = [
        (matrices["orthogonal"], negative, f"n = {negative}", f"n = {negative}"),
        (non_square, int(params["non_square_power"]), f"una matriz {shape[0]}×{shape[1]}",
         f"a {shape[0]}×{shape[1]} matrix"),
    ]
    wrong_es: list[str] = []
    wrong_en: list[str] = []
    for m, n, case_es, case_en in cases:
        exc_type, value = _raised(student, m, n)
        if exc_type == "ValueError":
            continue
        if exc_type is None:
            wrong_es.append(f"con {case_es} no se lanzó ninguna excepción (devolvió {describe(value)})")
            wrong_en.append(f"with {case_en} nothing was raised (it returned {describe(value)})")
        else:
            wrong_es.append(f"con {case_es} se lanzó {exc_type}")
            wrong_en.append(f"with {case_en} {exc_type} was raised")
    if not wrong_es and not src.raises(src.SourceView.parse(student.source).reach(ENTRY), "ValueError"):
        wrong_es.append("matrix_power no contiene `raise ValueError(...)`: la excepción no la lanza tu código")
        wrong_en.append("matrix_power has no `raise ValueError(...)`: the exception is not raised by your code")
    if wrong_es:
        fail(es="se esperaba ValueError: " + "; ".join(wrong_es) + ". Comprueba los argumentos antes "
                "de calcular: `raise ValueError(...)`",
             en="ValueError was expected: " + "; ".join(wrong_en) + ". Check the arguments before "
                "computing: `raise ValueError(...)`",
             expected="ValueError", found="; ".join(wrong_en))
    record(es="n < 0 y una matriz no cuadrada lanzan ValueError",
           en="n < 0 and a non-square matrix raise ValueError")


def test_throughput(student: Any, params: dict[str, Any], record: Any) -> None:
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
        fail(es=f"M^{power} de una matriz {size}×{size} es incorrecto (error relativo {err:.1e} > "
                f"{tol:.0e}): la velocidad solo cuenta con un resultado correcto",
             en=f"M^{power} of a {size}×{size} matrix is wrong (relative error {err:.1e} > {tol:.0e}): "
                "speed only counts with a correct result",
             expected=f"error ≤ {tol:.0e}", found=f"{err:.1e}")
    if run.products == 0:
        fail(es="el grafo de tu función no calcula ningún producto de matrices: el resultado se calculó "
                "fuera de TensorFlow, y la velocidad se mide sobre el cálculo de TensorFlow",
             en="your function's graph computes no matrix product: the result was computed outside "
                "TensorFlow, and speed is measured on the TensorFlow computation",
             expected="tf.matmul in the graph", found="0 products")
    seconds = run.seconds
    fraction = baseline * needed / seconds if seconds > 0 else math.inf
    per_product = seconds / needed
    numbers_es = (f"M^{power} ({size}×{size}) tardó {seconds:.3f} s, {per_product * 1e3:.1f} ms por cada uno "
                  f"de los {needed} productos necesarios; un tf.matmul solo tarda {baseline * 1e3:.1f} ms")
    numbers_en = (f"M^{power} ({size}×{size}) took {seconds:.3f} s, {per_product * 1e3:.1f} ms for each of "
                  f"the {needed} products it needs; a plain tf.matmul takes {baseline * 1e3:.1f} ms")
    details = {"fraction": fraction, "seconds": seconds, "matmul_seconds": baseline, "products_needed": needed}
    if fraction < minimum:
        fail(es=f"se esperaba al menos el {minimum:.0%} del ritmo de tf.matmul por producto, hay el "
                f"{fraction:.0%}: {numbers_es}",
             en=f"at least {minimum:.0%} of tf.matmul's rate per product was expected, found "
                f"{fraction:.0%}: {numbers_en}",
             expected=f"≥ {minimum:.0%}", found=f"{fraction:.0%}", **details)
    record(es=f"{fraction:.0%} del ritmo de tf.matmul: {numbers_es}",
           en=f"{fraction:.0%} of tf.matmul's rate: {numbers_en}", **details)
