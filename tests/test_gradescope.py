"""Gradescope results.json (validated against a JSON Schema) and the autograder.zip bundle."""

from __future__ import annotations

import json
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from report_fixtures import XSS, adversarial_student, class_results, failing_student, full_marks_student

from tfgrade.reports.gradescope import RESULTS_SCHEMA, build_gradescope_bundle, to_gradescope

VALIDATOR = Draft202012Validator(RESULTS_SCHEMA)


def test_schema_is_a_valid_schema() -> None:
    Draft202012Validator.check_schema(RESULTS_SCHEMA)


@pytest.mark.parametrize("result", class_results(), ids=lambda r: r.student[:12])
def test_every_fixture_validates(result) -> None:
    data = to_gradescope(result, 61.7)
    errors = sorted(VALIDATOR.iter_errors(data), key=str)
    assert not errors, errors[0].message
    json.dumps(data)                                                  # plain JSON, no dataclasses left


def test_schema_rejects_what_gradescope_would() -> None:
    data = to_gradescope(full_marks_student(), 3)
    bad_status = json.loads(json.dumps(data))
    bad_status["tests"][0]["status"] = "error"
    assert not VALIDATOR.is_valid(bad_status)
    bad_visibility = json.loads(json.dumps(data))
    bad_visibility["tests"][0]["visibility"] = "secret"
    assert not VALIDATOR.is_valid(bad_visibility)
    missing = json.loads(json.dumps(data))
    del missing["tests"][0]["max_score"]
    assert not VALIDATOR.is_valid(missing)


def test_scores_visibility_and_statuses() -> None:
    result = failing_student()
    data = to_gradescope(result, 12.4, lang="en")
    assert data["score"] == pytest.approx(result.score)
    assert data["execution_time"] == 12
    tests = data["tests"]
    assert sum(t["score"] for t in tests) == pytest.approx(result.score)
    assert sum(t["max_score"] for t in tests) == pytest.approx(result.max_score)
    hidden = [t for t in tests if t["visibility"] == "after_published"]
    n_hidden = sum(c.hidden for e in result.exercises for c in e.checks)
    assert len(hidden) == n_hidden > 0
    assert {t["visibility"] for t in tests} == {"visible", "after_published"}
    by_tag = {tuple(t["tags"]): t for t in tests}
    assert by_tag[("ex02_sequential", "first_layer")]["status"] == "failed"
    assert "layer 1: expected 32 units, found 16" in by_tag[("ex02_sequential", "first_layer")]["output"]
    assert by_tag[("ex01_tf1_add", "graph_mode")]["status"] == "passed"
    fit = by_tag[("ex04_regression", "fit_line")]
    assert fit["status"] == "failed" and "ValueError: operands could not be broadcast" in fit["output"]
    # the exercise that was not handed in still shows up
    missing = by_tag[("ex07_cnn",)]
    assert missing["status"] == "failed" and "found neither ex07_cnn.py" in missing["output"]


def test_not_applicable_leaves_the_total() -> None:
    data = to_gradescope(full_marks_student(), 1)
    gpu = next(t for t in data["tests"] if t["tags"] == ["ex05_matrix_power", "gpu_device"])
    assert gpu["max_score"] == 0 and gpu["score"] == 0 and gpu["status"] == "passed"
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(107)


def test_no_grader_traceback_for_students() -> None:
    text = json.dumps(to_gradescope(adversarial_student(), 1), ensure_ascii=False)
    assert "SECRET_HOLDOUT_PATH" not in text and "Traceback" not in text
    assert "El sandbox bloqueó una operación no permitida" in text
    assert XSS in text                                                # output_format "text": shown verbatim


def test_bundle_contents(tmp_path) -> None:
    out = build_gradescope_bundle(tmp_path / "autograder.zip")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert {"setup.sh", "run_autograder", "dist/README.txt"} <= set(names)
        for name in ("setup.sh", "run_autograder"):
            mode = zf.getinfo(name).external_attr >> 16
            assert stat.S_ISREG(mode) and mode & 0o111, name
        run = zf.read("run_autograder").decode()
        setup = zf.read("setup.sh").decode()
    assert "tfgrade grade-one /autograder/submission --gradescope /autograder/results/results.json" in run
    assert "/autograder/source/dist/tfgrade-*.whl" in setup and "[tf]" in setup
    for script in (run, setup):
        assert script.startswith("#!/usr/bin/env bash\n")
        assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


def test_bundle_with_a_wheel(tmp_path) -> None:
    wheel = tmp_path / "tfgrade-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK fake wheel")
    out = build_gradescope_bundle(tmp_path / "out" / "autograder.zip", dist=wheel)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("dist/tfgrade-0.1.0-py3-none-any.whl") == b"PK fake wheel"
        assert "dist/README.txt" not in zf.namelist()
    with pytest.raises(FileNotFoundError):
        build_gradescope_bundle(tmp_path / "x.zip", dist=tmp_path / "other.whl")


def test_the_bundle_carries_the_course_file_and_its_data(tmp_path: Path) -> None:
    """With --course, Gradescope's grade-one sees the same [deadline] and private data as `grade`."""
    import zipfile

    from tfgrade.cli import main
    from tfgrade.errors import TfgradeError
    from tfgrade.pack.course import Course
    from tfgrade.reports.gradescope import build_gradescope_bundle

    folder = tmp_path / "curso"
    (folder / "private").mkdir(parents=True)
    (folder / "private" / "pima.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    course = folder / "course.toml"
    course.write_text('[deadline]\ndue = 2026-11-30T23:59:00+01:00\npenalty_per_day = 0.1\n'
                      '[datasets.ex06_diabetes_mlp]\nsource = "private/pima.csv"\n', encoding="utf-8")
    out = tmp_path / "autograder.zip"
    assert main(["gradescope-bundle", "--out", str(out), "--course", str(course)]) == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        run = zf.read("run_autograder").decode()
        zf.extractall(tmp_path / "source")
    assert {"course/course.toml", "course/private/pima.csv"} <= names
    assert "--course /autograder/source/course/course.toml" in run
    unpacked = Course.load(config=tmp_path / "source" / "course" / "course.toml")
    assert unpacked.deadline is not None
    assert Path(unpacked.datasets["ex06_diabetes_mlp"]["source"]).read_text(encoding="utf-8") == "a,b\n1,2\n"
    plain = tmp_path / "plain.zip"
    build_gradescope_bundle(plain)
    assert "--course" not in zipfile.ZipFile(plain).read("run_autograder").decode()
    course.write_text('[datasets.ex06_diabetes_mlp]\nsource = "/srv/pima.csv"\n', encoding="utf-8")
    with pytest.raises(TfgradeError) as info:
        build_gradescope_bundle(tmp_path / "bad.zip", course=course)
    assert "outside the course file's folder" in info.value.msg.en
