"""A rerun that knows what changed: the resume fingerprint covers the whole course (dataset
sources and contents, limits, the exercise subset, the seed) and the isolation level."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tfgrade import __version__
from tfgrade.engine.results import SubmissionResult
from tfgrade.pack.course import Course
from tfgrade.pack.datasets import pima
from tfgrade.runners.batch import ClassSummary, StudentFiles, grade_class
from tfgrade.runners.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
IDS = ("ex01_tf1_add", "ex02_sequential", "ex06_diabetes_mlp")


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    for ex_id in IDS:
        shutil.copytree(ROOT / "exercises" / ex_id, pack / ex_id)
    for name in ("ana", "beto"):
        (tmp_path / "subs" / name).mkdir(parents=True)
        (tmp_path / "subs" / name / "ex01_tf1_add.py").write_text(f"# {name}\n")
    _private(tmp_path / "private" / "a.npz", 200)
    _private(tmp_path / "private" / "b.npz", 150)
    return tmp_path


def _private(path: Path, n: int) -> None:
    s = pima()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x_train=s.x_train[:n], y_train=s.y_train[:n], x_test=s.x_test[:60], y_test=s.y_test[:60])


def _course(root: Path, text: str) -> Course:
    (root / "course.toml").write_text(text, encoding="utf-8")
    return Course.load(root / "pack", root / "course.toml")


def _run(root: Path, course: Course, isolation: str = "standard") -> ClassSummary:
    def runner(todo: list[StudentFiles]) -> Iterator[SubmissionResult]:
        for s in todo:     # what a worker sends back; the dispatcher stamps the fingerprint
            yield SubmissionResult(student=s.name, exercises=(), isolation=isolation,  # type: ignore[arg-type]
                                   tool_version=__version__, graded_at="2026-01-01T00:00:00+00:00",
                                   fingerprint="from-the-worker", student_id=s.student_id)
    subs = root / "subs"
    students = [StudentFiles(p.name, p, {"ex01_tf1_add": p / "ex01_tf1_add.py"}) for p in sorted(subs.iterdir())]
    return grade_class(students, root / "out", runner, course, progress=Progress(2, "en", io.StringIO()),
                       isolation=isolation)


BASE = """seed = 2026
exercises = ["ex01_tf1_add", "ex06_diabetes_mlp"]
[limits]
train_timeout_s = 180
[datasets.ex06_diabetes_mlp]
source = "private/a.npz"
"""


@pytest.mark.parametrize("change", ["source", "contents", "limits", "subset", "seed", "exercise_limits"])
def test_a_course_change_regrades(setup: Path, change: str) -> None:
    root = setup
    first = _run(root, _course(root, BASE))
    assert first.graded == 2
    assert all(r.fingerprint and r.fingerprint != "from-the-worker" for r in first.results)
    again = _run(root, _course(root, BASE))
    assert (again.graded, again.skipped) == (0, 2)                      # nothing changed
    text = BASE
    if change == "source":
        text = BASE.replace("private/a.npz", "private/b.npz")
    elif change == "contents":
        _private(root / "private" / "a.npz", 100)                       # same file, a new test set
    elif change == "limits":
        text = BASE.replace("train_timeout_s = 180", "train_timeout_s = 90")
    elif change == "subset":
        text = BASE.replace('"ex06_diabetes_mlp"]', '"ex02_sequential", "ex06_diabetes_mlp"]')
    elif change == "seed":
        text = BASE.replace("seed = 2026", "seed = 2027")
    elif change == "exercise_limits":
        toml = root / "pack" / "ex01_tf1_add" / "exercise.toml"
        toml.write_text(toml.read_text().replace("memory_mb = 4096", "memory_mb = 2048"))
    changed = _run(root, _course(root, text))
    assert (changed.graded, changed.skipped) == (2, 0), change
    assert (_run(root, _course(root, text)).skipped) == 2               # and then it is stable


def test_switching_to_a_private_test_set_regrades(setup: Path) -> None:
    """The issue's case: ex06 switched to a private test set in the course file."""
    root = setup
    public = BASE.replace('[datasets.ex06_diabetes_mlp]\nsource = "private/a.npz"\n', "")
    assert _run(root, _course(root, public)).graded == 2
    assert _run(root, _course(root, public)).skipped == 2
    assert _run(root, _course(root, BASE)).graded == 2


def test_another_isolation_level_regrades(setup: Path) -> None:
    root = setup
    course = _course(root, BASE)
    assert _run(root, course, "basic").graded == 2
    assert _run(root, course, "basic").skipped == 2
    assert _run(root, course, "standard").graded == 2
    assert _run(root, course, "standard").skipped == 2
