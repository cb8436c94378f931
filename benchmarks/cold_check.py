"""Cold `tfgrade check` against a bare TensorFlow import, measured in the same run.

A student's first `tfgrade check ex02_sequential.py` should cost about what TensorFlow's own
import costs: the sandbox side (the zygote, or the portable path's first child) is started
before the trusted side's own imports, so those overlap the import. This runs, alternately,
N times each (ABAB: load drifts alike for both):

    A  python -c "import tensorflow"
    B  python -m tfgrade check <file>       (a fresh process: nothing imported, nothing warm)

and prints every wall time, the medians and their ratio (target: ≤ 1.15).

    PYTHONPATH=. python benchmarks/cold_check.py -n 5
    PYTHONPATH=. TFGRADE_PORTABLE=1 python benchmarks/cold_check.py -n 3     # the portable path

The machine's 1-minute load average is printed before and after (the figures are only as
quiet as the machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (OSError, AttributeError):
        return "n/a"


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):        # 1: a check failed; still a full run
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--file", default=str(ROOT / "solutions" / "ex02_sequential.py"))
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    bare = [sys.executable, "-c", "import tensorflow"]
    check = [sys.executable, "-m", "tfgrade", "check", args.file, "--lang", "en"]
    print(f"load before: {_load()}  portable: {os.environ.get('TFGRADE_PORTABLE') == '1'}  file: {args.file}")
    times: dict[str, list[float]] = {"import": [], "check": []}
    for i in range(args.n):
        times["import"].append(_timed(bare, env))
        times["check"].append(_timed(check, env))
        print(f"run {i + 1}: import {times['import'][-1]:.2f} s   check {times['check'][-1]:.2f} s", flush=True)
    a, b = statistics.median(times["import"]), statistics.median(times["check"])
    print(f"load after: {_load()}")
    print(f"median bare import {a:.2f} s · median cold check {b:.2f} s · ratio {b / a:.3f} (target ≤ 1.15)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
