"""`tfgrade bench`: the trusted half (tfgrade/bench.py) and the measuring kernel.

One real run (tiny sizes, one child process) feeds most tests; the rest are pure functions.
The GPU is always faked: a device list that claims /GPU:0 while CUDA is hidden from the
child, so the GPU path is exercised (and reported as skipped) on every machine.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tfgrade import bench
from tfgrade.sandboxed import bench_kernel
from tfgrade.sandboxed.devices import canonical

ROOT = Path(__file__).resolve().parent.parent
SIZES, POWER, DTYPES = (32, 64), 8, ("float32", "float16")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class BenchRun:
    code: int
    stdout: str
    out: Path
    rows: list[dict[str, str]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> BenchRun:
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = bench.main_bench(sizes=",".join(map(str, SIZES)), power=POWER, devices="cpu,gpu",
                                dtype=",".join(DTYPES), out=str(out), repeats=2, timeout=300, lang="en",
                                available_devices=["/CPU:0", "/GPU:0"], env=env)
    with (out / "bench.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return BenchRun(code, printed.getvalue(), out, rows)


# ---------------------------------------------------------------- one real run
def test_run_succeeds_and_writes_files(run: BenchRun) -> None:
    assert run.code == 0, run.stdout
    assert (run.out / "bench.csv").stat().st_size > 0
    assert (run.out / "bench.png").read_bytes()[:8] == PNG_SIGNATURE


def test_csv_has_the_documented_columns_and_one_row_per_case(run: BenchRun) -> None:
    with (run.out / "bench.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == bench.CSV_COLUMNS
    cases = {(r["device"], r["dtype"], int(r["size"]), r["method"]) for r in run.rows}
    expected = {(d, t, s, m) for d in ("cpu", "gpu") for t in DTYPES for s in SIZES for m in bench.METHODS}
    assert cases == expected
    assert len(run.rows) == len(expected)


def test_cpu_rows_are_measured(run: BenchRun) -> None:
    cpu = [r for r in run.rows if r["device"] == "cpu"]
    assert {r["status"] for r in cpu} == {"ok"}
    for r in cpu:
        products = bench_kernel.products_for(r["method"], POWER)
        assert int(r["products"]) == products
        assert float(r["median_s"]) > 0 and float(r["min_s"]) <= float(r["median_s"])
        flops = 2 * int(r["size"]) ** 3 * products
        assert float(r["gflops"]) == pytest.approx(flops / float(r["median_s"]) / 1e9, rel=1e-6)
        per_product = float(r["median_s"]) / products
        assert float(r["fraction_of_matmul"]) == pytest.approx(float(r["matmul_s"]) / per_product, rel=1e-6)
        assert r["result_device"] == "/CPU:0"


def test_float16_costs_precision(run: BenchRun) -> None:
    def errors(dtype: str) -> list[float]:
        return [float(r["max_rel_error"]) for r in run.rows if r["device"] == "cpu" and r["dtype"] == dtype]

    assert max(errors("float32")) < 1e-4
    assert 1e-4 < min(errors("float16")) < 5e-2


def test_fake_gpu_that_runs_nothing_is_skipped(run: BenchRun) -> None:
    gpu = [r for r in run.rows if r["device"] == "gpu"]
    assert gpu and {r["status"] for r in gpu} == {"skipped"}
    assert {r["reason"] for r in gpu} == {"not_usable"}
    assert all(r["median_s"] == "" and r["gflops"] == "" for r in gpu)


def test_table_shows_measurements_and_the_skip_reason(run: BenchRun) -> None:
    lines = run.stdout.splitlines()
    assert any(line.startswith("cpu") and "square_and_multiply" in line and " 64 " in line for line in lines)
    assert any(line.startswith("cpu") and "naive_loop" in line for line in lines)
    skip = "skipped: the device is listed, but operations do not run on it"
    assert sum(skip in line for line in lines) == len(DTYPES)       # one line per device/dtype
    assert "devices: /CPU:0" in run.stdout
    assert str(run.out / "bench.png") in run.stdout


# ---------------------------------------------------------------- trusted side, no child
def test_trusted_side_does_not_import_tensorflow() -> None:
    code = "import sys, tfgrade.bench; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_reference_solution_is_found() -> None:
    path = bench.reference_solution_path()
    assert path.name == "ex05_matrix_power.py" and path.is_file()
    assert "def matrix_power" in path.read_text(encoding="utf-8")


def test_options_parse_strings_and_namespaces(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    bench.add_bench_arguments(parser)
    options = bench.options_from(parser.parse_args(["--sizes", "8, 16", "--dtype", "float16", "--out", str(tmp_path)]))
    assert options.sizes == (8, 16) and options.dtypes == ("float16",) and options.out == tmp_path
    assert options.devices == ("cpu", "gpu") and options.power == 64 and options.file is None
    assert bench.options_from({"sizes": [4], "power": 3}).sizes == (4,)


@pytest.mark.parametrize("bad", [{"sizes": "a,b"}, {"sizes": "0"}, {"power": -1}, {"dtype": "float8"},
                                 {"repeats": 0}, {"file": "no/such/file.py"}])
def test_bad_options_are_explained_with_exit_code_2(bad: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(bench.BenchOptionError):
        bench.options_from(bad)
    assert bench.main_bench(bad) == 2
    assert capsys.readouterr().err.strip()


def test_a_child_that_fails_is_a_bench_error(tmp_path: Path) -> None:
    options = bench.BenchOptions(sizes=(4,), power=2, devices=("cpu",), dtypes=("float32",),
                                 out=tmp_path, repeats=1, timeout_s=120)
    missing = tmp_path / "gone.py"
    with pytest.raises(bench.BenchError) as err:
        bench.run_kernel(bench.kernel_request(options, missing), options.timeout_s)
    assert "gone.py" in err.value.msg.en and "exit code" in err.value.msg.en


def test_clean_row_keeps_only_known_columns_and_finite_numbers() -> None:
    row = bench.clean_row({"device": "cpu", "size": 8, "median_s": float("nan"), "gflops": True,
                           "max_rel_error": 1e-3, "extra": "x", "detail": "y" * 1000})
    assert set(row) == set(bench.CSV_COLUMNS)
    assert row["size"] == 8 and row["median_s"] is None and row["gflops"] is None
    assert row["max_rel_error"] == 1e-3 and len(row["detail"]) == 300 and row["method"] == ""
    assert bench.clean_row("not a dict")["device"] == ""


def _row(**values: Any) -> dict[str, Any]:
    return bench.clean_row({"device": "cpu", "dtype": "float32", "size": 256, "method": "naive_loop",
                            "power": 8, "products": 7, "status": "ok", **values})


def test_table_and_plot_from_hand_made_rows(tmp_path: Path) -> None:
    rows = [_row(median_s=0.5, gflops=12.5, fraction_of_matmul=0.81, max_rel_error=2e-7),
            _row(device="gpu", status="skipped", reason="not_listed", median_s=None)]
    table = bench.format_table(rows, "en")
    assert "0.5000" in table and "12.5" in table and " 81 " in table and "2.0e-07" in table
    assert "gpu          float32   skipped: TensorFlow lists no such device on this machine" in table
    assert "omitido: TensorFlow no ve este dispositivo" in bench.format_table(rows, "es")
    png = bench.write_plot(rows, tmp_path / "p.png", "en", 8)
    empty = bench.write_plot(rows[1:], tmp_path / "empty.png", "es")
    assert png.read_bytes()[:8] == PNG_SIGNATURE and empty.read_bytes()[:8] == PNG_SIGNATURE


# ---------------------------------------------------------------- kernel helpers (no TensorFlow)
def test_square_multiply_products_are_within_the_checked_limit() -> None:
    for n in range(2, 3000):
        exponent, product_count, remaining, base = 0, 0, n, 1
        while remaining:                      # simulate square-and-multiply on exponents
            if remaining & 1:
                product_count += exponent != 0
                exponent += base
            remaining >>= 1
            if remaining:
                base *= 2
                product_count += 1
        assert exponent == n
        assert bench_kernel.square_multiply_products(n) == product_count <= 2 * np.ceil(np.log2(n))
    assert bench_kernel.square_multiply_products(1024) == 10
    assert bench_kernel.naive_products(64) == 63 and bench_kernel.products_for("naive_loop", 0) == 0


def test_conditioned_matrix_power_is_exact_and_bounded() -> None:
    m, mp = bench_kernel.conditioned_matrix(16, 8)
    assert np.allclose(np.linalg.matrix_power(m, 8), mp, rtol=0, atol=1e-12)
    assert np.abs(np.linalg.eigvalsh(mp)).min() >= 0.5 - 1e-9 and np.abs(np.linalg.eigvalsh(mp)).max() <= 2 + 1e-9
    assert bench_kernel.max_rel_error(mp, mp) == 0.0
    assert bench_kernel.max_rel_error(mp * 1.01, mp) == pytest.approx(0.01)


def test_devices_are_planned_from_the_given_list() -> None:
    def runs(device: str) -> bool:
        return device == "/CPU:0"

    plans = {p.alias: p for p in bench_kernel.plan_devices(["cpu", "gpu"], ["/CPU:0"], runs)}
    assert plans["cpu"].usable and plans["gpu"].reason == "not_listed"
    claimed = bench_kernel.plan_devices(["gpu"], ["/device:CPU:0", "/job:localhost/device:GPU:0"], runs)
    assert claimed[0].device == "/GPU:0" and claimed[0].reason == "not_usable"


@pytest.mark.parametrize(("name", "expected"), [
    ("/job:localhost/replica:0/task:0/device:GPU:0", "/GPU:0"), ("/device:CPU:0", "/CPU:0"),
    ("GPU:1", "/GPU:1"), ("gpu", "/GPU:0"), ("/gpu:0", "/GPU:0"), ("cpu", "/CPU:0"),
])
def test_canonical_device_names(name: str, expected: str) -> None:
    assert canonical(name) == expected


def test_student_file_runs_in_the_sandbox(tmp_path: Path) -> None:
    """--file is untrusted: its matrix_power runs in the grading sandbox and only rows return."""
    from tfgrade.bench import main_bench

    student = tmp_path / "ex05_matrix_power.py"
    student.write_text(
        "import tensorflow as tf\n"
        "def matrix_power(m, n, device='/CPU:0'):\n"
        "    with tf.device(device):\n"
        "        r = tf.eye(tf.shape(m)[0], dtype=m.dtype)\n"
        "        for _ in range(n):\n"
        "            r = tf.matmul(r, m)\n"
        "        return r\n")
    out = tmp_path / "out"
    code = main_bench({"sizes": "32", "power": 4, "devices": "cpu", "dtype": "float32", "file": str(student),
                       "out": str(out), "repeats": 1, "lang": "en"})
    assert code == 0
    text = (out / "bench.csv").read_text()
    assert "square_and_multiply" in text and "cpu" in text.lower()
