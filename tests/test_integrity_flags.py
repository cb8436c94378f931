"""Public held-out data and implausibly good metrics are flagged for the instructor; no
score changes (tfgrade.checklib.learning.integrity_details, tfgrade.engine.validate)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from tfgrade.checklib import learning
from tfgrade.engine.results import CheckResult, ExerciseResult, SubmissionResult
from tfgrade.pack import datasets
from tfgrade.reports.class_report import student_flags


def _split(public: bool) -> datasets.Split:
    base = datasets.pima()
    return replace(base, public=public)


def test_bundled_split_is_public_and_a_private_file_is_not(tmp_path: Path) -> None:
    assert datasets.pima().public
    bundled = datasets.pima()
    path = tmp_path / "pima.npz"
    np.savez(path, x_train=bundled.x_train, y_train=bundled.y_train, x_test=bundled.x_test, y_test=bundled.y_test)
    assert not datasets.pima(source=path).public


def test_pima_accuracy_of_one_is_implausible_and_public_data_is_said() -> None:
    flags = learning.integrity_details(1.0, _split(True), ceiling=0.86, higher_is_better=True, metric="accuracy")
    assert flags["implausible"]["key"] == "learning_implausible"
    assert "1 is beyond" in flags["implausible"]["en"] and "≤ 0,86" in flags["implausible"]["es"]
    assert flags["public_held_out"]["key"] == "learning_public_held_out"
    assert flags["public_held_out"]["es"] != flags["public_held_out"]["en"]
    ordinary = learning.integrity_details(0.79, _split(False), ceiling=0.86, higher_is_better=True, metric="accuracy")
    assert ordinary == {}


def test_an_error_of_zero_is_implausible() -> None:
    flags = learning.integrity_details(0.0, _split(False), ceiling=0.95, higher_is_better=False, metric="MAE")
    assert flags["implausible"]["key"] == "learning_implausible" and "(≥ 0.95" in flags["implausible"]["en"]
    assert learning.integrity_details(1.9, _split(False), ceiling=0.95, higher_is_better=False, metric="MAE") == {}


def test_the_ceiling_is_read_from_the_pack(tmp_path: Path) -> None:
    exercise = SimpleNamespace(folder=tmp_path)
    assert learning.plausibility_ceiling(exercise) is None
    (tmp_path / learning.PLAUSIBILITY_FILE).write_text(json.dumps({"ceiling": 0.86}))
    assert learning.plausibility_ceiling(exercise) == 0.86
    (tmp_path / learning.PLAUSIBILITY_FILE).write_text("not json")
    assert learning.plausibility_ceiling(exercise) is None


def test_bundled_pack_ships_measured_ceilings() -> None:
    root = Path(__file__).resolve().parent.parent / "exercises"
    for ex, metric in (("ex04_regression", "mae"), ("ex06_diabetes_mlp", "accuracy"), ("ex07_cnn", "accuracy")):
        data = json.loads((root / ex / learning.PLAUSIBILITY_FILE).read_text())
        assert data["metric"] == metric and data["measured_by"] == "tfgrade validate"
        assert (data["ceiling"] > data["reference"]) == (metric == "accuracy")


def _result(details: dict[str, object]) -> SubmissionResult:
    check = CheckResult(id="heldout_accuracy", title=learning.PUBLIC_DATA, status="passed", points=10,
                        max_points=10, hidden=True, feedback=learning.PUBLIC_DATA, details=details)
    exercise = ExerciseResult(exercise="ex06_diabetes_mlp", title=learning.PUBLIC_DATA, status="graded",
                              checks=(check,))
    return SubmissionResult(student="ana", exercises=(exercise,), isolation="basic", tool_version="t",
                            graded_at="2026-12-01T00:00:00Z")


def test_class_report_flags_them_and_the_score_stays() -> None:
    flags = learning.integrity_details(1.0, _split(True), ceiling=0.86, higher_is_better=True, metric="accuracy")
    result = _result(flags)
    assert {"implausible", "public_data"} <= set(student_flags(result))
    assert result.exercises[0].score == 10
    assert "implausible" not in student_flags(_result({}))
