"""Time and memory the trusted side can afford: a hang costs its limit once, an exercise has
a wall-clock budget (respawns included), and big replies are not hoarded."""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from gradehelp import grade_text

from tfgrade.engine.grader import Grader
from tfgrade.engine.plugin import exercise_budget_s
from tfgrade.pack.course import Course

HANGS = 'def matrix_power(m, n, device="/CPU:0"):\n    while True:\n        pass\n'


def _limited(grader: Grader, call: float, train: float) -> Grader:
    course: Course = replace(grader.course, limits_override={"call_timeout_s": call, "train_timeout_s": train})
    return Grader(course, grader.sandbox, include_hidden=True, workdir=grader.workdir)


def test_a_function_that_hangs_is_not_called_again(grader: Grader, tmp_path: Path) -> None:
    g = _limited(grader, call=3.0, train=4.0)
    r = grade_text(g, tmp_path, "ex05_matrix_power", HANGS)
    assert r.status == "timeout" and r.score == 0
    # ex05's checks call matrix_power with many arguments: each paid 3 s before (the time
    # spent waiting on the student's child, on the trusted clock).
    assert r.student_time_s < 3.0 * 2, r.student_time_s
    skipped = [c for c in r.checks if c.status == "skipped"]
    assert skipped and all("not evaluated" in c.feedback.en for c in skipped)


def test_a_file_that_hangs_at_import_is_loaded_once(grader: Grader, tmp_path: Path) -> None:
    g = _limited(grader, call=3.0, train=4.0)
    start = time.monotonic()
    r = grade_text(g, tmp_path, "ex05_matrix_power", "while True:\n    pass\n")
    took = time.monotonic() - start
    assert r.status == "timeout" and r.score == 0
    assert took < 4.0 * 2.5, took        # one load at the 4 s limit, not one per check


def test_the_exercise_budget_bounds_slow_calls(grader: Grader, tmp_path: Path) -> None:
    g = _limited(grader, call=2.0, train=2.0)
    budget = exercise_budget_s(g.course.limits_for(g.course.get("ex05_matrix_power")))
    assert budget == 2 * 2.0 + 4 * 2.0
    slow = ("import time\nimport numpy as np\n"
            'def matrix_power(m, n, device="/CPU:0"):\n    time.sleep(1.5)\n'
            "    return np.linalg.matrix_power(np.asarray(m, dtype=np.float64), max(int(n), 0))\n")
    start = time.monotonic()
    r = grade_text(g, tmp_path, "ex05_matrix_power", slow)
    took = time.monotonic() - start
    # Every call is within its own limit, but there are more than ten of them: the budget stops it.
    assert took < budget + 6.0, took
    told = " | ".join(c.feedback.en for c in r.checks)
    assert "total time budget" in told, told


def test_big_replies_are_not_hoarded_by_the_trusted_worker(grader: Grader, tmp_path: Path) -> None:
    big = ("import numpy as np\n"
           'def matrix_power(m, n, device="/CPU:0"):\n'
           "    return np.ones((5792, 5792))      # 256 MiB of float64, whatever is asked\n")
    tracemalloc.start()
    try:
        r = grade_text(grader, tmp_path, "ex05_matrix_power", big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.score == 0
    # Ten correctness calls alone kept 2.5 GB in the reply cache before (4.1 GB seen); what
    # remains is one reply and the check's own transient copies of it.
    assert peak < 2 * 2**30, peak / 2**30
