"""The course travels to Dask workers: pack, course settings and private datasets as bytes."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tfgrade.pack import datasets
from tfgrade.pack.course import Course
from tfgrade.runners.batch import course_digest, pack_digest

ROOT = Path(__file__).resolve().parent.parent
N_TEST = 60


def _setup(tmp: Path, ids: tuple[str, ...] = ("ex01_tf1_add", "ex02_sequential", "ex06_diabetes_mlp"),
           graded: tuple[str, ...] = ("ex01_tf1_add", "ex06_diabetes_mlp")) -> Path:
    pack = tmp / "pack"
    for ex_id in ids:
        shutil.copytree(ROOT / "exercises" / ex_id, pack / ex_id)
    s = datasets.pima()
    (tmp / "private").mkdir()
    np.savez(tmp / "private" / "pima_2026.npz", x_train=s.x_train[:200], y_train=s.y_train[:200],
             x_test=s.x_test[:N_TEST], y_test=s.y_test[:N_TEST])
    listed = ", ".join(f'"{i}"' for i in graded)
    (tmp / "course.toml").write_text(
        f"seed = 2026\nexercises = [{listed}]\n[limits]\ntrain_timeout_s = 150\n"
        '[datasets.ex06_diabetes_mlp]\nsource = "private/pima_2026.npz"\n', encoding="utf-8")
    return tmp / "course.toml"


def test_bundle_rebuilds_the_course_without_the_instructors_files(tmp_path: Path) -> None:
    config = _setup(tmp_path / "instructor")
    course = Course.load(tmp_path / "instructor" / "pack", config)
    expected_split = datasets.load("ex06_diabetes_mlp", course.get("ex06_diabetes_mlp").data)
    bundle = course.to_bundle()
    digest = pack_digest(course)
    shutil.rmtree(tmp_path / "instructor")                       # no shared file system
    worker = Course.from_bundle(bundle, tmp_path / "worker")
    assert worker.ids == ("ex01_tf1_add", "ex06_diabetes_mlp")
    assert worker.seed == 2026 and worker.limits_override == {"train_timeout_s": 150}
    assert worker.limits_for(worker.get("ex06_diabetes_mlp")).train_timeout_s == 150
    assert pack_digest(worker) == digest
    ex06 = worker.get("ex06_diabetes_mlp")
    assert Path(ex06.data["source"]).is_relative_to(tmp_path / "worker")
    assert worker.datasets["ex06_diabetes_mlp"]["source"] == ex06.data["source"]
    split = datasets.load("ex06_diabetes_mlp", ex06.data, base_dir=ex06.folder)
    assert split.n_test == N_TEST
    np.testing.assert_array_equal(split.x_test, expected_split.x_test)
    np.testing.assert_array_equal(split.y_test, expected_split.y_test)
    # the same course, so a rerun on the dispatcher would not regrade for it
    assert course_digest(worker, "standard") != ""


def test_bundle_refuses_paths_that_escape(tmp_path: Path) -> None:
    from tfgrade.errors import PackError

    config = _setup(tmp_path / "instructor", ids=("ex01_tf1_add",), graded=("ex01_tf1_add",))
    bundle = Course.load(tmp_path / "instructor" / "pack", config).to_bundle()
    bundle["exercises"][0]["files"]["../../evil.py"] = b"x"
    with pytest.raises(PackError):
        Course.from_bundle(bundle, tmp_path / "worker")
    assert not (tmp_path / "evil.py").exists()


def _gradebook(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))


def _held_out_counts(out: Path) -> set[int]:
    """How many held-out samples each ex06 result was scored on (its confusion matrix)."""
    counts = set()
    for path in (out / "results").glob("*.json"):
        for ex in json.loads(path.read_text(encoding="utf-8"))["exercises"]:
            for check in ex["checks"] if ex["exercise"] == "ex06_diabetes_mlp" else []:
                matrix = check["details"].get("confusion_matrix")
                if isinstance(matrix, dict) and matrix.get("counts"):
                    counts.add(int(np.sum(matrix["counts"])))
    return counts


def test_dask_workers_grade_the_instructors_course(tmp_path: Path) -> None:
    """A course with an exercise subset and a private test set: `--dask-local 2` gives the
    gradebook `-j 2` gives (before: every row a grader_error, "exercise pack differs")."""
    pytest.importorskip("distributed")
    config = _setup(tmp_path)
    subs = tmp_path / "subs"
    for name, files in (("ana", ("ex01_tf1_add", "ex06_diabetes_mlp")), ("beto", ("ex01_tf1_add",))):
        (subs / name).mkdir(parents=True)
        for ex_id in files:
            shutil.copyfile(ROOT / "solutions" / f"{ex_id}.py", subs / name / f"{ex_id}.py")
    (subs / "beto" / "ex06_diabetes_mlp.py").write_text("def train_model(x, y):\n    raise ValueError('no')\n")
    env = {k: v for k, v in os.environ.items() if k != "TFGRADE_PACK"}
    books = {}
    for label, extra in (("local", ["-j", "2"]), ("dask", ["--dask-local", "2"])):
        out = tmp_path / label
        proc = subprocess.run([sys.executable, "-m", "tfgrade", "grade", str(subs), "--out", str(out),
                               "--pack", str(tmp_path / "pack"), "--course", str(config), "--lang", "en", *extra],
                              capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        books[label] = _gradebook(out)
        assert [r["student"] for r in books[label]] == ["ana", "beto"]
        assert "grader_error" not in {r["status"] for r in books[label]}, proc.stderr[-2000:]
        assert list(books[label][0]) == ["student", "id", "ex01_tf1_add", "ex06_diabetes_mlp", "total",
                                         "max_total", "submitted_at", "time_source", "late_by", "penalty",
                                         "final", "percent", "adjusted", "status"]
        assert _held_out_counts(out) == {N_TEST}          # scored on the private test set (not 192)
    assert books["dask"] == books["local"]
    assert float(books["dask"][0]["ex01_tf1_add"]) == 10
