#!/usr/bin/env python3
"""tfgrade against nbgrader's `autograde` on the same class, side by side in one run.

    .venv/bin/python benchmarks/nbgrader_compare.py --students 10 [--seed 1] [--jobs 2]

The class is grade_class.py's (same seed, same files). nbgrader gets an equivalent course
(benchmarks/nbgrader/: one assignment, one notebook per exercise whose autograder test cells
call the same functions on the same data with the same thresholds as tfgrade's checks) and
each student's code in the answer cell of the released notebooks. tfgrade grades the same
code as notebooks with that one cell. nbgrader runs from its own venv,
benchmarks/.nbgrader-venv (created on first use; gitignored).

Printed: both wall times, the ratio, peak memory of each tool's process tree, the load
average around each run, and per exercise the mean score each tool gave (a check that the
two courses grade alike).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import grade_class as gc

sys.path.insert(0, str(Path(__file__).resolve().parent / "nbgrader"))
import build_course as bc  # noqa: E402  (benchmarks/nbgrader/build_course.py)

VENV = gc.ROOT / "benchmarks" / ".nbgrader-venv"


def tfgrade_scores(out: Path) -> dict[str, dict[str, list[float]]]:
    return {r["student"]: {e["exercise"]: [e["score"], e["max_score"]] for e in r["exercises"]}
            for r in gc.load_results(out)}


def compare_scores(tf: dict, nb: dict, exercises: list[str]) -> list[tuple[str, float, float, int]]:
    """Per exercise: mean % from tfgrade, mean % from nbgrader, pairs more than 10 points apart."""
    rows = []
    for ex in exercises:
        pct_tf, pct_nb, apart = [], [], 0
        for student in sorted(set(tf) & set(nb)):
            a, b = tf[student].get(ex), nb[student].get(ex)
            if not a or not b or not a[1] or not b[1]:
                continue
            pa, pb = 100 * a[0] / a[1], 100 * (b[0] or 0.0) / b[1]
            pct_tf.append(pa)
            pct_nb.append(pb)
            apart += abs(pa - pb) > 10
        if pct_tf:
            rows.append((ex, sum(pct_tf) / len(pct_tf), sum(pct_nb) / len(pct_nb), apart))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="tfgrade workers (nbgrader has none: one notebook at a time)")
    ap.add_argument("--also-j1", action="store_true", help="also time tfgrade with -j 1")
    ap.add_argument("--work", type=Path, default=gc.ROOT / "out" / "nbgrader_compare")
    ap.add_argument("--venv", type=Path, default=VENV)
    ap.add_argument("--tree", type=Path, default=gc.ROOT, help="the tfgrade checkout to measure (default: this one)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    args.work = args.work.resolve()

    tree = args.tree.resolve()
    students = gc.build_class(args.students, args.seed, tree)
    exercises = gc.exercise_ids(tree)
    print(f"class: {gc.describe_class(students)}")
    bc.ensure_venv(args.venv)
    course = args.work / "nbgrader_course"
    bc.build_course(course, args.venv, exercises, [s.name for s in students], tree)
    for s in students:
        bc.submit(course, s.name, {p.exercise: p.path for p in s.picks})
    class_dir = args.work / "class"
    gc.write_class(students, class_dir, "ipynb")
    print(f"nbgrader course: {course} · tfgrade class (same code, one-cell notebooks): {class_dir}")

    runs: dict[str, dict] = {}
    plan = [(f"tfgrade -j {args.jobs}", args.jobs)] + ([("tfgrade -j 1", 1)] if args.also_j1 and args.jobs != 1 else [])
    for label, jobs in plan:
        before = os.getloadavg()[0]
        run = gc.run_tfgrade(class_dir, args.work / f"tfgrade-out-j{jobs}", jobs, tree=tree)
        if run.returncode:
            print(f"{label} exited {run.returncode}", file=sys.stderr)
            return 1
        runs[label] = {"wall_s": run.wall_s, "peak_mib": run.sampler.peak_all_kb / 1024,
                       "load": [before, os.getloadavg()[0]]}
    before = os.getloadavg()[0]
    run = gc.run_command([str(bc.nbgrader_bin(args.venv)), "autograde", bc.ASSIGNMENT, "--force"],
                         cwd=course, env=bc.nbgrader_env(args.venv))
    if run.returncode:
        print(f"nbgrader autograde exited {run.returncode}", file=sys.stderr)
        return 1
    runs["nbgrader autograde"] = {"wall_s": run.wall_s, "peak_mib": run.sampler.peak_all_kb / 1024,
                                  "load": [before, os.getloadavg()[0]]}

    n = len(students)
    nb_wall = runs["nbgrader autograde"]["wall_s"]
    print(f"\n== {n} students × {len(exercises)} exercises, {os.cpu_count()} cores")
    print(f"{'tool':<22} {'wall s':>8} {'students/min':>13} {'peak PSS MiB':>13} {'load 1-min before→after':>26} {'nbgrader ÷ this':>16}")
    for label, r in runs.items():
        print(f"{label:<22} {r['wall_s']:8.1f} {60 * n / r['wall_s']:13.1f} {r['peak_mib']:13.0f} "
              f"{r['load'][0]:12.1f} → {r['load'][1]:<11.1f} {nb_wall / r['wall_s']:15.2f}×")
    tf = tfgrade_scores(args.work / f"tfgrade-out-j{args.jobs}")
    nb = bc.scores(course, args.venv, [s.name for s in students])
    rows = compare_scores(tf, nb, exercises)
    print("\nMean score per exercise (% of the maximum): do the two courses grade alike?")
    print(f"{'exercise':<20} {'tfgrade':>8} {'nbgrader':>9} {'pairs >10 pts apart':>20}")
    for ex, a, b, apart in rows:
        print(f"{ex:<20} {a:8.1f} {b:9.1f} {apart:20d}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"students": n, "runs": runs, "scores": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
