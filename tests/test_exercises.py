"""Every exercise: the reference solution scores full marks, the starter scores 0 with the
"not implemented" message, and each realistic wrong submission gets its expected score and
feedback (tests/submissions/<id>/expected.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from gradehelp import first_error, grade_case

from tfgrade.engine.grader import Grader
from tfgrade.pack.course import Course

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"
TRAINING = {"ex04_regression", "ex06_diabetes_mlp", "ex07_cnn"}
COURSE = Course.load()


def _cases() -> list[Any]:
    params = []
    for expected in sorted(SUBMISSIONS.glob("*/expected.toml")):
        exercise_id = expected.parent.name
        cases = tomllib.loads(expected.read_text(encoding="utf-8")).get("cases", {})
        for name, spec in cases.items():
            path = expected.parent / f"{name}.py"
            params.append(pytest.param(exercise_id, path, spec, id=f"{exercise_id}/{name}"))
    return params


@pytest.mark.parametrize("exercise_id", [pytest.param(
    e.id, marks=[pytest.mark.slow] if e.id in TRAINING else []) for e in COURSE.exercises])
def test_reference_solution_full_marks(grader: Grader, tmp_path: Path, exercise_id: str) -> None:
    r = grade_case(grader, tmp_path, exercise_id, ROOT / "solutions" / f"{exercise_id}.py")
    failing = [(c.id, c.status, c.feedback.en) for c in r.checks if c.status not in ("passed", "not_applicable")]
    assert failing == []
    assert r.score == r.max_score > 0


@pytest.mark.parametrize("exercise_id", [e.id for e in COURSE.exercises])
def test_starter_scores_zero_with_not_implemented(grader: Grader, tmp_path: Path, exercise_id: str) -> None:
    ex = grader.course.get(exercise_id)
    r = grade_case(grader, tmp_path, exercise_id, ex.starter_file)
    assert r.score == 0
    assert first_error(r).kind == "not_implemented"
    assert "not implemented" in next(c for c in r.checks if c.status == "error").feedback.en


@pytest.mark.parametrize("exercise_id,path,spec", _cases())
def test_wrong_submission(grader: Grader, tmp_path: Path, exercise_id: str, path: Path,
                          spec: dict[str, Any]) -> None:
    g = grader
    limits = dict(spec.get("limits", {}))
    if "train_timeout_s" in spec:
        limits["train_timeout_s"] = spec["train_timeout_s"]
    if limits:
        g = Grader(replace(grader.course, limits_override=limits), grader.sandbox,
                   include_hidden=True, workdir=grader.workdir)
    r = grade_case(g, tmp_path, exercise_id, path)
    detail = [(c.id, c.status, c.points, c.feedback.en) for c in r.checks]
    if "score" in spec:
        assert r.score == pytest.approx(float(spec["score"])), detail
    if "score_min" in spec:
        assert r.score >= float(spec["score_min"]), detail
    if "score_max" in spec:
        assert r.score <= float(spec["score_max"]), detail
    statuses = {c.id: c.status for c in r.checks}
    for check_id in spec.get("failed", []):
        assert check_id in statuses, f"unknown check {check_id}"
        assert statuses[check_id] != "passed", detail
    for check_id in spec.get("passed", []):
        assert statuses[check_id] == "passed", detail
    feedback = " | ".join(c.feedback.en for c in r.checks)
    for text in spec.get("feedback_contains", []):
        assert text in feedback, detail
    # Messages are data: a case names the catalogue keys its feedback must use.
    keys = {c.feedback.key for c in r.checks}
    for key in spec.get("feedback_keys", []):
        assert key in keys, (key, sorted(k for k in keys if k), detail)
    # every failure is explained in both languages
    for c in r.checks:
        if c.status in ("failed", "error"):
            assert c.feedback.es and c.feedback.en, c.id
