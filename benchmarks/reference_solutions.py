"""Train every reference solution directly (no grader) and report held-out quality and time.

    .venv/bin/python benchmarks/reference_solutions.py [--seeds 0 1 2] [--threads 1]

For each seed: keras.utils.set_random_seed(seed), train the reference on the bundled
training split, predict the held-out split and score it with tfgrade.pack.metrics, exactly as
the checks do. TensorFlow is limited to --threads cores, like a grading worker's share.
Prints a Markdown table (benchmarks/REFERENCE.md keeps the measured one).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_solution(exercise_id: str):
    path = ROOT / "solutions" / f"{exercise_id}.py"
    spec = importlib.util.spec_from_file_location(f"reference_{exercise_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--exercises", nargs="+", default=["ex04_regression", "ex06_diabetes_mlp", "ex07_cnn"])
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    from tfgrade.pack import datasets, metrics

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    rows = []
    for exercise_id in args.exercises:
        module = load_solution(exercise_id)
        split = datasets.load(exercise_id)
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            entry = "train_regressor" if exercise_id == "ex04_regression" else "train_model"
            start = time.perf_counter()
            model = getattr(module, entry)(np.array(split.x_train), np.array(split.y_train))
            train_s = time.perf_counter() - start
            outputs = model.predict(np.array(split.x_test), verbose=0)
            if exercise_id == "ex04_regression":
                values = metrics.outputs_to_values(outputs, split.n_test).values
                metric = ("MAE (mpg)", metrics.mean_absolute_error(split.y_test, values))
            else:
                labels = metrics.outputs_to_labels(outputs, split.n_test).values
                metric = ("accuracy", metrics.accuracy(split.y_test, labels))
            rows.append((exercise_id, seed, *metric, model.count_params(), train_s))
            print(f"{exercise_id} seed={seed} {metric[0]}={metric[1]:.4f} train={train_s:.1f}s", flush=True)
        if exercise_id == "ex04_regression":
            rows.extend(fit_line_rows(module, args.seeds, keras))

    print()
    print("| exercise | seed | metric | value | parameters | training time (s) |")
    print("|---|---|---|---|---|---|")
    for exercise_id, seed, name, value, n_params, train_s in rows:
        print(f"| {exercise_id} | {seed} | {name} | {value:.4f} | {n_params} | {train_s:.1f} |")
    return 0


def fit_line_rows(module, seeds, keras):
    """fit_line on the same kind of synthetic line the check draws; value = worst |error|."""
    import numpy as np
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(1000 + seed)
        w, b = rng.choice([-1, 1], 2) * rng.uniform(1.5, 5.0, 2)
        x = rng.uniform(-1, 1, 200).astype(np.float32)
        y = (w * x + b + rng.normal(0, 0.1, 200)).astype(np.float32)
        keras.utils.set_random_seed(seed)
        start = time.perf_counter()
        w_fit, b_fit = module.fit_line(x, y)
        took = time.perf_counter() - start
        rows.append(("ex04_regression fit_line", seed, "max(|Δw|,|Δb|)",
                     max(abs(w_fit - w), abs(b_fit - b)), 2, took))
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
