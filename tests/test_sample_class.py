"""The demo's sample class builds from its manifest: every referenced file exists."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tfgrade.intake.classfolder import discover
from tfgrade.pack.course import Course

ROOT = Path(__file__).resolve().parent.parent


def test_sample_class_builds_with_good_and_bad_students(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_sample_class", ROOT / "examples" / "make_sample_class.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = module.build(ROOT / "examples" / "sample_class.toml", tmp_path / "class")
    assert len(names) >= 6
    students = {s.name: s for s in discover(tmp_path / "class", Course.load(), tmp_path / "work")}
    assert len(students["ana_garcia"].files) == 7
    assert students["elena_ruiz"].files == {}
    assert "ex02_sequential" in students["carla_martinez"].files       # "ex02_sequential (1).py"
    raw = (tmp_path / "class" / "fernando_diaz" / "ex02_sequential.py").read_bytes()
    assert "¿".encode("cp1252") in raw


def test_the_demo_course_files_fit_the_sample_class(tmp_path: Path) -> None:
    """`make demo` grades with examples/sample_course.toml, sample_times.csv and
    sample_overrides.csv: each must name students and checks of the sample class."""
    from tfgrade.policy.overrides import Overrides, precheck
    from tfgrade.policy.submission_times import read_times_csv

    spec = importlib.util.spec_from_file_location("make_sample_class", ROOT / "examples" / "make_sample_class.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(ROOT / "examples" / "sample_class.toml", tmp_path / "class")
    course = Course.load(config=ROOT / "examples" / "sample_course.toml")
    assert course.deadline is not None and course.leaderboard is not None
    students = discover(tmp_path / "class", course, tmp_path / "work")
    keys = {s.key for s in students}
    assert set(course.deadline.extensions) <= keys
    assert set(read_times_csv(ROOT / "examples" / "sample_times.csv", course.deadline.zone)) <= keys
    precheck(Overrides.read(ROOT / "examples" / "sample_overrides.csv"),
             [((s.key, s.display, s.student_id or ""), s.name) for s in students],
             {ex.id: {c.id for c in ex.checks} for ex in course.exercises})
