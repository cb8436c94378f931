"""Helpers for tests that grade a file (imported as `gradehelp`: tests/ is on sys.path)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tfgrade.engine.grader import Grader
from tfgrade.engine.results import ErrorInfo, ExerciseResult


def grade_text(grader: Grader, tmp_path: Path, exercise_id: str, text: str | bytes,
               suffix: str = ".py") -> ExerciseResult:
    path = tmp_path / f"{exercise_id}{suffix}"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return grader.grade_file(grader.course.get(exercise_id), path)


def grade_case(grader: Grader, tmp_path: Path, exercise_id: str, case: Path) -> ExerciseResult:
    target = tmp_path / f"{exercise_id}{case.suffix}"
    shutil.copyfile(case, target)
    return grader.grade_file(grader.course.get(exercise_id), target)


def first_error(result: ExerciseResult) -> ErrorInfo:
    """The student error told on the first check it broke (a test that expects one fails
    here, saying which checks there were, if none was told)."""
    for check in result.checks:
        if check.student_error is not None:
            return check.student_error
    raise AssertionError(f"no student error in {[(c.id, c.status) for c in result.checks]}")


